"""Tutor plugin for openedx-analytics (see ``plugin.py``)."""
