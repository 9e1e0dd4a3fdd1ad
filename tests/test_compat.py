"""The LMS seam (openedx_analytics.lms) on the stub LMS app: roles, courses, history as events, its absence."""
from __future__ import annotations

import datetime as dt
import io
import json
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser, User
from opaque_keys.edx.keys import CourseKey, UsageKey

from lms_host.stub import models as lms
from openedx_analytics.lms import courses as lms_courses
from openedx_analytics.lms import flags, host, roles
from openedx_analytics.lms import history as lms_history
from openedx_analytics.pipeline.events.registry import REGISTRY
from openedx_analytics.pipeline.normalizer import normalize
from openedx_analytics.pipeline.records import (
    CertificateChange,
    EnrollmentChange,
    GradeChange,
    PassingChange,
    ProblemSubmission,
)

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

NEW = "course-v1:Alpha+A1+2026"
NEW2 = "course-v1:Alpha+A2+2026"
OTHER = "course-v1:Beta+B1+2026"
OLD = "Beta/B0/2013"
T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


@pytest.fixture
def courses():
    for cid, name in ((NEW, "Alpha One"), (NEW2, None), (OTHER, "Beta One"), (OLD, "Beta Old")):
        key = CourseKey.from_string(cid)
        lms.CourseOverview.objects.create(id=key, display_name=name, org=key.org)


def make_user(name: str, **extra) -> User:
    return User.objects.create(username=name, email=f"{name}@example.com", **extra)


def grant(user: User, role: str, course: str | None = None, org: str = "") -> None:
    key = CourseKey.from_string(course) if course else None
    lms.CourseAccessRole.objects.create(user=user, role=role, course_id=key, org=key.org if key else org)


# ---------------------------------------------------------------- courses and roles


def test_course_exists_and_display_name(courses):
    assert host.lms_available() is False
    assert lms_courses.course_exists(NEW) and lms_courses.course_exists(CourseKey.from_string(OLD))
    assert not lms_courses.course_exists("course-v1:Nope+N+1")
    assert lms_courses.course_display_name(NEW) == "Alpha One"
    assert lms_courses.course_display_name(NEW2) == NEW2  # no name: the id stands in
    with pytest.raises(ValueError):
        lms_courses.course_exists("not a course")


def test_roles_course_and_org_wide(courses):
    staff, researcher, boss, learner = (make_user(n) for n in ("staff", "researcher", "boss", "learner"))
    grant(staff, "staff", NEW)
    grant(staff, "beta_testers", NEW2)  # not an analytics role
    grant(researcher, "data_researcher", OLD)
    grant(boss, "instructor", org="Beta")  # org-wide
    grant(boss, "staff", NEW)

    assert roles.user_course_roles(staff, NEW) == {"staff"}
    assert roles.user_course_roles(staff, NEW2) == set()
    assert roles.user_course_roles(researcher, OLD) == {"data_researcher"}
    assert roles.user_course_roles(boss, OTHER) == {"instructor"}
    assert roles.user_course_roles(boss, CourseKey.from_string(OLD)) == {"instructor"}
    assert roles.user_course_roles(boss, NEW) == {"staff"}
    assert roles.user_course_roles(learner, NEW) == set()
    assert roles.user_course_roles(AnonymousUser(), NEW) == set()

    assert roles.courses_for_user(staff) == [NEW]
    assert roles.courses_for_user(staff, roles=("beta_testers",)) == [NEW2]
    assert roles.courses_for_user(researcher) == [OLD]
    assert roles.courses_for_user(boss) == sorted([NEW, OTHER, OLD])
    assert roles.courses_for_user(boss, roles=("staff",)) == [NEW]
    assert roles.courses_for_user(learner) == []
    assert roles.courses_for_user(AnonymousUser()) == []


def test_deactivated_user_holds_no_role(courses):
    gone = make_user("gone", is_active=False)
    grant(gone, "staff", NEW)
    assert roles.user_course_roles(gone, NEW) == set()
    assert roles.courses_for_user(gone) == []


# ---------------------------------------------------------------- absence of the LMS


@pytest.mark.parametrize("stand_in", [None, "no_such_app"])
def test_not_available_without_lms_or_stub(settings, stand_in):
    settings.OPENEDX_ANALYTICS_LMS_STAND_IN_APP = stand_in
    for call in (lambda: lms_courses.course_exists(NEW), lambda: lms_courses.course_display_name(NEW),
                 lambda: roles.user_course_roles(make_user("u"), NEW), lambda: roles.courses_for_user(
                     User(username="x", is_active=True)), lambda: list(lms_history.iter_grade_events())):
        with pytest.raises(host.NotAvailable, match="not available outside the LMS"):
            call()
    assert flags.course_flag_override("openedx_analytics.enabled", NEW) is None


FLAG = "openedx_analytics.enabled"


def flag_override(model, choice, enabled=True, **key):
    model.objects.create(waffle_flag=FLAG, override_choice=choice, enabled=enabled, **key)


def test_flag_override_is_none_without_an_override_row():
    assert flags.course_flag_override(FLAG, NEW) is None


def test_flag_override_reads_the_course_then_the_org_override():
    """The LMS's own lookup order, against its models (the stub host's stand-ins here)."""
    flag_override(lms.WaffleFlagOrgOverrideModel, "on", org="Alpha")
    assert flags.course_flag_override(FLAG, NEW) is True
    assert flags.course_flag_override(FLAG, OTHER) is None  # another org
    assert flags.course_flag_override("some.other.flag", NEW) is None
    flag_override(lms.WaffleFlagCourseOverrideModel, "off", course_id=CourseKey.from_string(NEW))
    assert flags.course_flag_override(FLAG, NEW) is False  # the course row beats its org's
    assert flags.course_flag_override(FLAG, CourseKey.from_string(NEW)) is False


def test_flag_override_newest_row_decides_and_a_disabled_one_unsets():
    key = CourseKey.from_string(OTHER)
    flag_override(lms.WaffleFlagCourseOverrideModel, "off", course_id=key)
    flag_override(lms.WaffleFlagCourseOverrideModel, "on", course_id=key)
    assert flags.course_flag_override(FLAG, OTHER) is True
    flag_override(lms.WaffleFlagCourseOverrideModel, "off", enabled=False, course_id=key)
    assert flags.course_flag_override(FLAG, OTHER) is None


def test_flag_override_that_cannot_be_read_is_unset(caplog):
    unreadable = SimpleNamespace(objects=SimpleNamespace(filter=mock.Mock(side_effect=RuntimeError("db"))))
    models = SimpleNamespace(WaffleFlagCourseOverrideModel=unreadable, WaffleFlagOrgOverrideModel=unreadable)
    with mock.patch.object(flags, "stand_in_models", return_value=models):
        assert flags.course_flag_override(FLAG, NEW) is None
    assert "could not read the overrides" in caplog.text


# ---------------------------------------------------------------- history as raw events


@pytest.fixture
def history(courses):
    """Two learners in NEW (one upgrades then leaves), one in OTHER, one in OLD; grades, certs, problems."""
    a, b, c, d = (make_user(n) for n in "abcd")
    rows = []
    for user, course, when in ((a, NEW, 0), (b, NEW, 1), (c, OTHER, 2), (d, OLD, 3)):
        enrollment = lms.CourseEnrollment(user=user, course_id=CourseKey.from_string(course), mode="audit",
                                          created=day(when))
        enrollment._history_date = day(when)
        enrollment.save()
        rows.append(enrollment)
    b_enrollment = rows[1]
    b_enrollment.mode, b_enrollment._history_date = "verified", day(5)
    b_enrollment.save()
    b_enrollment.is_active, b_enrollment._history_date = False, day(9)
    b_enrollment.save()
    # An enrollment from before history was kept.
    lms.CourseEnrollment.objects.bulk_create([lms.CourseEnrollment(
        user=d, course_id=CourseKey.from_string(NEW2), mode="honor", created=day(-30))])

    lms.PersistentCourseGrade.objects.create(user_id=a.id, course_id=CourseKey.from_string(NEW), percent_grade=0.9,
                                             letter_grade="A", passed_timestamp=day(20), modified=day(20))
    lms.PersistentCourseGrade.objects.create(user_id=c.id, course_id=CourseKey.from_string(OTHER),
                                             percent_grade=0.3, modified=day(21))
    lms.GeneratedCertificate.objects.create(user=a, course_id=CourseKey.from_string(NEW), status="downloadable",
                                            mode="audit", modified_date=day(22))
    lms.GeneratedCertificate.objects.create(user=d, course_id=CourseKey.from_string(OLD), status="notpassing",
                                            mode="honor", modified_date=day(23))

    def module(user, course, block, state, grade, when):
        key = CourseKey.from_string(course)
        lms.StudentModule.objects.create(
            module_type="problem", student=user, course_id=key, module_state_key=key.make_usage_key("problem", block),
            state=json.dumps(state) if state is not None else None, grade=grade, max_grade=1, modified=day(when))

    part = "p1_2_1"
    module(a, NEW, "p1", {"attempts": 2, "seed": 1, "student_answers": {part: "choice_1"},
                          "correct_map": {part: {"correctness": "correct"}}}, 1.0, 10)
    module(c, OTHER, "p1", {"attempts": 1, "student_answers": {part: ["choice_0", "choice_2"]},
                            "correct_map": {part: {"correctness": "incorrect"}}}, 0.0, 11)
    module(d, OLD, "p9", {"attempts": 1, "student_answers": {"x_2_1": "42"},
                          "correct_map": {"x_2_1": {"correctness": "correct"}}}, 1.0, 12)
    module(b, NEW, "p2", {"seed": 3}, None, 13)  # opened, never submitted
    module(b, NEW, "p3", {"attempts": 0}, 0.0, 14)  # reset
    module(b, NEW, "p4", None, 0.0, 15)  # no state
    key = CourseKey.from_string(NEW)
    lms.StudentModule.objects.create(module_type="video", student=a, course_id=key, state="{}",
                                     module_state_key=key.make_usage_key("video", "v1"), modified=day(16))
    return {"a": a, "b": b, "c": c, "d": d}


def records(events):
    result = []
    for event in events:
        outcome = normalize(event)
        assert outcome.reason is None, (outcome.reason, outcome.detail, event)
        assert outcome.records
        result.extend(outcome.records)
    return result


def test_enrollment_history_normalizes_in_time_order(history):
    events = list(lms_history.iter_enrollment_events())
    assert all(e["event_source"] == "lms_table" and e["name"] == lms_history.ENROLLMENT_CHANGED for e in events)
    changes = [r for r in records(events) if isinstance(r, EnrollmentChange)]
    b = history["b"].id
    assert [(r.user_id, r.course_id, r.mode, r.is_active, r.time) for r in changes] == [
        (history["a"].id, NEW, "audit", True, day(0)),
        (b, NEW, "audit", True, day(1)),
        (history["c"].id, OTHER, "audit", True, day(2)),
        (history["d"].id, OLD, "audit", True, day(3)),
        (b, NEW, "verified", True, day(5)),
        (b, NEW, "verified", False, day(9)),
        (history["d"].id, NEW2, "honor", True, day(-30)),  # no history: one event from the enrollment row
    ]


def test_enrollment_filters(history):
    def users(**kwargs):
        return [(e["data"]["user_id"], e["data"]["course_id"]) for e in lms_history.iter_enrollment_events(**kwargs)]

    b = history["b"].id
    assert users(course_ids=[NEW]) == [(history["a"].id, NEW), (b, NEW), (b, NEW), (b, NEW)]
    assert users(orgs=["Beta"]) == [(history["c"].id, OTHER), (history["d"].id, OLD)]
    assert users(course_ids=[OLD]) == [(history["d"].id, OLD)]
    assert users(course_ids=[NEW], orgs=["Beta"]) == []  # both narrow
    assert users(orgs=["Nobody"]) == []
    assert users(since=day(3), until=day(9)) == [(history["d"].id, OLD), (b, NEW)]
    assert users(until=day(-29)) == [(history["d"].id, NEW2)]


def test_enrollment_deleted_history_row_reads_inactive(history):
    row = lms.HistoricalCourseEnrollment.objects.filter(id__isnull=False).first()
    lms.HistoricalCourseEnrollment.objects.create(
        id=row.id, user_id=row.user_id, course_id=row.course_id, mode=row.mode, is_active=True,
        history_type="-", history_date=day(40))
    (event,) = lms_history.iter_enrollment_events(since=day(40))
    assert event["data"]["is_active"] is False


def test_keyset_paging_reads_every_row_once(history, monkeypatch):
    monkeypatch.setattr(lms_history, "BATCH_SIZE", 2)
    # Two history rows at the same instant: the tie is broken by history_id, not lost or repeated.
    extra = lms.CourseEnrollment(user=history["c"], course_id=CourseKey.from_string(NEW), mode="audit")
    extra._history_date = day(5)
    extra.save()
    events = list(lms_history.iter_enrollment_events())
    assert len(events) == 8
    assert len({json.dumps(e, sort_keys=True) for e in events}) == 8
    assert len(list(lms_history.iter_problem_events())) == 3


def test_grade_and_certificate_events(history):
    grades = records(lms_history.iter_grade_events())
    a, c, d = history["a"].id, history["c"].id, history["d"].id
    assert [(type(r), r.user_id, r.course_id) for r in grades] == [
        (GradeChange, a, NEW), (PassingChange, a, NEW), (GradeChange, c, OTHER), (PassingChange, c, OTHER)]
    assert grades[0].percent == 0.9 and grades[1].is_passing is True and grades[3].is_passing is False
    assert [e["data"]["user_id"] for e in lms_history.iter_grade_events(orgs=["Beta"])] == [c]
    assert [e["data"]["user_id"] for e in lms_history.iter_grade_events(since=day(21))] == [c]
    assert [e["data"]["user_id"] for e in lms_history.iter_grade_events(until=day(21))] == [a]

    certificates = records(lms_history.iter_certificate_events())
    assert [(r.user_id, r.course_id, r.mode, r.status) for r in certificates] == [
        (a, NEW, "audit", "downloadable"), (d, OLD, "honor", "notpassing")]
    assert isinstance(certificates[0], CertificateChange)
    assert [e["data"]["user_id"] for e in lms_history.iter_certificate_events(course_ids=[OLD])] == [d]
    assert list(lms_history.iter_certificate_events(since=day(23), until=day(23))) == []


def test_problem_events_from_student_modules(history):
    events = list(lms_history.iter_problem_events())
    assert [e["data"]["problem_id"] for e in events] == [
        str(UsageKey.from_string("block-v1:Alpha+A1+2026+type@problem+block@p1")),
        "block-v1:Beta+B1+2026+type@problem+block@p1",
        "i4x://Beta/B0/problem/p9",
    ]
    submissions = [r for r in records(events) if isinstance(r, ProblemSubmission)]
    first, second, third = submissions
    assert (first.user_id, first.attempt, first.correct, first.time) == (history["a"].id, 2, True, day(10))
    assert [(p.part_id, p.value, p.correct) for p in first.answers] == [("p1_2_1", "choice_1", True)]
    assert [(p.value, p.correct) for p in second.answers] == [("[choice_0|choice_2]", False)]
    assert (third.course_id, third.correct) == (OLD, True)
    assert [e["context"]["user_id"] for e in lms_history.iter_problem_events(orgs=["Alpha"])] == [history["a"].id]
    assert [e["context"]["user_id"] for e in lms_history.iter_problem_events(since=day(11), until=day(12))] == [
        history["c"].id]


def test_every_event_the_history_emits_is_registered_for_its_source(history):
    """The LMS seam names its event types by hand; the event registry must accept each from where it says it is."""
    events = [*lms_history.iter_enrollment_events(), *lms_history.iter_grade_events(),
              *lms_history.iter_certificate_events(), *lms_history.iter_problem_events()]
    assert {e["name"] for e in events} == {lms_history.ENROLLMENT_CHANGED, lms_history.GRADE_CHANGED,
                                           lms_history.CERTIFICATE_CHANGED, "problem_check"}
    for event in events:
        assert REGISTRY[event["name"]].allows(event["event_source"]), event["name"]
        if event["name"].startswith("org.openedx."):
            assert event["event_source"] == "lms_table"


# ---------------------------------------------------------------- the demo


@pytest.mark.django_db(transaction=True, databases=["default", "analytics"])
def test_seed_demo_fills_the_api_through_the_doors():
    """Transactional: the doors hand events over when the LMS transaction commits."""
    from django.core.management import call_command

    from lms_host.management.commands import seed_demo
    from openedx_analytics import api

    out = io.StringIO()
    call_command(seed_demo.Command(), learners=25, days=20, seed=7, stdout=out)
    assert "Sent " in out.getvalue()
    ids = [c.course_id for c in seed_demo.COURSES]
    summaries = {s["course_id"]: s for s in api.get_course_summaries(ids)}
    assert sum(s["cumulative_count"] for s in summaries.values()) >= 25
    assert sum(s["count"] for s in summaries.values()) > 0
    assert sum(s["passing_users"] for s in summaries.values()) > 0
    assert sum(s["certificates"] for s in summaries.values()) > 0
    py101 = "course-v1:DemoX+Py101+2026_T1"
    history = api.get_enrollment(py101)
    assert len(history) > 3  # spread over several days
    assert any(row["any"] for row in api.get_activity(py101, granularity="day"))
    assert api.get_videos(py101) and api.get_videos(py101)[0]["users_at_start"] > 0
    problem = api.get_problems(py101)[0]
    assert problem["total_submissions"] > 0
    assert api.get_answer_distribution(py101, problem["problem_id"])
    assert api.get_problems("DemoX/Stat100/2013") or api.get_enrollment("DemoX/Stat100/2013")
    # The stub LMS tables match: roles for the staff users, history for the plugin to replay.
    assert roles.courses_for_user(User.objects.get(username="researcher")) == sorted(
        c.course_id for c in seed_demo.COURSES if c.key.org == "DemoX")
    assert roles.user_course_roles(User.objects.get(username="instructor"), py101) == set()
    assert len(list(lms_history.iter_enrollment_events(course_ids=[py101]))) >= summaries[py101]["cumulative_count"]
    assert User.objects.get(username="admin").is_superuser
    # A second run does not seed twice.
    call_command(seed_demo.Command(), learners=25, days=20, seed=7, stdout=io.StringIO())
    assert api.get_course_summaries(ids) == list(summaries.values())
