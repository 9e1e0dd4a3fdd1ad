"""Receivers for the LMS's openedx-events signals."""
