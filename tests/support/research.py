"""One learner's facts and the export command, shared by the research export's command and REST tests."""
from __future__ import annotations

import datetime as dt
import hashlib
import io

from django.core.management import call_command
from django.test import override_settings

from openedx_analytics import conf
from openedx_analytics.models import EnrollmentFact, ProblemSubmissionFact

#: The pseudonym key of the tests (the setting wants 32 characters or more).
KEY = "k" * 40
LEARNER = 42
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)


def facts(course: str) -> None:
    """Learner 42 enrolls and submits a problem with a choice part and a free-text part."""
    using = conf.analytics_db()
    EnrollmentFact.objects.using(using).create(course_id=course, user_id=LEARNER, time=T0, is_active=True,
                                               mode="audit", fingerprint=hashlib.sha1(course.encode()).hexdigest())
    ProblemSubmissionFact.objects.using(using).create(
        course_id=course, problem_id=f"block-v1:{course[10:]}+type@problem+block@p1", user_id=LEARNER,
        time=T0, attempt=1, correct=True, fingerprint=hashlib.sha1(f"p {course}".encode()).hexdigest(),
        answers=[{"part_id": "p1_2_1", "value": "Paris", "correct": True, "variant": "", "input_type": "choicegroup"},
                 {"part_id": "p1_3_1", "value": "my secret essay", "correct": None, "variant": "",
                  "input_type": "textline"},
                 {"part_id": "p1_4_1", "value": "older event", "correct": False, "variant": ""}])


def export(tmp_path, *args: str) -> str:
    """Run ``export_research_data --output tmp_path *args`` with the tests' key; what it printed."""
    out = io.StringIO()
    with override_settings(OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY=KEY):
        call_command("export_research_data", "--output", str(tmp_path), *args, stdout=out)
    return out.getvalue()
