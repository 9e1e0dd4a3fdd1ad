"""URLs of the host: its front door (login, course list, course home, log-out), the stand-in
instructor dashboard, the admin, whatever the LMS plugins declare (ours included), and
LMS-like error pages."""
from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.templatetags.static import static
from django.urls import path, re_path
from django.views.generic import RedirectView
from edx_django_utils.plugins import get_plugin_url_patterns

from lms_host import home, instructor_dashboard, views

urlpatterns = [
    path("", home.courses, name="host-courses"),
    path("accounts/login/", home.HostLoginView.as_view(), name="host-login"),
    path("accounts/logout/", LogoutView.as_view(next_page="host-login"), name="host-logout"),
    # The LMS's log-out page: a GET link, as in the LMS (its URL name is "logout").
    path("logout", home.log_out, name="logout"),
    # The LMS's URL of the legacy dashboard: /courses/<course id>/instructor (old ids have slashes),
    # under the LMS's own URL name.
    re_path(r"^courses/(?P<course_id>.+)/instructor/?$", instructor_dashboard.instructor_dashboard,
            name="instructor_dashboard"),
    # The course itself (the LMS's course_root, which opens the course home).
    re_path(r"^courses/(?P<course_id>.+)/$", home.course_home, name="course_root"),
    # Browsers ask for it on every page, error pages included.
    path("favicon.ico", RedirectView.as_view(url=static("lms_host/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("host/enroll/<str:course_id>/", views.enroll, name="host-enroll"),
    *get_plugin_url_patterns("lms.djangoapp"),
]

# Error pages like the LMS's: the page frame, what happened, and a way back (Django's default
# pages have neither); views.py says when they are served.
handler403 = "lms_host.errors.forbidden"
handler404 = "lms_host.errors.not_found"
