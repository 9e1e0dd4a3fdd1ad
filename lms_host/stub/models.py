"""Stand-ins for the edx-platform tables that ``openedx_analytics.lms`` reads.

Each model keeps the name and the field names of its edx-platform original (the ones
the plugin reads, no more), so its queries are the same inside the LMS and here:

- ``CourseOverview``: openedx.core.djangoapps.content.course_overviews.models
- ``CourseEnrollment`` and its history ``HistoricalCourseEnrollment``:
  common.djangoapps.student.models (the LMS builds the history with django-simple-history;
  here ``CourseEnrollment.save`` writes the same rows itself)
- ``CourseAccessRole``: common.djangoapps.student.models (read by student.roles)
- ``PersistentCourseGrade``: lms.djangoapps.grades.models
- ``GeneratedCertificate``: lms.djangoapps.certificates.models
- ``StudentModule``: lms.djangoapps.courseware.models
- ``WaffleFlagCourseOverrideModel`` and ``WaffleFlagOrgOverrideModel``:
  openedx.core.djangoapps.waffle_utils.models (course and org overrides of waffle flags)
- ``UserProfile``: common.djangoapps.student.models (table ``auth_userprofile``; the
  demographic columns the learners breakdowns read, no more)
- ``CourseBlock`` and ``CourseGradingPolicy``: the course's published content as the LMS
  holds it in its block structure and its course block (no single LMS table: see each)

Timestamps the LMS sets automatically (``modified`` and friends) default to now but can
be given, so the demo can lay history out over past days.
"""
from __future__ import annotations

import uuid
from typing import Any

from config_models.models import ConfigurationModel
from django.conf import settings
from django.db import models
from django.utils import timezone
from opaque_keys.edx.django.models import CourseKeyField, UsageKeyField


class CourseOverview(models.Model):
    """A course the LMS knows (id, display name, org).

    .. no_pii:
    """

    id = CourseKeyField(max_length=255, primary_key=True)
    display_name = models.TextField(null=True)
    org = models.TextField(max_length=255, db_index=True)
    start = models.DateTimeField(null=True, blank=True)
    #: When the course closes (None: open-ended), as the LMS's ``CourseOverview.end``.
    end = models.DateTimeField(null=True, blank=True)
    #: Self-paced (True) or instructor-paced, as the LMS's ``CourseOverview.self_paced``.
    self_paced = models.BooleanField(default=False)
    #: The lowest grade that passes (the LMS copies the smallest grade cutoff here on each publish).
    lowest_passing_grade = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    #: Set on every save, as the LMS's ``TimeStampedModel`` does: a publish rewrites the overview.
    modified = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.id} ({self.display_name})"


class CourseEnrollment(models.Model):
    """A learner's enrollment in a course: its current mode and active state.

    Saving writes a ``HistoricalCourseEnrollment`` row, as django-simple-history does in the
    LMS; set ``_history_date`` on the instance to date that row in the past.

    .. pii: The LMS user id of the learner (as in edx-platform, where the LMS's retirement clears it).
    .. pii_types: id
    .. pii_retirement: local_api
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    course = models.ForeignKey(CourseOverview, db_constraint=False, on_delete=models.DO_NOTHING)
    created = models.DateTimeField(default=timezone.now, null=True, db_index=True)
    is_active = models.BooleanField(default=True)
    mode = models.CharField(default="audit", max_length=100)

    class Meta:
        unique_together = (("user", "course"),)

    def __str__(self) -> str:
        return f"{self.user_id} in {self.course_id}: {self.mode} active={self.is_active}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, then record the new state in the history table (``+`` created, ``~`` changed)."""
        created = self.pk is None
        super().save(*args, **kwargs)
        HistoricalCourseEnrollment.objects.create(
            id=self.pk, user_id=self.user_id, course_id=self.course_id, created=self.created,
            is_active=self.is_active, mode=self.mode, history_type="+" if created else "~",
            history_date=getattr(self, "_history_date", None) or timezone.now(),
        )


class HistoricalCourseEnrollment(models.Model):
    """One state of an enrollment (django-simple-history's shape: ``history_*`` columns).

    .. pii: The LMS user id of the learner (as in edx-platform, where the LMS's retirement clears it).
    .. pii_types: id
    .. pii_retirement: local_api
    """

    id = models.IntegerField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, db_constraint=False, on_delete=models.DO_NOTHING,
                             related_name="+")
    course = models.ForeignKey(CourseOverview, db_constraint=False, on_delete=models.DO_NOTHING,
                               related_name="+")
    created = models.DateTimeField(null=True)
    is_active = models.BooleanField(default=True)
    mode = models.CharField(max_length=100)
    history_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    history_date = models.DateTimeField(db_index=True)
    history_change_reason = models.CharField(max_length=100, null=True)
    history_type = models.CharField(max_length=1, choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")])

    class Meta:
        ordering = ("-history_date",)

    def __str__(self) -> str:
        return f"{self.history_type} {self.user_id} in {self.course_id} at {self.history_date}"


class UserProfile(models.Model):
    """A user's self-reported profile, in the LMS's own table and columns (``auth_userprofile``).

    Every column may be blank, as in the LMS: registration asks for none of them. ``gender``
    holds ``m``/``f``/``o``, ``level_of_education`` the LMS's codes (``p``, ``m``, ``b``, ``a``,
    ``hs``, ``jhs``, ``el``, ``none``, ``other``, and the older ``p_se``/``p_oth``), ``country``
    an ISO 3166 alpha-2 code (the LMS's ``CountryField`` stores the same text).

    .. pii: The learner's year of birth, gender, level of education and country (as in
       edx-platform, where the LMS's retirement clears them).
    .. pii_types: birth_date, gender, other, location
    .. pii_retirement: local_api
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, unique=True, db_index=True, related_name="profile",
                                on_delete=models.CASCADE)
    year_of_birth = models.IntegerField(blank=True, null=True, db_index=True)
    gender = models.CharField(blank=True, null=True, max_length=6, db_index=True)
    level_of_education = models.CharField(blank=True, null=True, max_length=6, db_index=True)
    country = models.CharField(blank=True, null=True, max_length=2)

    class Meta:
        db_table = "auth_userprofile"

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class CourseAccessRole(models.Model):
    """A user's role in a course, or in every course of an org when ``course_id`` is empty.

    .. pii: The LMS user id of the learner (as in edx-platform, where the LMS's retirement clears it).
    .. pii_types: id
    .. pii_retirement: local_api
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    org = models.CharField(max_length=64, db_index=True, blank=True)
    course_id = CourseKeyField(max_length=255, db_index=True, blank=True)
    role = models.CharField(max_length=64, db_index=True)

    class Meta:
        unique_together = ("user", "org", "course_id", "role")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.role} of {self.course_id or self.org}"


class PersistentCourseGrade(models.Model):
    """A learner's current course grade; a passed timestamp once they passed.

    .. pii: The LMS user id of the learner (as in edx-platform, where the LMS's retirement clears it).
    .. pii_types: id
    .. pii_retirement: local_api
    """

    user_id = models.IntegerField(db_index=True)
    course_id = CourseKeyField(max_length=255)
    percent_grade = models.FloatField()
    letter_grade = models.CharField(max_length=255, blank=True)
    passed_timestamp = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    modified = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        unique_together = [("course_id", "user_id")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.course_id}: {self.percent_grade}"


class GeneratedCertificate(models.Model):
    """A learner's certificate in a course, with its status and mode.

    The LMS row also holds the learner's name; the stub leaves it out.

    .. pii: The LMS user id of the learner (as in edx-platform, where the LMS's retirement clears it).
    .. pii_types: id
    .. pii_retirement: local_api
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    course_id = CourseKeyField(max_length=255, blank=True, default=None)
    grade = models.CharField(max_length=5, blank=True, default="")
    status = models.CharField(max_length=32, default="unavailable")
    mode = models.CharField(max_length=32, default="honor")
    created_date = models.DateTimeField(default=timezone.now)
    modified_date = models.DateTimeField(default=timezone.now)

    class Meta:
        unique_together = (("user", "course_id"),)

    def __str__(self) -> str:
        return f"{self.user_id} in {self.course_id}: {self.status} ({self.mode})"


class StudentModule(models.Model):
    """A learner's last state of one XBlock (for problems: attempts, answers, correctness).

    .. pii: The LMS user id of the learner (as in edx-platform, where the LMS's retirement clears it).
    .. pii_types: id
    .. pii_retirement: local_api
    """

    module_type = models.CharField(max_length=32, db_index=True)
    module_state_key = UsageKeyField(max_length=255, db_column="module_id")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, db_constraint=False, on_delete=models.CASCADE)
    course_id = CourseKeyField(max_length=255, db_index=True)
    state = models.TextField(null=True, blank=True)
    grade = models.FloatField(null=True, blank=True, db_index=True)
    max_grade = models.FloatField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    modified = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        unique_together = (("student", "module_state_key", "course_id"),)

    def __str__(self) -> str:
        return f"{self.student_id} on {self.module_state_key}"


OVERRIDE_CHOICES = (("on", "Force On"), ("off", "Force Off"))


class WaffleFlagCourseOverrideModel(ConfigurationModel):
    """A per-course override of a waffle flag (openedx.core.djangoapps.waffle_utils.models).

    .. no_pii:
    """

    KEY_FIELDS = ("waffle_flag", "course_id")

    waffle_flag = models.CharField(max_length=255, db_index=True)
    course_id = CourseKeyField(max_length=255, db_index=True)
    override_choice = models.CharField(choices=OVERRIDE_CHOICES, default="on", max_length=3)
    note = models.TextField(blank=True)


class WaffleFlagOrgOverrideModel(ConfigurationModel):
    """A per-organization override of a waffle flag (openedx.core.djangoapps.waffle_utils.models).

    .. no_pii:
    """

    KEY_FIELDS = ("waffle_flag", "org")

    waffle_flag = models.CharField(max_length=255, db_index=True)
    org = models.CharField(max_length=255, db_index=True)
    override_choice = models.CharField(choices=OVERRIDE_CHOICES, default="on", max_length=3)
    note = models.TextField(blank=True)


class CourseBlock(models.Model):
    """One block of a course's outline, standing in for the LMS's block structure (modulestore).

    ``openedx_analytics.lms.courses.course_outline`` reads these rows outside the LMS to give the analytics page
    display names, course order and the section/subsection of each video and problem, as it
    reads the course's block structure inside the LMS. One row per block: the course root
    (``block_type`` ``course``, empty ``parent``), chapters (sections), sequentials
    (subsections), verticals and leaf blocks (``video``, ``problem``...). ``usage_key`` is the
    block's usage key as text, exactly as analytics names it (``block-v1:...+type@video+block@x``
    for new courses, ``i4x://Org/Num/video/x`` for old ``Org/Num/Run`` ones). ``position``
    orders the children of one parent. Whoever fills the demo data (``seed_demo``) writes these
    rows; without any, the page shows block ids.

    .. no_pii:
    """

    course_id = CourseKeyField(max_length=255, db_index=True)
    usage_key = models.CharField(max_length=255, unique=True)
    block_type = models.CharField(max_length=64)
    display_name = models.CharField(max_length=255, blank=True)
    parent = models.CharField(max_length=255, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    #: The XBlock fields of the same names: a graded subsection and its assignment type (``format``).
    graded = models.BooleanField(default=False)
    format = models.CharField(max_length=64, blank=True, default="")
    #: Content tags of the block (openedx-learning tagging), values joined by ``|``: learning outcomes.
    tags = models.CharField(max_length=255, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.usage_key} ({self.display_name})"


class CourseGradingPolicy(models.Model):
    """A course's grading policy, as the course block's ``grading_policy`` gives it in the LMS.

    ``grader`` is the ``GRADER`` list (each ``type``, ``min_count``, ``drop_count``,
    ``short_label``, ``weight``) and ``grade_cutoffs`` the ``GRADE_CUTOFFS`` mapping (letter to
    lowest grade, 0.0-1.0), exactly as Studio stores them.

    .. no_pii:
    """

    course_id = CourseKeyField(max_length=255, unique=True)
    grader = models.JSONField(default=list)
    grade_cutoffs = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"grading policy of {self.course_id}"
