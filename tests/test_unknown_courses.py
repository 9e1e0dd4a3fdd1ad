"""Events are stored only for courses the LMS knows: an invented course id costs a counted rejection.

The course of a browser event comes from the page URL the learner posts, and a server
"implicit" event's from the request path, so one learner can name any course. The one
ingest routine asks the LMS (``lms.courses.known_courses``: one query per batch, answers
cached per process with a TTL and a bounded size) and rejects the rest as ``unknown_course``.
"""
from __future__ import annotations

import json
import logging

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models as lms
from openedx_analytics import api, conf
from openedx_analytics.lms import courses
from openedx_analytics.models import ActivityFact, RejectedEventSample, RejectionCount
from openedx_analytics.pipeline import ingest as ingest_module
from openedx_analytics.pipeline.ingest import UNKNOWN_COURSE, ingest
from openedx_analytics.worker.tasks import process_event_batch
from tests.support.analytics import analytics_models
from tests.support.commands import backfill
from tests.support.lms import ALPHA as LMS_ALPHA
from tests.support.lms import lms_knows
from tests.support.logs import at, line

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

REAL = "course-v1:Real+R1+2026"
LEARNER = 5


def browser_event(course: str, minute: int = 0) -> dict:
    """A courseware navigation from the browser whose course is only in the page URL the learner posts."""
    page = f"https://lms.test/courses/{course}/courseware/ch1/seq1/"
    return line("edx.ui.lms.sequence.next_selected", at(1, 12, minute % 60), LEARNER, None,
                json.dumps({"current_tab": 1, "tab_count": 4}), source="browser", page=page)


def implicit_event(course: str) -> dict:
    """A server event the LMS logs for a page request: its event type is the path, the course is in it."""
    path = f"/courses/{course}/courseware/ch1/"
    return line(path, at(1, 12), LEARNER, None, json.dumps({"GET": {}, "POST": {}}), path=path)


def stored_facts() -> int:
    """Every fact and aggregate row in the analytics database (the rejection tables excepted)."""
    using = conf.analytics_db()
    skip = {RejectionCount, RejectedEventSample}
    return sum(model.objects.using(using).count() for model in analytics_models()
               if model not in skip and "fact" in model._meta.db_table)


def unknown_course_rejections(source: str = "live") -> int:
    row = RejectionCount.objects.using(conf.analytics_db()).filter(source=source, reason=UNKNOWN_COURSE).first()
    return row.count if row else 0


def test_two_hundred_invented_courses_from_one_learner_store_nothing_and_count_200_rejections():
    invented = [f"course-v1:Fake+F{n}+2026" for n in range(200)]
    result = process_event_batch.apply(args=[[browser_event(course, n) for n, course in enumerate(invented)],
                                             "live"]).get()
    assert result["accepted"] == 0 and result["rejected"] == {UNKNOWN_COURSE: 200}
    assert stored_facts() == 0
    assert unknown_course_rejections() == 200
    sample = RejectedEventSample.objects.using(conf.analytics_db()).filter(reason=UNKNOWN_COURSE).first()
    assert sample is not None and "Fake" in sample.detail and "the LMS has no course" in sample.detail


def test_a_batch_asks_the_lms_once_for_all_its_courses():
    lms_knows(REAL)
    events = [browser_event(f"course-v1:Fake+F{n}+2026", n) for n in range(200)] + [browser_event(REAL)]
    with CaptureQueriesContext(connections["default"]) as queries:
        result = ingest(events, source="live")
    overview_table = lms.CourseOverview._meta.db_table

    def existence_checks(captured: list[dict]) -> int:
        """Reads of the course overviews, but for the known course's outline (its passing grade), read once too."""
        return sum(overview_table in query["sql"] and "lowest_passing_grade" not in query["sql"] for query in captured)

    assert existence_checks(queries.captured_queries) == 1
    assert result.accepted == 1 and result.rejected == {UNKNOWN_COURSE: 200}
    with CaptureQueriesContext(connections["default"]) as again:
        ingest(events, source="live")
    assert not any(overview_table in query["sql"] for query in again.captured_queries)  # cached, outline too


def test_a_server_implicit_event_of_an_unknown_course_is_rejected():
    result = ingest([implicit_event("course-v1:Nowhere+N1+2026")], source="live")
    assert result.accepted == 0 and result.rejected == {UNKNOWN_COURSE: 1}
    assert not ActivityFact.objects.using(conf.analytics_db()).exists()
    assert unknown_course_rejections() == 1


def test_a_known_course_is_still_accepted_beside_invented_ones():
    lms_knows(REAL)
    result = ingest([implicit_event(REAL), browser_event(REAL, 1), browser_event("course-v1:Fake+F1+2026")],
                    source="live")
    assert result.accepted == 2 and result.rejected == {UNKNOWN_COURSE: 1}
    assert result.courses == {REAL}
    assert stored_facts() > 0
    assert set(ActivityFact.objects.using(conf.analytics_db()).values_list("course_id", flat=True)) == {REAL}


def test_a_course_created_after_a_negative_answer_is_accepted_once_the_ttl_passes(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(courses, "monotonic", lambda: clock[0])
    assert ingest([implicit_event(REAL)], source="live").rejected == {UNKNOWN_COURSE: 1}
    lms_knows(REAL)  # created in Studio a moment later
    clock[0] += courses.UNKNOWN_TTL_SECONDS - 1
    assert ingest([implicit_event(REAL)], source="live").rejected == {UNKNOWN_COURSE: 1}  # still cached
    clock[0] += 2
    result = ingest([implicit_event(REAL)], source="live")
    assert result.accepted == 1 and not result.rejected


def test_a_case_variant_of_a_real_course_is_rejected():
    """MariaDB's default collation compares ids case-insensitively: the comparison is made in Python."""
    lms_knows(REAL)
    variant = REAL.replace("Real", "REAL")
    assert courses.known_courses([variant, REAL]) == {REAL}
    result = ingest([implicit_event(variant), browser_event(variant.lower())], source="live")
    assert result.accepted == 0 and result.rejected == {UNKNOWN_COURSE: 2}
    assert not ActivityFact.objects.using(conf.analytics_db()).exists()


def test_the_cache_stays_bounded_under_a_flood_of_invented_ids(monkeypatch):
    monkeypatch.setattr(courses, "_unknown", courses._Answers(courses.UNKNOWN_TTL_SECONDS, 50))
    lms_knows(REAL)
    for start in range(0, 400, 100):
        assert courses.known_courses([f"course-v1:Fake+F{n}+2026" for n in range(start, start + 100)]) == set()
    assert len(courses._unknown._asked) == 50
    assert courses.known_courses([REAL]) == {REAL}


def test_without_the_lms_or_a_stand_in_events_are_stored_unchecked(settings, caplog, monkeypatch):
    """Outside the LMS with no stand-in app there is no course list, and no learner-facing door either."""
    settings.OPENEDX_ANALYTICS_LMS_STAND_IN_APP = None
    monkeypatch.setattr(ingest_module, "_warned_unchecked", False)
    with caplog.at_level(logging.WARNING, logger=ingest_module.__name__):
        result = ingest([implicit_event(REAL)], source="live")
    assert result.accepted == 1 and not result.rejected
    assert "without checking that their courses exist" in caplog.text


def test_a_backfill_rejects_unknown_courses_unless_named_with_course(tmp_path):
    deleted = "course-v1:Gone+G1+2026"
    log = tmp_path / "tracking.log"
    log.write_text(json.dumps(implicit_event(deleted)) + "\n" + json.dumps(browser_event(deleted, 3)) + "\n")
    output = backfill("--tracking-logs", str(log))
    assert "unknown_course" in output
    assert unknown_course_rejections("backfill") == 2
    assert not ActivityFact.objects.using(conf.analytics_db()).exists()
    backfill("--tracking-logs", str(log), "--course", deleted)  # history of a course the LMS deleted
    assert set(ActivityFact.objects.using(conf.analytics_db()).values_list("course_id", flat=True)) == {deleted}
    assert not lms.CourseOverview.objects.filter(id=CourseKey.from_string(deleted)).exists()


def test_a_backfill_from_the_lms_takes_a_deleted_course_when_named(lms_data):
    lms.CourseOverview.objects.filter(id=CourseKey.from_string(LMS_ALPHA)).delete()
    backfill("--from-lms", "--all")
    assert api.get_enrollment(LMS_ALPHA) == []
    assert unknown_course_rejections("backfill") > 0
    backfill("--from-lms", "--course", LMS_ALPHA)
    assert api.get_enrollment(LMS_ALPHA)[-1]["count"] == 3
