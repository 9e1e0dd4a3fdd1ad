"""Admin pages for the stub LMS tables, so the demo's data can be browsed and edited."""
from django.contrib import admin

from lms_host.stub import models


@admin.register(models.CourseOverview)
class CourseOverviewAdmin(admin.ModelAdmin):
    """Courses."""

    list_display = ("id", "display_name", "org")


@admin.register(models.CourseEnrollment)
class CourseEnrollmentAdmin(admin.ModelAdmin):
    """Enrollments (saving one writes a history row)."""

    list_display = ("user", "course", "mode", "is_active", "created")
    list_filter = ("course", "mode", "is_active")


@admin.register(models.HistoricalCourseEnrollment)
class HistoricalCourseEnrollmentAdmin(admin.ModelAdmin):
    """Enrollment history."""

    list_display = ("history_date", "history_type", "user", "course", "mode", "is_active")
    list_filter = ("course", "history_type")


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
