"""URLs of the host: the admin and whatever the LMS plugins declare (ours included)."""
from django.contrib import admin
from django.urls import path
from edx_django_utils.plugins import get_plugin_url_patterns

from lms_host import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("host/enroll/<str:course_id>/", views.enroll, name="host-enroll"),
    *get_plugin_url_patterns("lms.djangoapp"),
]
