"""The problem response report: each learner's last answer to each part of each problem, for downloading.

Read from the submission facts problem after problem in course-outline order (problems
no longer in the outline last, by id), and inside a problem a chunk of learners at a
time in user id order (keyset pages: a few queries per ``CHUNK_LEARNERS`` learners, so
memory stays flat in a course of any size, on databases whose drivers fetch a whole
result set too). For each chunk the LMS gives the usernames (learners it no longer has,
or has retired, are left out) and the current score of each learner's problem state.
Retired learners' facts are deleted by the retirement itself (``privacy``), so they are
absent twice over. The columns are those of the Insights pipeline's report, in its order.
The ``question`` of a part is its latest text as the LMS showed it with a submission
(``ProblemQuestionFact``: course content kept once per part, text and day, not per learner),
read once per problem.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from openedx_analytics import conf
from openedx_analytics.api.outline import course_structure
from openedx_analytics.lms import courses, host, learners
from openedx_analytics.metrics.problem_tally import learner_of
from openedx_analytics.metrics.problems import problem_ids
from openedx_analytics.models import ProblemQuestionFact, ProblemSubmissionFact
from openedx_analytics.pipeline.envelope import parse_course_id

logger = logging.getLogger("openedx_analytics.reports")

#: The report's columns, in the order of the Insights pipeline's problem response report.
PROBLEM_RESPONSE_COLUMNS = ("username", "problem_id", "answer_id", "location", "question", "score", "max_score",
                            "correct", "answer", "total_attempts", "first_attempt_date", "last_attempt_date")
#: Learners read (and looked up in the LMS) at a time, per problem.
CHUNK_LEARNERS = 1000
#: Separator of the names in ``location``.
LOCATION_SEPARATOR = " / "
_FACT_COLUMNS = ("user_id", "attempt", "time", "correct", "answers", "fingerprint")


@dataclass(frozen=True)
class _Answered:
    """One learner's submissions to one problem, as the report shows them."""

    user_id: int
    attempts: int
    answers: tuple  # the last submission's (part_id, value, correct, variant)
    last_correct: bool
    first_time: dt.datetime
    last_time: dt.datetime


def _course(course_id: Any) -> str:
    return str(parse_course_id(str(course_id)))


def problems_in_order(course_id: Any) -> tuple[list[str], dict[str, str]]:
    """The course's submitted problems in outline order (those not in it last, by id), and each one's location:
    the display names of the course, section, subsection, unit and problem joined by `` / ``."""
    course = _course(course_id)
    blocks = course_structure(course)["blocks"]
    course_name = next((info["display_name"] for info in blocks.values() if info["block_type"] == "course"), "")
    if not course_name:
        try:
            course_name = courses.course_display_name(course)
        except host.NotAvailable:
            course_name = course
    never = len(blocks) + 1
    ids = sorted(problem_ids(course, conf.analytics_db()),
                 key=lambda p: (blocks[p]["position"] if p in blocks else never, p))
    locations = {}
    for problem_id in ids:
        info = blocks.get(problem_id, {})
        names = (course_name, info.get("section"), info.get("subsection"), info.get("unit"),
                 info.get("display_name") or problem_id)
        locations[problem_id] = LOCATION_SEPARATOR.join(name for name in names if name)
    return ids, locations


def _learner_chunks(course: str, problem_id: str, using: str) -> Iterator[list[_Answered]]:
    """The learners of one problem, ``CHUNK_LEARNERS`` at a time in user id order (keyset pages)."""
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course, problem_id=problem_id)
    after: int | None = None
    while True:
        page = facts if after is None else facts.filter(user_id__gt=after)
        ids = list(page.order_by("user_id").values_list("user_id", flat=True).distinct()[:CHUNK_LEARNERS])
        if not ids:
            return
        rows = page.filter(user_id__lte=ids[-1]).order_by("user_id").values_list(*_FACT_COLUMNS)
        chunk = []
        for user_id, submissions in groupby(rows, key=itemgetter(0)):
            found = list(submissions)
            learner = learner_of(found)
            times = [row[2] for row in found]
            chunk.append(_Answered(user_id, learner.attempts, learner.answers, learner.last_correct,
                                   min(times), max(times)))
        yield chunk
        after = ids[-1]


def part_questions(course: str, problem_id: str, using: str) -> dict[str, str]:
    """Each part of the problem's latest question text (the latest day's row; one query, a few rows per part)."""
    rows = (ProblemQuestionFact.objects.using(using).filter(course_id=course, problem_id=problem_id)
            .order_by("part_id", "time", "id").values_list("part_id", "question"))
    return dict(rows)  # in time order per part: the latest wins


def iter_problem_responses(course_id: Any) -> Iterator[dict[str, Any]]:
    """The report's rows (``PROBLEM_RESPONSE_COLUMNS``): one per learner and part of their last submission to each
    problem, problems in outline order, learners by user id, parts by id; read and yielded a chunk at a time.

    A last submission that named no part gives one row without ``answer_id``. ``correct`` is the
    part's correctness (the submission's without parts); ``score``/``max_score`` the LMS's current
    grade of the learner's problem state (empty when the LMS has none). ``question`` is the part's latest
    question text (``part_questions``; empty when no submission carried one, and for a row without a part).
    """
    course = _course(course_id)
    using = conf.analytics_db()
    ids, locations = problems_in_order(course)
    for problem_id in ids:
        questions = part_questions(course, problem_id, using)
        for chunk in _learner_chunks(course, problem_id, using):
            user_ids = [answered.user_id for answered in chunk]
            try:
                names = learners.usernames(user_ids)
                scores = learners.problem_scores(course, problem_id, user_ids)
            except host.NotAvailable:
                names, scores = {}, {}
            for answered in chunk:
                username = names.get(answered.user_id)
                if username is None:
                    continue
                score, max_score = scores.get(answered.user_id, (None, None))
                base = {"username": username, "problem_id": problem_id, "location": locations[problem_id],
                        "score": score, "max_score": max_score,
                        "total_attempts": answered.attempts, "first_attempt_date": answered.first_time,
                        "last_attempt_date": answered.last_time}
                parts = answered.answers or (("", "", answered.last_correct, ""),)
                for part_id, value, correct, _variant in parts:
                    yield {**base, "answer_id": part_id, "question": questions.get(part_id, "") if part_id else "",
                           "correct": correct, "answer": value}


def log_download(report: str, course_id: str, user: Any) -> None:
    """Record who downloaded a report of a course, and when (the log record's time): a log line on the
    ``openedx_analytics.reports`` logger naming the user by LMS user id only."""
    logger.info("report %s of course %s downloaded by user id %s at %s", report, course_id,
                getattr(user, "pk", None), dt.datetime.now(dt.timezone.utc).isoformat())
