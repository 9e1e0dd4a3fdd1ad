"""Admin pages for the stub LMS tables, so the demo's data can be browsed and edited."""
from __future__ import annotations

from config_models.admin import KeyedConfigurationModelAdmin
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models


class CourseListFilter(admin.SimpleListFilter):
    """Filter by course, with course ids as plain strings in the query string.

    Django's default filter for a foreign key puts the related primary keys into the URL as
    they are; a course key is an object ``urlencode`` cannot encode, so that page failed.
    """

    title = "course"
    parameter_name = "course"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Every course the LMS knows, by id, labelled with its name."""
        return [(str(course.id), f"{course.display_name or course.id}")
                for course in models.CourseOverview.objects.order_by("id")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        """Rows of the chosen course (an id that is not a course key matches nothing)."""
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(course_id=CourseKey.from_string(value))
        except InvalidKeyError:
            return queryset.none()


@admin.register(models.CourseOverview)
class CourseOverviewAdmin(admin.ModelAdmin):
    """Courses."""

    list_display = ("id", "display_name", "org")


@admin.register(models.CourseEnrollment)
class CourseEnrollmentAdmin(admin.ModelAdmin):
    """Enrollments (saving one writes a history row)."""

    list_display = ("user", "course", "mode", "is_active", "created")
    list_filter = (CourseListFilter, "mode", "is_active")


@admin.register(models.HistoricalCourseEnrollment)
class HistoricalCourseEnrollmentAdmin(admin.ModelAdmin):
    """Enrollment history."""

    list_display = ("history_date", "history_type", "user", "course", "mode", "is_active")
    list_filter = (CourseListFilter, "history_type")


@admin.register(models.CourseAccessRole)
class CourseAccessRoleAdmin(admin.ModelAdmin):
    """Course and org roles (leave the course empty for an org-wide role)."""

    list_display = ("user", "role", "org", "course_id")


@admin.register(models.PersistentCourseGrade)
class PersistentCourseGradeAdmin(admin.ModelAdmin):
    """Course grades."""

    list_display = ("user_id", "course_id", "percent_grade", "letter_grade", "passed_timestamp", "modified")


@admin.register(models.GeneratedCertificate)
class GeneratedCertificateAdmin(admin.ModelAdmin):
    """Certificates."""

    list_display = ("user", "course_id", "status", "mode", "modified_date")


@admin.register(models.StudentModule)
class StudentModuleAdmin(admin.ModelAdmin):
    """Learner XBlock state."""

    list_display = ("student", "module_state_key", "module_type", "grade", "max_grade", "modified")


# The LMS's "Waffle flag course/org overrides" admin pages (waffle_utils), for the rollout flags' overrides.
admin.site.register(models.WaffleFlagCourseOverrideModel, KeyedConfigurationModelAdmin)
admin.site.register(models.WaffleFlagOrgOverrideModel, KeyedConfigurationModelAdmin)
