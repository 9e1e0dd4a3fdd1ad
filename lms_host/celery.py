"""The host's Celery app, configured from Django settings (``CELERY_*``), as the LMS does."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")

app = Celery("lms_host")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["openedx_analytics"])
