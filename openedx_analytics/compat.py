"""The one module that touches edx-platform: courses, outlines, roles, flag overrides and LMS history.

Inside the LMS every function reads the real edx-platform models. In a host without
them (tests, the demo) it reads the stub app ``lms_host.stub`` when that app is
installed, whose models carry the same names and fields, so the queries are the same.
Anywhere else it raises ``NotAvailable``; ``course_flag_override`` returns None instead.

The ``iter_*_events`` functions turn LMS tables into raw events of the shapes the
normalizer accepts, so a backfill takes them in exactly like live events. They stream in
keyset order (batches of ``BATCH_SIZE`` after the last key seen, never OFFSET pages) and
filter by course ids, orgs and a time window; course ids and orgs both narrow the set.
Given a ``Cursor``, they start after the last key it holds and record each key they read.
Orgs are matched through the LMS's course overviews, so history of a course the LMS no
longer knows is reached by its course id only.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from opaque_keys import InvalidKeyError
from opaque_keys.edx.django.models import CourseKeyField
from opaque_keys.edx.keys import CourseKey
from opaque_keys.edx.locator import CourseLocator, LibraryLocator

log = logging.getLogger(__name__)

#: The course roles that may read a course's analytics. ``limited_staff`` is course staff to the
#: LMS (``CourseLimitedStaffRole``'s base role is ``staff``): it sees analytics like staff.
ANALYTICS_ROLES = ("staff", "limited_staff", "instructor", "data_researcher")
#: Up to this many courses, their flag overrides are looked up by course id; beyond, all the flag's.
FEW_COURSES = 100
#: Rows read per query by the history iterators.
BATCH_SIZE = 1000
#: ``event_source`` of the events built from LMS tables.
EVENT_SOURCE = "lms_table"

_LMS_APP = "common.djangoapps.student"
_STUB_APP = "lms_host.stub"

ENROLLMENT_CHANGED = "org.openedx.learning.course.enrollment.changed.v1"
GRADE_CHANGED = "org.openedx.learning.course.persistent_grade_summary.changed.v1"
CERTIFICATE_CHANGED = "org.openedx.learning.certificate.changed.v1"


class NotAvailable(Exception):
    """Raised when LMS data is asked for in a process that has neither the LMS nor the stub app."""


def lms_available() -> bool:
    """True inside the LMS (its student app is installed), whatever else is installed."""
    return apps.is_installed(_LMS_APP)


def _models() -> SimpleNamespace:
    """The model classes compat reads: the LMS's, else the stub's; else ``NotAvailable``."""
    if lms_available():
        from common.djangoapps.student.models import CourseAccessRole, CourseEnrollment
        from lms.djangoapps.certificates.models import GeneratedCertificate
        from lms.djangoapps.courseware.models import StudentModule
        from lms.djangoapps.grades.models import PersistentCourseGrade
        from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

        return SimpleNamespace(
            CourseOverview=CourseOverview, CourseEnrollment=CourseEnrollment,
            HistoricalCourseEnrollment=CourseEnrollment.history.model, CourseAccessRole=CourseAccessRole,
            PersistentCourseGrade=PersistentCourseGrade, GeneratedCertificate=GeneratedCertificate,
            StudentModule=StudentModule,
        )
    if apps.is_installed(_STUB_APP):
        from lms_host.stub import models

        return SimpleNamespace(**{
            name: getattr(models, name)
            for name in ("CourseOverview", "CourseEnrollment", "HistoricalCourseEnrollment", "CourseAccessRole",
                         "PersistentCourseGrade", "GeneratedCertificate", "StudentModule")
        })
    raise NotAvailable("LMS data is not available outside the LMS (and no stub LMS app is installed)")


def _key(course_key: Any) -> CourseKey:
    if isinstance(course_key, CourseKey):
        return course_key
    try:
        return CourseKey.from_string(str(course_key))
    except InvalidKeyError:
        raise ValueError(f"not a course key: {str(course_key)[:100]!r}") from None


# ---------------------------------------------------------------- courses


def course_exists(course_key: Any) -> bool:
    """Whether the LMS knows this course (it has a course overview)."""
    return _models().CourseOverview.objects.filter(id=_key(course_key)).exists()


def course_display_name(course_key: Any) -> str:
    """The course's display name for headings; its id when the LMS has no name for it."""
    key = _key(course_key)
    name = _models().CourseOverview.objects.filter(id=key).values_list("display_name", flat=True).first()
    return name or str(key)


#: Block types of the outline levels the analytics page names: section and subsection.
SECTION_TYPE = "chapter"
SUBSECTION_TYPE = "sequential"


def _walk_outline(root: str, children: dict[str, list[str]], names: dict[str, str], types: dict[str, str]
                  ) -> dict[str, dict[str, Any]]:
    """Every block under ``root`` in course order, with its name, type and enclosing section and subsection.

    Depth first, children in their order; a block reached twice (a DAG) keeps its first place.
    """
    outline: dict[str, dict[str, Any]] = {}
    stack: list[tuple[str, str, str]] = [(root, "", "")]
    while stack:
        key, section, subsection = stack.pop()
        if key in outline:
            continue
        kind = types.get(key, "")
        name = names.get(key) or ""
        outline[key] = {"display_name": name, "block_type": kind, "section": section,
                        "subsection": subsection, "position": len(outline)}
        if kind == SECTION_TYPE:
            section, subsection = name, ""
        elif kind == SUBSECTION_TYPE:
            subsection = name
        stack.extend((child, section, subsection) for child in reversed(children.get(key, [])))
    return outline


def _lms_outline(key: CourseKey) -> dict[str, dict[str, Any]]:
    from openedx.core.djangoapps.content.block_structure.api import get_course_in_cache

    blocks = get_course_in_cache(key)
    root = blocks.root_block_usage_key
    children: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    types: dict[str, str] = {}
    for block in blocks.topological_traversal():
        text = str(block)
        types[text] = block.block_type
        names[text] = blocks.get_xblock_field(block, "display_name") or ""
        children[text] = [str(child) for child in blocks.get_children(block)]
    return _walk_outline(str(root), children, names, types)


def _stub_outline(key: CourseKey) -> dict[str, dict[str, Any]]:
    from lms_host.stub.models import CourseBlock

    rows = list(CourseBlock.objects.filter(course_id=key).order_by("position", "id").values_list(
        "usage_key", "block_type", "display_name", "parent"))
    children: dict[str, list[str]] = {}
    for usage_key, _kind, _name, parent in rows:
        children.setdefault(parent, []).append(usage_key)
    names = {row[0]: row[2] for row in rows}
    types = {row[0]: row[1] for row in rows}
    roots = [usage_key for usage_key, kind, _name, parent in rows if not parent]
    outline: dict[str, dict[str, Any]] = {}
    for root in roots:
        for block, info in _walk_outline(root, children, names, types).items():
            outline.setdefault(block, {**info, "position": len(outline)})
    return outline


def course_outline(course_key: Any) -> dict[str, dict[str, Any]]:
    """The course's blocks by usage key (as text), in course order: display name, type, section, subsection.

    Each value is ``{"display_name", "block_type", "section", "subsection", "position"}``,
    ``position`` counting from 0 in course order. Inside the LMS this reads the course's
    cached block structure (what the course outline and the grades use); outside it, the
    stub app's ``CourseBlock`` rows. Names are for people only: an empty dict (unknown
    course, no block structure yet, anything failing) just means ids are shown, so this
    never raises into a request; ``NotAvailable`` only where no LMS is at all.
    """
    key = _key(course_key)
    if not lms_available():
        if not apps.is_installed(_STUB_APP):
            raise NotAvailable("course outlines are not available outside the LMS (and no stub LMS app)")
        return _stub_outline(key)
    try:
        return _lms_outline(key)
    except Exception:  # noqa: BLE001 - names are optional; the page must still answer
        log.exception("openedx_analytics: could not read the block structure of %s", key)
        return {}


# ---------------------------------------------------------------- roles


def _can_hold_roles(user: Any) -> bool:
    # As the LMS's RoleBase.has_user: anonymous and deactivated users hold no role.
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


@lru_cache(maxsize=65536)
def course_org(course_id: str) -> str:
    """The org of a course id's text ("" when it is not a course run key).

    Matched with opaque-keys' own pattern, without building a key object: a course list of
    thousands would otherwise spend most of its time constructing keys. Library keys
    (``library-v1:``), which share the LMS's role table, are not courses: "". Remembered: a
    site has a bounded number of courses, and each list asks for each of them several times.
    """
    namespace, colon, rest = course_id.partition(":")
    try:
        if colon and namespace == CourseLocator.CANONICAL_NAMESPACE:
            return CourseLocator.parse_url(rest)["org"] or ""
        key = _key(course_id)  # old-style Org/Num/Run keys, CCX keys: rare, parsed in full
    except (InvalidKeyError, ValueError):
        return ""
    return "" if isinstance(key, LibraryLocator) else (key.org or "")


def _role_rows(user: Any, roles: Sequence[str], where: Q | None = None) -> list[tuple[str, str, str]]:
    """The user's ``(course id text, org, role)`` rows among ``roles`` (narrowed by ``where``)."""
    rows = _models().CourseAccessRole.objects.filter(user_id=user.id, role__in=list(roles))
    if where is not None:
        rows = rows.filter(where)
    # The column's text, not parsed keys: parsing thousands of keys is what made long lists slow.
    return list(rows.annotate(course_text=Cast("course_id", CharField())).values_list("course_text", "org", "role"))


def user_course_roles(user: Any, course_key: Any) -> set[str]:
    """The analytics roles ``user`` holds in the course, directly or org-wide (empty course id).

    Compared as the LMS's ``RoleCache.has_role`` does, in Python and so case-sensitively
    whatever the database collation: a course row counts when its course id and its org both
    equal the course's; an org-wide row when its org equals the course's org.
    """
    key = _key(course_key)
    if not _can_hold_roles(user) or isinstance(key, LibraryLocator):
        return set()
    held = set()
    # The database narrows (case-insensitively under MySQL collations); Python decides exactly.
    where = Q(course_id=key) | Q(course_id=CourseKeyField.Empty, org=key.org)
    for course_id, org, role in _role_rows(user, ANALYTICS_ROLES, where):
        if org == key.org and course_id in ("", str(key)):
            held.add(role)
    return held


def courses_for_user(user: Any, roles: Sequence[str] = ANALYTICS_ROLES) -> list[str]:
    """Ids of the courses where ``user`` holds one of ``roles``; an org-wide role brings all the org's courses.

    Library keys (``library-v1:``) held in the same table are left out, and orgs are compared
    case-sensitively (see ``user_course_roles``).
    """
    if not _can_hold_roles(user):
        return []
    courses: set[str] = set()
    orgs: set[str] = set()
    for course_id, org, _role in _role_rows(user, roles):
        if course_id:
            if org and course_org(course_id) == org:
                courses.add(course_id)
        elif org:
            orgs.add(org)
    if orgs:
        overviews = _models().CourseOverview.objects.filter(org__in=sorted(orgs)).annotate(
            course_text=Cast("id", CharField())).values_list("course_text", flat=True)
        courses.update(course for course in overviews if course_org(course) in orgs)
    return sorted(courses)


# ---------------------------------------------------------------- flags


def _override_models() -> SimpleNamespace | None:
    """The LMS's waffle flag override models, else the stub's, else None (no overrides anywhere)."""
    if lms_available():
        from openedx.core.djangoapps.waffle_utils.models import (
            WaffleFlagCourseOverrideModel,
            WaffleFlagOrgOverrideModel,
        )
    elif apps.is_installed(_STUB_APP):
        from lms_host.stub.models import WaffleFlagCourseOverrideModel, WaffleFlagOrgOverrideModel
    else:
        return None
    return SimpleNamespace(course=WaffleFlagCourseOverrideModel, org=WaffleFlagOrgOverrideModel)


def _newest_choices(rows: Any, field: str) -> dict[str, bool]:
    """Per value of ``field`` (lowercased): True/False from its newest override row, when that row is enabled.

    The same rule as ``ConfigurationModel.current`` + ``override_value``: the newest row of a key
    decides; a disabled newest row (or ``unset``) means no override. Keys are matched the way the
    LMS's MySQL matches them (its collation ignores case), so they are compared lowercased.
    """
    choices: dict[str, bool | None] = {}
    rows = rows.annotate(key_text=Cast(field, CharField())).order_by("change_date", "id")
    for value, enabled, choice in rows.values_list("key_text", "enabled", "override_choice"):
        choices[value.lower()] = {"on": True, "off": False}.get(choice) if enabled else None
    return {value: choice for value, choice in choices.items() if choice is not None}


def course_flag_overrides(flag_name: str, course_ids: Iterable[Any]) -> dict[str, bool | None]:
    """Per course id: the LMS's course, then org override of a waffle flag (True/False), None when unset.

    Two queries for any number of courses, where the LMS's ``CourseWaffleFlag`` makes one or
    two per course: a list of a few courses reads their rows, a longer list every override of
    the flag (a handful of rows per course at most, read as text, never parsed). Outside the
    LMS (and without the stub app) there are no overrides: all None. Never raises into a
    request: a failure to read is logged and read as unset.
    """
    orgs = {str(course): course_org(str(course)) for course in course_ids}
    result: dict[str, bool | None] = dict.fromkeys(orgs)
    models = _override_models() if orgs else None
    if models is None:
        return result
    try:
        course_rows = models.course.objects.filter(waffle_flag=flag_name)
        if len(orgs) <= FEW_COURSES:
            course_rows = course_rows.filter(course_id__in=[_key(c) for c, org in orgs.items() if org])
        by_course = _newest_choices(course_rows, "course_id")
        by_org = _newest_choices(models.org.objects.filter(waffle_flag=flag_name,
                                                           org__in=sorted(set(orgs.values()) - {""})), "org")
    except Exception:  # noqa: BLE001 - an override we cannot read must not break the page
        log.exception("openedx_analytics: could not read the overrides of %s", flag_name)
        return result
    for course, org in orgs.items():
        if org:
            decided = by_course.get(course.lower())
            result[course] = decided if decided is not None else by_org.get(org.lower())
    return result


def course_flag_override(flag_name: str, course_key: Any) -> bool | None:
    """The LMS's per-course, then per-org override of a waffle flag: True (on), False (off), None (unset)."""
    return course_flag_overrides(flag_name, [course_key])[str(course_key)]


# ---------------------------------------------------------------- history as raw events


def _course_scope(models: SimpleNamespace, course_ids: Iterable[Any] | None, orgs: Iterable[str] | None
                  ) -> list[CourseKey] | None:
    """The course keys to read (None: every course), from course ids and orgs (both narrow)."""
    keys: set[CourseKey] | None = None
    if course_ids is not None:
        keys = {_key(c) for c in course_ids}
    if orgs is not None:
        org_keys = set(models.CourseOverview.objects.filter(org__in=list(orgs)).values_list("id", flat=True))
        keys = org_keys if keys is None else keys & org_keys
    return None if keys is None else sorted(keys, key=str)


def _window(field: str, since: dt.datetime | None, until: dt.datetime | None) -> Q:
    q = Q()
    if since is not None:
        q &= Q(**{f"{field}__gte": since})
    if until is not None:
        q &= Q(**{f"{field}__lt": until})
    return q


class Cursor:
    """Where a history iterator stands: per phase, the key of the last row it read (JSON-able).

    Pass one to an ``iter_*_events`` function: it starts each phase after the key saved
    there (from the beginning when none) and records the key of every row it reads, so a
    backfill checkpoints ``cursor.key`` and a resumed run neither skips nor repeats rows
    when rows were added to or removed from the LMS tables meanwhile.
    """

    def __init__(self, key: dict[str, list[Any]] | None = None) -> None:
        self.key: dict[str, list[Any]] = dict(key or {})

    def after(self, phase: str) -> list[Any] | None:
        """The saved key of ``phase``, if any."""
        return self.key.get(phase)

    def read(self, phase: str, row: Any, keys: tuple[str, ...]) -> None:
        """Record ``row`` as the last row read in ``phase``."""
        self.key[phase] = [_json_key(getattr(row, name)) for name in keys]


def _json_key(value: Any) -> Any:
    if isinstance(value, int | str) or value is None:
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)  # UUIDs, course keys


def _rows(queryset: QuerySet, keys: tuple[str, ...], cursor: Cursor | None, phase: str) -> Iterator[Any]:
    """``_keyset`` from the cursor's saved key of ``phase``, recording each row read in the cursor."""
    if cursor is None:
        yield from _keyset(queryset, keys)
        return
    for row in _keyset(queryset, keys, after=cursor.after(phase)):
        cursor.read(phase, row, keys)
        yield row


def _keyset(queryset: QuerySet, keys: tuple[str, ...], after: Sequence[Any] | None = None) -> Iterator[Any]:
    """Every row of ``queryset`` in ``keys`` order (after the key ``after``), a batch at a time, each batch
    after the last row seen."""
    last: tuple[Any, ...] | None = tuple(after) if after else None
    while True:
        page = queryset.order_by(*keys)
        if last is not None:
            after = Q()
            for i, name in enumerate(keys):  # (a, b) > (x, y)  <=>  a > x or (a = x and b > y)
                equal = dict(zip(keys[:i], last[:i], strict=True))
                after |= Q(**equal, **{f"{name}__gt": last[i]})
            page = page.filter(after)
        count = 0
        for row in page[:BATCH_SIZE].iterator(chunk_size=BATCH_SIZE):
            count += 1
            yield row
        if count < BATCH_SIZE:
            return
        last = tuple(getattr(row, k) for k in keys)


def _scoped(queryset: Any, time_field: str, scope: list[str] | None, since: dt.datetime | None,
            until: dt.datetime | None) -> Any:
    """``queryset`` narrowed to the time window and, when a scope is given, to its courses."""
    queryset = queryset.filter(_window(time_field, since, until))
    return queryset if scope is None else queryset.filter(course_id__in=scope)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _signal_shape(name: str, time: dt.datetime, course_id: Any, user_id: int, **data: Any) -> dict[str, Any]:
    course = str(course_id)
    return {
        "name": name,
        "time": time.isoformat(),
        "data": {"course_id": course, "user_id": user_id, **data},
        "context": {"course_id": course, "user_id": user_id},
        "event_source": EVENT_SOURCE,
    }


def iter_enrollment_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None, cursor: Cursor | None = None,
) -> Iterator[dict[str, Any]]:
    """One enrollment-changed event per enrollment history row (a deleted row reads as inactive),
    then one per enrollment that has no history at all (dated by its creation)."""
    models = _models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    history = _scoped(models.HistoricalCourseEnrollment.objects.all(), "history_date", scope, since, until)
    enrollments = _scoped(
        models.CourseEnrollment.objects.filter(
            ~Exists(models.HistoricalCourseEnrollment.objects.filter(id=OuterRef("pk")))
        ).exclude(created=None),
        "created", scope, since, until,
    )
    for row in _rows(history, ("history_date", "history_id"), cursor, "history"):
        yield _signal_shape(ENROLLMENT_CHANGED, row.history_date, row.course_id, row.user_id, mode=row.mode,
                            is_active=bool(row.is_active) and row.history_type != "-")
    for row in _rows(enrollments, ("pk",), cursor, "enrollment"):
        yield _signal_shape(ENROLLMENT_CHANGED, row.created, row.course_id, row.user_id, mode=row.mode,
                            is_active=bool(row.is_active))


def iter_grade_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None, cursor: Cursor | None = None,
) -> Iterator[dict[str, Any]]:
    """One grade-changed event per persistent course grade (its last state, dated by ``modified``)."""
    models = _models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    grades = _scoped(models.PersistentCourseGrade.objects.all(), "modified", scope, since, until)
    for row in _rows(grades, ("pk",), cursor, "grade"):
        yield _signal_shape(GRADE_CHANGED, row.modified, row.course_id, row.user_id,
                            percent_grade=row.percent_grade, passed_timestamp=_iso(row.passed_timestamp))


def iter_certificate_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None, cursor: Cursor | None = None,
) -> Iterator[dict[str, Any]]:
    """One certificate-changed event per certificate (its current status, dated by ``modified_date``)."""
    models = _models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    certificates = _scoped(models.GeneratedCertificate.objects.all(), "modified_date", scope, since, until)
    for row in _rows(certificates, ("pk",), cursor, "certificate"):
        yield _signal_shape(CERTIFICATE_CHANGED, row.modified_date, row.course_id, row.user_id,
                            mode=row.mode, current_status=row.status)


def _problem_state(raw: str | None) -> dict[str, Any]:
    try:
        state = json.loads(raw or "{}")
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def iter_problem_events(
    course_ids: list[str] | None = None, orgs: list[str] | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None, cursor: Cursor | None = None,
) -> Iterator[dict[str, Any]]:
    """A server ``problem_check`` per graded problem state with attempts (only the last submission is kept)."""
    models = _models()
    scope = _course_scope(models, course_ids, orgs)
    if scope == []:
        return
    modules = _scoped(models.StudentModule.objects.filter(module_type="problem", grade__isnull=False), "modified",
                      scope, since, until)
    for row in _rows(modules, ("pk",), cursor, "problem"):
        state = _problem_state(row.state)
        attempts = state.get("attempts")
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts <= 0:
            continue
        course = str(row.course_id)
        yield {
            "name": "problem_check",
            "time": row.modified.isoformat(),
            "context": {"course_id": course, "user_id": row.student_id, "event_source": "server"},
            "event_source": "server",
            "data": {
                "problem_id": str(row.module_state_key),
                "attempts": attempts,
                "grade": row.grade,
                "max_grade": row.max_grade,
                "answers": state.get("student_answers") or {},
                "correct_map": state.get("correct_map") or {},
            },
        }


# ---------------------------------------------------------------- learner retirement


def retirement_signals() -> list[Any]:
    """The LMS's learner-retirement signals (``USER_RETIRE_LMS_MISC``, ``USER_RETIRE_LMS_CRITICAL``).

    Plain Django signals sent with ``user=`` by the LMS's retirement API. Outside the LMS,
    the stub app's stand-ins when it is installed (so tests retire learners the same way),
    else none: there is no retirement to follow.
    """
    try:
        if lms_available():
            from openedx.core.djangoapps.user_api.accounts import signals
        elif apps.is_installed(_STUB_APP):
            from lms_host.stub import signals
        else:
            return []
    except ImportError:  # an LMS release that moved them: say so rather than break startup
        log.error("openedx_analytics: the LMS's retirement signals were not found; retired learners' "
                  "analytics facts will not be deleted")
        return []
    return [signals.USER_RETIRE_LMS_MISC, signals.USER_RETIRE_LMS_CRITICAL]


def current_enrollment_counts(course_key: Any) -> dict[str, int]:
    """Active enrollments of a course per mode, as the LMS's enrollment table says now (for verification)."""
    models = _models()
    rows = models.CourseEnrollment.objects.filter(course_id=_key(course_key), is_active=True)
    counts: dict[str, int] = {}
    for mode in rows.values_list("mode", flat=True).iterator():
        counts[mode] = counts.get(mode, 0) + 1
    return counts
