"""Management commands of openedx-analytics."""
