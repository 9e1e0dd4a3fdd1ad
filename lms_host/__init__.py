"""A small LMS-like host for tests and the demo: loads openedx-analytics exactly as the LMS does."""
from lms_host.celery import app as celery_app

__all__ = ["celery_app"]
