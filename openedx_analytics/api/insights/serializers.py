"""Our Python API's rows in the shapes of Insights' data API serializers (``analytics_data_api.v0.serializers``).

Pure functions: each takes rows of ``openedx_analytics.api`` (or ``api.compat``) and returns
dicts with Insights' field names, in Insights' field order, with its value formats
(``created`` and ``interval_*`` as ``%Y-%m-%dT%H%M%S``, dates as ``%Y-%m-%d``). Where Insights
had a field we have no figure for, the docs (docs/insights.md) say what it holds.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework import serializers

#: Insights' ``settings.DATETIME_FORMAT`` and ``DATE_FORMAT``.
DATETIME_FORMAT = "%Y-%m-%dT%H%M%S"
DATE_FORMAT = "%Y-%m-%d"
#: The modes an Insights enrollment-by-mode row always carries (``no-id-professional`` is merged into professional).
ENROLLMENT_MODES = ("audit", "credit", "honor", "professional", "verified", "masters")
PROFESSIONAL_NO_ID = "no-id-professional"
ACTIVITY_TYPES = ("any", "attempted_problem", "played_video", "posted_forum")
#: Insights' country of learners without one (``analytics_data_api.constants.country.UNKNOWN_COUNTRY``).
UNKNOWN_COUNTRY = {"alpha2": None, "alpha3": None, "name": "UNKNOWN"}
#: Separator of Insights' ``pipeline_video_id``: ``<course id>|<encoded module id>``.
PIPELINE_SEPARATOR = "|"


def stamp(when: dt.datetime | dt.date | None) -> str | None:
    """A time in Insights' format (a date is read as its midnight, UTC)."""
    if when is None:
        return None
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time())
    return when.strftime(DATETIME_FORMAT)


def day(date: dt.date) -> str:
    """A date in Insights' format."""
    return date.strftime(DATE_FORMAT)


def enrollment(course_id: str, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``CourseEnrollmentDailySerializer``: course_id, date, count, created."""
    return [{"course_id": course_id, "date": day(r["date"]), "count": r["count"],
             "created": stamp(r["last_updated"])} for r in rows]


def mode_count(modes: Mapping[str, Any], mode: str, field: str = "count") -> int:
    """Learners of ``mode`` (``no-id-professional`` counted as professional, as Insights merged them)."""
    total = int((modes.get(mode) or {}).get(field, 0) or 0)
    if mode == "professional":
        total += int((modes.get(PROFESSIONAL_NO_ID) or {}).get(field, 0) or 0)
    return total


def enrollment_mode(course_id: str, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``CourseEnrollmentModeDailySerializer``: course_id, date, count, cumulative_count, created, then the modes."""
    return [{"course_id": course_id, "date": day(r["date"]), "count": r["count"],
             "cumulative_count": r["cumulative_count"], "created": stamp(r["last_updated"]),
             **{mode: mode_count(r["modes"], mode) for mode in ENROLLMENT_MODES}} for r in rows]


def birth_year(course_id: str, date: dt.date, counts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``CourseEnrollmentByBirthYearSerializer`` rows, one per year and one (``birth_year`` null) for the unknown."""
    part = counts["birth_year"]
    cells = [*sorted(part["values"].items()), *([(None, part["unknown"])] if part["unknown"] else [])]
    return [{"course_id": course_id, "date": day(date), "birth_year": year, "count": n,
             "created": stamp(counts["computed_at"])} for year, n in cells]


def education(course_id: str, date: dt.date, counts: Mapping[str, Any], levels: Iterable[str]
              ) -> list[dict[str, Any]]:
    """``CourseEnrollmentByEducationSerializer`` rows, one per level held (``levels`` order) and the unknown (null)."""
    part = counts["education"]
    cells = [(level, part["values"][level]) for level in levels if part["values"].get(level)]
    if part["unknown"]:
        cells.append((None, part["unknown"]))
    return [{"course_id": course_id, "date": day(date), "education_level": level, "count": n,
             "created": stamp(counts["computed_at"])} for level, n in cells]


def gender(course_id: str, date: dt.date, counts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``CourseEnrollmentByGenderSerializer``: one row with female, male, other and unknown."""
    part = counts["gender"]
    values = part["values"]
    return [{"course_id": course_id, "date": day(date), "female": values.get("female", 0),
             "male": values.get("male", 0), "other": values.get("other", 0), "unknown": part["unknown"],
             "created": stamp(counts["computed_at"])}]


def country(code: str, name: str, alpha3: str | None) -> dict[str, Any]:
    """``CountrySerializer``: alpha2, alpha3, name."""
    return {"alpha2": code, "alpha3": alpha3, "name": name}


def location(course_id: str, date: dt.date, counts: Mapping[str, Any], describe: Any) -> list[dict[str, Any]]:
    """``CourseEnrollmentByCountrySerializer`` rows: the unknown first (Insights sorted by alpha2, null as ''),
    then each country; ``describe(code)`` gives its ``country`` object."""
    part = counts["country"]
    cells = [(UNKNOWN_COUNTRY, part["unknown"])] if part["unknown"] else []
    cells += [(describe(code), n) for code, n in sorted(part["values"].items())]
    return [{"date": day(date), "course_id": course_id, "country": where, "count": n,
             "created": stamp(counts["computed_at"])} for where, n in cells]


def activity(course_id: str, weeks: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``CourseActivityWeeklySerializer``: interval_start, interval_end, course_id, the four counts, created."""
    return [{"interval_start": stamp(w["interval_start"]), "interval_end": stamp(w["interval_end"]),
             "course_id": course_id, **{kind: w[kind] for kind in ACTIVITY_TYPES},
             "created": stamp(w["last_updated"])} for w in weeks]


def recent_activity(course_id: str, week: Mapping[str, Any], activity_type: str) -> dict[str, Any]:
    """``CourseActivityByWeekSerializer``: one week's count of one activity type."""
    return {"interval_start": stamp(week["interval_start"]), "interval_end": stamp(week["interval_end"]),
            "activity_type": activity_type, "count": week[activity_type], "course_id": course_id}


def problems(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``ProblemSerializer``: module_id, total_submissions, correct_submissions, part_ids, created.

    Insights' ``total_submissions`` summed each part's last responses over the parts, so it
    counted learners who answered, not submissions: our ``users_attempted`` is that figure.
    ``correct_submissions`` is ours: learners whose last submission earned credit.
    """
    return [{"module_id": p["problem_id"], "total_submissions": p["users_attempted"],
             "correct_submissions": p["correct_submissions"], "part_ids": list(p["part_ids"]),
             "created": stamp(p["last_updated"])} for p in rows]


#: The tag name our content tag values are given under: the one Insights' Learning Outcomes view reads.
TAG_NAME = "learning_outcome"


def problems_and_tags(rows: Iterable[Mapping[str, Any]], tags: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """``ProblemsAndTagsSerializer``: module_id, total_submissions, correct_submissions, tags, created.

    Only tagged problems, as Insights' table held them; their content tag values (sorted) under
    ``learning_outcome`` (we keep tag values, not the taxonomy's name).
    """
    return [{"module_id": p["problem_id"], "total_submissions": p["users_attempted"],
             "correct_submissions": p["correct_submissions"], "tags": {TAG_NAME: sorted(tags[p["problem_id"]])},
             "created": stamp(p["last_updated"])} for p in rows if tags.get(p["problem_id"])]


def answer_distribution(course_id: str, problem_id: str, rows: Iterable[Mapping[str, Any]],
                        created: dt.datetime | None) -> list[dict[str, Any]]:
    """``ConsolidatedAnswerDistributionSerializer`` rows (``value_id`` is the answer; no display name nor
    question text is held; an empty variant is null, as for a problem that is not randomized)."""
    return [{"course_id": course_id, "module_id": problem_id, "part_id": r["part_id"], "correct": r["correct"],
             "count": r["count"], "value_id": r["answer_value"], "answer_value": r["answer_value"],
             "problem_display_name": None, "question_text": None,
             "variant": None if _consolidated(r["variant"]) else (r["variant"] or None),
             "created": stamp(created), "consolidated_variant": _consolidated(r["variant"])} for r in rows]


def _consolidated(variant: str | None) -> bool:
    """Whether an answer row stands for several variants (we join their seeds with commas; Insights then
    gave ``variant`` null and ``consolidated_variant`` true)."""
    return bool(variant) and "," in str(variant)


def sequential_open(course_id: str, module_id: str, count: int, created: dt.datetime) -> list[dict[str, Any]]:
    """``SequentialOpenDistributionSerializer``: module_id, course_id, count, created."""
    return [{"module_id": module_id, "course_id": course_id, "count": count, "created": stamp(created)}]


def pipeline_video_id(course_id: str, video_id: str) -> str:
    """Insights' ``pipeline_video_id`` of a video: the course id and the module id, joined by ``|``."""
    return f"{course_id}{PIPELINE_SEPARATOR}{video_id}"


def videos(course_id: str, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``VideoSerializer``: pipeline_video_id, encoded_module_id, duration, segment_length, users_at_start,
    users_at_end, created."""
    return [{"pipeline_video_id": pipeline_video_id(course_id, v["video_id"]), "encoded_module_id": v["video_id"],
             "duration": v["duration"], "segment_length": v["segment_length"],
             "users_at_start": v["users_at_start"], "users_at_end": v["users_at_end"],
             "created": stamp(v["last_updated"])} for v in rows]


def timeline(rows: Iterable[Mapping[str, Any]], created: dt.datetime | None) -> list[dict[str, Any]]:
    """``VideoTimelineSerializer``: segment, num_users, num_views, created."""
    return [{"segment": s["segment"], "num_users": s["num_users"], "num_views": s["num_views"],
             "created": stamp(created)} for s in rows]


def course_summary(summary: Mapping[str, Any], meta: Mapping[str, Any], recent_count: int | None,
                   programs: list[str] | None) -> dict[str, Any]:
    """``CourseMetaSummaryEnrollmentSerializer``: one course's figures, its catalog facts and its modes."""
    modes = summary["enrollment_modes"] or {}
    out = {
        "course_id": summary["course_id"],
        "catalog_course_title": meta.get("catalog_course_title"),
        "catalog_course": meta.get("catalog_course"),
        "start_date": stamp(meta.get("start")), "end_date": stamp(meta.get("end")),
        "pacing_type": meta.get("pacing_type"), "availability": meta.get("availability"),
        "count": summary["count"], "cumulative_count": summary["cumulative_count"],
        "count_change_7_days": summary["count_change_7_days"],
        "recent_count_change": None if recent_count is None else summary["count"] - recent_count,
        "passing_users": summary["passing_users"],
        "enrollment_modes": {mode: {"count": mode_count(modes, mode),
                                    "cumulative_count": mode_count(modes, mode, "cumulative_count"),
                                    "count_change_7_days": 0, "passing_users": 0}
                             for mode in ENROLLMENT_MODES},
        "created": stamp(summary["last_updated"]),
    }
    if programs is not None:
        out["programs"] = programs
    return out


def select(row: dict[str, Any], fields: list[str] | None, exclude: list[str]) -> dict[str, Any]:
    """Insights' ``DynamicFieldsModelSerializer``: keep ``fields`` only (all when None), drop ``exclude``;
    an excluded count field goes from each mode's figures too."""
    out = {k: v for k, v in row.items() if (fields is None or k in fields) and k not in exclude}
    if isinstance(out.get("enrollment_modes"), dict):
        out["enrollment_modes"] = {mode: {k: v for k, v in figures.items() if k not in exclude}
                                   for mode, figures in out["enrollment_modes"].items()}
    return out


# ---------------------------------------------------------------- the same shapes, described for the schema


class _Schema(serializers.Serializer):
    """A response shape for the OpenAPI schema only (the views build plain dicts with the functions above)."""


def _stamp(help_text: str = "When the figures were computed (Insights' format, YYYY-MM-DDTHHMMSS, UTC).") -> Any:
    return serializers.CharField(allow_null=True, help_text=help_text)


class EnrollmentSchema(_Schema):
    """``CourseEnrollmentDailySerializer``."""

    course_id = serializers.CharField()
    date = serializers.CharField(help_text="YYYY-MM-DD")
    count = serializers.IntegerField(help_text="Learners enrolled at the end of the day.")
    created = _stamp()


class EnrollmentModeSchema(EnrollmentSchema):
    """``CourseEnrollmentModeDailySerializer``."""

    cumulative_count = serializers.IntegerField(help_text="Learners ever enrolled up to the end of the day.")
    audit = serializers.IntegerField()
    credit = serializers.IntegerField()
    honor = serializers.IntegerField()
    professional = serializers.IntegerField(help_text="no-id-professional included.")
    verified = serializers.IntegerField()
    masters = serializers.IntegerField()


class BirthYearSchema(EnrollmentSchema):
    """``CourseEnrollmentByBirthYearSerializer``."""

    birth_year = serializers.IntegerField(allow_null=True, help_text="null: unknown.")


class EducationSchema(EnrollmentSchema):
    """``CourseEnrollmentByEducationSerializer``."""

    education_level = serializers.CharField(allow_null=True, help_text="Insights' level code; null: unknown.")


class GenderSchema(_Schema):
    """``CourseEnrollmentByGenderSerializer``."""

    course_id = serializers.CharField()
    date = serializers.CharField()
    female = serializers.IntegerField()
    male = serializers.IntegerField()
    other = serializers.IntegerField()
    unknown = serializers.IntegerField()
    created = _stamp()


class CountrySchema(_Schema):
    """``CountrySerializer``."""

    alpha2 = serializers.CharField(allow_null=True)
    alpha3 = serializers.CharField(allow_null=True)
    name = serializers.CharField()


class LocationSchema(EnrollmentSchema):
    """``CourseEnrollmentByCountrySerializer``."""

    country = CountrySchema()


class ActivitySchema(_Schema):
    """``CourseActivityWeeklySerializer``."""

    interval_start = serializers.CharField()
    interval_end = serializers.CharField()
    course_id = serializers.CharField()
    any = serializers.IntegerField()
    attempted_problem = serializers.IntegerField()
    played_video = serializers.IntegerField()
    posted_forum = serializers.IntegerField()
    created = _stamp()


class RecentActivitySchema(_Schema):
    """``CourseActivityByWeekSerializer``."""

    interval_start = serializers.CharField()
    interval_end = serializers.CharField()
    activity_type = serializers.CharField()
    count = serializers.IntegerField()
    course_id = serializers.CharField()


class ProblemSchema(_Schema):
    """``ProblemSerializer``."""

    module_id = serializers.CharField()
    total_submissions = serializers.IntegerField(help_text="Learners who submitted (Insights' figure).")
    correct_submissions = serializers.IntegerField(help_text="Learners whose last answer was correct.")
    part_ids = serializers.ListField(child=serializers.CharField())
    created = _stamp()


class ProblemTagsSchema(_Schema):
    """``ProblemsAndTagsSerializer``."""

    module_id = serializers.CharField()
    total_submissions = serializers.IntegerField(help_text="Learners who submitted.")
    correct_submissions = serializers.IntegerField(help_text="Learners whose last answer was correct.")
    tags = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                 help_text="learning_outcome: the problem's content tag values.")
    created = _stamp()


class AnswerSchema(_Schema):
    """``ConsolidatedAnswerDistributionSerializer``."""

    course_id = serializers.CharField()
    module_id = serializers.CharField()
    part_id = serializers.CharField()
    correct = serializers.BooleanField(allow_null=True)
    count = serializers.IntegerField(help_text="Learners whose last answer this is.")
    value_id = serializers.CharField(allow_null=True, allow_blank=True)
    answer_value = serializers.CharField(allow_null=True, allow_blank=True)
    problem_display_name = serializers.CharField(allow_null=True, help_text="null: not held.")
    question_text = serializers.CharField(allow_null=True, help_text="null: not held.")
    variant = serializers.CharField(allow_null=True, allow_blank=True)
    created = _stamp()
    consolidated_variant = serializers.BooleanField()


class SequentialOpenSchema(_Schema):
    """``SequentialOpenDistributionSerializer``."""

    module_id = serializers.CharField()
    course_id = serializers.CharField()
    count = serializers.IntegerField()
    created = _stamp()


class VideoSchema(_Schema):
    """``VideoSerializer``."""

    pipeline_video_id = serializers.CharField(help_text="<course id>|<video id>")
    encoded_module_id = serializers.CharField(help_text="The video's id (its usage key).")
    duration = serializers.IntegerField(allow_null=True)
    segment_length = serializers.IntegerField()
    users_at_start = serializers.IntegerField()
    users_at_end = serializers.IntegerField()
    created = _stamp()


class SegmentSchema(_Schema):
    """``VideoTimelineSerializer``."""

    segment = serializers.IntegerField()
    num_users = serializers.IntegerField()
    num_views = serializers.IntegerField()
    created = _stamp()


class ReportSchema(_Schema):
    """Insights' report download details (``get_course_report_download_details``)."""

    course_id = serializers.CharField(help_text="File-name safe.")
    report_name = serializers.CharField()
    download_url = serializers.URLField()


class ModeFiguresSchema(_Schema):
    """One mode's figures in a course summary."""

    count = serializers.IntegerField(required=False)
    cumulative_count = serializers.IntegerField(required=False)
    count_change_7_days = serializers.IntegerField(required=False, help_text="0: not held per mode.")
    passing_users = serializers.IntegerField(required=False, help_text="0: not held per mode.")


class CourseSummarySchema(_Schema):
    """``CourseMetaSummaryEnrollmentSerializer`` (fields may be narrowed by ``fields`` and ``exclude``)."""

    course_id = serializers.CharField(required=False)
    catalog_course_title = serializers.CharField(required=False, allow_null=True)
    catalog_course = serializers.CharField(required=False, allow_null=True)
    start_date = serializers.CharField(required=False, allow_null=True)
    end_date = serializers.CharField(required=False, allow_null=True)
    pacing_type = serializers.CharField(required=False, allow_null=True)
    availability = serializers.CharField(required=False, allow_null=True)
    count = serializers.IntegerField(required=False)
    cumulative_count = serializers.IntegerField(required=False)
    count_change_7_days = serializers.IntegerField(required=False)
    recent_count_change = serializers.IntegerField(required=False, allow_null=True)
    passing_users = serializers.IntegerField(required=False)
    enrollment_modes = serializers.DictField(child=ModeFiguresSchema(), required=False)
    created = serializers.CharField(required=False, allow_null=True)
    programs = serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text="Only with ?programs=: we hold no programs (empty).")


class CourseTotalsSchema(_Schema):
    """Insights' ``course_totals``."""

    count = serializers.IntegerField(allow_null=True)
    cumulative_count = serializers.IntegerField(allow_null=True)
    count_change_7_days = serializers.IntegerField(allow_null=True)
    verified_enrollment = serializers.IntegerField(allow_null=True)


class ErrorSchema(_Schema):
    """Insights' error body."""

    error_code = serializers.CharField()
    developer_message = serializers.CharField()


class CourseListForm(_Schema):
    """The form a POST to ``course_summaries/`` or ``course_totals/`` sends (Insights' client, for many ids)."""

    course_ids = serializers.ListField(child=serializers.CharField(), required=False)
    fields = serializers.ListField(child=serializers.CharField(), required=False)
    exclude = serializers.ListField(child=serializers.CharField(), required=False)
    recent_date = serializers.CharField(required=False)
    programs = serializers.CharField(required=False)
