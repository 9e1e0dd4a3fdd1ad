"""The problem response report: its CSV bytes for a course with graded and ungraded, single and multi-part
problems and a retired learner; who may download it; every download logged; the page's download link."""
import datetime as dt
import hashlib
import logging
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from opaque_keys.edx.keys import CourseKey, UsageKey

from lms_host.stub.models import CourseBlock, StudentModule
from openedx_analytics import conf
from openedx_analytics.api import reports
from openedx_analytics.models import ProblemQuestionFact, ProblemSubmissionFact
from openedx_analytics.pipeline.facts import write_facts
from openedx_analytics.pipeline.ingest import ingest
from openedx_analytics.pipeline.records import MAX_QUESTION_CHARACTERS, TRUNCATED, PartQuestion
from tests.support.api import BASE, COURSE, client_for, tracking_event
from tests.support.lms import lms_outline
from tests.support.pages import client, page_url

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

URL = f"{BASE}courses/{COURSE}/reports/problem_responses/"
EXPECTED = Path(__file__).parent / "data" / "problem_responses.csv"
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
GONE = "block-v1:Org+Api+2026+type@problem+block@gone"  # submitted, then deleted from the outline


def at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def submit(user_id: int, problem: str, when: dt.datetime, attempt: int, correct: bool, *parts) -> None:
    """A submission fact as the pipeline stores it: parts are (part id, answer, correct)."""
    ProblemSubmissionFact.objects.using(conf.analytics_db()).create(
        course_id=COURSE, problem_id=problem, user_id=user_id, time=when, attempt=attempt, correct=correct,
        fingerprint=hashlib.sha1(f"{user_id} {problem} {when.isoformat()}".encode()).hexdigest(),
        answers=[{"part_id": p, "value": v, "correct": c, "variant": ""} for p, v, c in parts])


def ask(problem: str, part: str, when: dt.datetime, question: str) -> None:
    """A part's question text as the pipeline keeps it (through the fact writer)."""
    write_facts([PartQuestion(course_id=COURSE, problem_id=problem, part_id=part, time=when, question=question)])


def score(user, problem: str, grade: float, max_grade: float) -> None:
    StudentModule.objects.create(module_type="problem", module_state_key=UsageKey.from_string(problem),
                                 student=user, course_id=CourseKey.from_string(COURSE), grade=grade,
                                 max_grade=max_grade)


@pytest.fixture
def course(people, analytics_on):
    """Week 1: a graded Homework (a one-part and a two-part problem) and ungraded Practice; a deleted problem.

    Learners: alice and bob (the LMS has them), carol (retired in the LMS, her facts not yet
    deleted) and a user id the LMS no longer has.
    """
    keys = lms_outline(COURSE, {
        "Week 1": {"Homework": {"Unit A": [("problem", "capitals"), ("problem", "rivers")]},
                   "Practice": {"Unit B": [("problem", "warmup")]}},
    })
    CourseBlock.objects.filter(usage_key=keys["Homework"]).update(graded=True, format="Homework")
    CourseBlock.objects.filter(block_type="course", course_id=CourseKey.from_string(COURSE)).update(
        display_name="Demo Course")
    make = get_user_model().objects.create_user
    alice, bob = make("alice", "a@example.com"), make("bob", "b@example.com")
    carol = make("retired__user_5f1e2d", "")
    capitals, rivers, warmup = keys["capitals"], keys["rivers"], keys["warmup"]
    # bob, two attempts at the one-part graded problem: the last answer counts, first and last dates span both
    submit(bob.pk, capitals, at(1), 1, False, ("capitals_2_1", "Lyon", False))
    submit(bob.pk, capitals, at(5), 2, True, ("capitals_2_1", "Paris", True))
    score(bob, capitals, 1.0, 1.0)
    submit(alice.pk, capitals, at(2), 1, True, ("capitals_2_1", "Paris", True))
    score(alice, capitals, 1.0, 1.0)
    # the two-part graded problem: a part right and a part wrong; an answer a spreadsheet would run
    submit(alice.pk, rivers, at(3), 1, True, ("rivers_2_1", "Danube", True), ("rivers_3_1", "=1+2", False))
    score(alice, rivers, 1.0, 2.0)
    # the ungraded problem, no score in the LMS
    submit(bob.pk, warmup, at(4), 3, True, ("warmup_2_1", "[a|c]", True))
    submit(alice.pk, GONE, at(6), 1, False, ("gone_2_1", "x, \"y\"", False))
    # question texts, course content kept per part: edited once (the latest wins), one with a comma and quotes;
    # warmup's part never carried one
    ask(capitals, "capitals_2_1", at(1), "Capital of France?")
    ask(capitals, "capitals_2_1", at(30), "What is the capital of France?")
    ask(rivers, "rivers_2_1", at(3), "Longest river of Europe?")
    ask(rivers, "rivers_3_1", at(3), "Sum: 1+2, \"exactly\"")
    ask(GONE, "gone_2_1", at(6), "=cmd")
    # absent: the retired learner and the learner the LMS no longer has
    submit(carol.pk, capitals, at(2), 1, True, ("capitals_2_1", "Paris", True))
    submit(999_999, rivers, at(2), 1, True, ("rivers_2_1", "Danube", True), ("rivers_3_1", "Nile", True))
    return {"alice": alice, "bob": bob}


def test_the_report_is_the_hand_made_file(course, people):
    response = client_for(people["course_staff"]).get(URL)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="course-v1_Org_Api_2026_problem_responses.csv"'
    assert b"".join(response.streaming_content) == EXPECTED.read_bytes()


def test_the_report_is_read_a_chunk_of_learners_at_a_time(course, monkeypatch):
    """Chunks of one learner give the same rows as one chunk of all: the keyset pages join up."""
    whole = list(reports.iter_problem_responses(COURSE))
    monkeypatch.setattr(reports, "CHUNK_LEARNERS", 1)
    assert list(reports.iter_problem_responses(COURSE)) == whole


@pytest.mark.parametrize("role", ["course_staff", "instructor", "data_researcher", "global_staff"])
def test_staff_instructors_researchers_and_global_staff_may_download(course, people, role):
    assert client_for(people[role]).get(URL).status_code == 200


@pytest.mark.parametrize("role", ["learner", "other_staff"])
def test_learners_and_other_courses_staff_are_refused(course, people, role):
    response = client_for(people[role]).get(URL)
    assert response.status_code == 403
    assert b"alice" not in response.content


def test_anonymous_callers_are_refused(course, people):
    assert client_for(None).get(URL).status_code in (401, 403)


def test_each_download_is_logged_with_who_asked(course, people, caplog):
    with caplog.at_level(logging.INFO, logger="openedx_analytics.reports"):
        b"".join(client_for(people["data_researcher"]).get(URL).streaming_content)
        client_for(people["learner"]).get(URL)
    lines = [r.getMessage() for r in caplog.records if r.name == "openedx_analytics.reports"]
    assert len(lines) == 1, lines
    assert f"problem_responses of course {COURSE} downloaded by user id {people['data_researcher'].pk} at " \
        in lines[0]
    assert "researcher" not in lines[0]  # the user id only, no username


def test_the_problems_view_links_the_report(course, people):
    html = client(people["course_staff"]).get(page_url(COURSE)).content.decode()
    assert f'class="oa-report" href="/api/analytics/v1/courses/{COURSE}/reports/problem_responses/?format=csv"' \
        in html


def check(user_id: int, day: str, clock: str, problem: str, questions: dict[str, object]):
    """A server ``problem_check`` of ``problem`` whose parts carry these question texts."""
    return tracking_event("problem_check", f"{day}T{clock}+00:00", {
        "problem_id": problem, "attempts": 1, "grade": 1, "max_grade": 1, "success": "correct",
        "answers": {part: "a" for part in questions},
        "submission": {part: {"question": text, "answer": "a", "correct": True, "input_type": "textline"}
                       for part, text in questions.items()},
    }, user_id, event_source="server", module={"usage_key": problem})


def test_question_texts_come_from_problem_check_once_per_part_and_text_the_latest_shown(course, people):
    """Many learners submitting the same part keep one row of its text (not one per learner); HTML is stripped and
    a long text cut; a text edited in Studio replaces the old one in the report; a browser copy keeps nothing."""
    warmup = next(p for p in reports.problems_in_order(COURSE)[0] if p.endswith("warmup"))
    long_text = "word " * 400
    events = [check(uid, "2026-03-02", f"1{uid % 10}:00:00", warmup,
                    {"warmup_2_1": "<p>Pick  the <b>vowels</b></p>", "warmup_3_1": long_text, "warmup_4_1": ""})
              for uid in range(900_100, 900_140)]  # ids no LMS user has (MySQL does not reuse ids)
    result = ingest(events, source="test")
    assert not result.rejected, result.rejected
    rows = ProblemQuestionFact.objects.using(conf.analytics_db()).filter(problem_id=warmup)
    assert rows.count() == 2  # 40 learners, two parts with a text: two rows, and no user id in them
    assert dict(rows.values_list("part_id", "question"))["warmup_2_1"] == "Pick the vowels"
    cut = dict(rows.values_list("part_id", "question"))["warmup_3_1"]
    assert len(cut) == MAX_QUESTION_CHARACTERS and cut.endswith(TRUNCATED)
    ingest([check(900_007, "2026-03-04", "09:00:00", warmup, {"warmup_2_1": "Pick the consonants"}),
            {**check(900_008, "2026-03-05", "09:00:00", warmup, {"warmup_2_1": "from the browser"}),
             "context": {**check(900_008, "2026-03-05", "09:00:00", warmup, {})["context"],
                         "event_source": "browser"}}],
           source="test")
    assert reports.part_questions(COURSE, warmup, conf.analytics_db())["warmup_2_1"] == "Pick the consonants"
    bob_rows = [row for row in reports.iter_problem_responses(COURSE)
                if row["username"] == "bob" and row["problem_id"] == warmup]
    assert [row["question"] for row in bob_rows] == ["Pick the consonants"]
    assert not ProblemQuestionFact.objects.using(conf.analytics_db()).filter(question="from the browser").exists()
