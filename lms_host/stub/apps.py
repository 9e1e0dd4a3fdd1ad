"""AppConfig of the stub LMS app."""
from django.apps import AppConfig


class StubLmsConfig(AppConfig):
    """Stub of the LMS tables openedx_analytics.lms reads (enrollments, roles, grades, certificates...)."""

    name = "lms_host.stub"
    label = "lms_stub"
    default_auto_field = "django.db.models.AutoField"
