"""--from-lms resumes after the last LMS row key it read, even when LMS rows were added or removed meanwhile."""
from __future__ import annotations

import itertools
import json

import pytest
from django.contrib.auth.models import User
from opaque_keys.edx.keys import CourseKey

from lms_host.stub import models as lms
from openedx_analytics import conf
from openedx_analytics.lms import history
from openedx_analytics.models import BackfillCheckpoint, EnrollmentFact, GradeFact
from openedx_analytics.pipeline import ingest
from openedx_analytics.pipeline.records import GradeChange
from tests.support.commands import backfill
from tests.support.lms import ALPHA, day, enroll

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


@pytest.fixture
def alpha():
    key = CourseKey.from_string(ALPHA)
    lms.CourseOverview.objects.create(id=key, display_name="Alpha", org=key.org)
    return key


def test_a_resumed_lms_backfill_reads_every_row_added_and_skips_none_after_removals(alpha, monkeypatch):
    users = [User.objects.create(username=f"learner{i}") for i in range(8)]
    for i, user in enumerate(users[:6]):
        lms.PersistentCourseGrade.objects.create(user_id=user.id, course_id=alpha, percent_grade=0.1 * (i + 1),
                                                 modified=day(i))
    real_write = ingest.write_facts
    grade_batches = {"n": 0}

    def dying_write(records, **kwargs):
        if any(isinstance(record, GradeChange) for record in records):
            grade_batches["n"] += 1
            if grade_batches["n"] == 2:
                raise KeyboardInterrupt("killed after the first batch of grades")
        return real_write(records, **kwargs)

    monkeypatch.setattr(ingest, "write_facts", dying_write)
    with pytest.raises(KeyboardInterrupt):
        backfill("--from-lms", "--course", ALPHA, "--batch-size", "2")
    saved = BackfillCheckpoint.objects.using(conf.analytics_db()).get().position["lms:grade"]
    assert saved["line"] == 2 and not saved["done"]
    first_two = lms.PersistentCourseGrade.objects.order_by("pk")[:2]
    assert saved["key"] == {"grade": [first_two[1].pk]}

    # Meanwhile in the LMS: a grade already read is deleted, two new learners get grades.
    first_two[0].delete()
    for user in users[6:]:
        lms.PersistentCourseGrade.objects.create(user_id=user.id, course_id=alpha, percent_grade=0.9, modified=day(9))

    monkeypatch.setattr(ingest, "write_facts", real_write)
    output = backfill("--from-lms", "--course", ALPHA, "--batch-size", "2")
    assert "Resumed from the checkpoint" in output
    graded = set(GradeFact.objects.using(conf.analytics_db()).values_list("user_id", flat=True))
    assert graded == {user.id for user in users}  # the two read before, the four left, the two added


def test_the_cursor_survives_json_and_resumes_history_by_date_and_id(alpha):
    users = [User.objects.create(username=f"learner{i}") for i in range(5)]
    for i, user in enumerate(users):
        enroll(user, ALPHA, "audit", i)
    whole = [(e["data"]["user_id"], e["time"]) for e in history.iter_enrollment_events(course_ids=[ALPHA])]

    cursor = history.Cursor()
    first = [(e["data"]["user_id"], e["time"])
             for e in itertools.islice(history.iter_enrollment_events(course_ids=[ALPHA], cursor=cursor), 2)]
    saved = json.loads(json.dumps(cursor.key))  # as the checkpoint stores it
    assert list(saved) == ["history"]

    late = User.objects.create(username="late")
    enroll(late, ALPHA, "verified", 20)
    resumed = history.Cursor(saved)
    rest = [(e["data"]["user_id"], e["time"]) for e in history.iter_enrollment_events(course_ids=[ALPHA],
                                                                                     cursor=resumed)]
    assert first + rest[:-1] == whole
    assert rest[-1][0] == late.id
    assert EnrollmentFact.objects.using(conf.analytics_db()).count() == 0  # reading writes nothing
