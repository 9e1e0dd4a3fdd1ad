"""Problems: graded submissions with their answers (``problem_check``) and the newer graded-problem event.

``problem_check`` comes from the server (a graded submission: correctness, attempts and
each part's answer) and from the browser and the mobile apps, whose copies count only as
their sender's activity: only the server grades, so only its event makes a submission
(a client copy, however server-like its payload, is written by whoever holds the device).
Answers are read per part through the keys each part may hold. The question text a part
carries (``submission[part].question``, the LMS's label of the input) is course content: it
leaves as a ``PartQuestion`` of its own, one per part and text and day whoever submitted,
never in the learner's submission.
"""
from __future__ import annotations

import html
import re
from typing import Any

from openedx_analytics.pipeline.envelope import Envelope
from openedx_analytics.pipeline.events.activity import learner_activity
from openedx_analytics.pipeline.events.registration import Family
from openedx_analytics.pipeline.payload import Entries, Payload
from openedx_analytics.pipeline.records import (
    PartAnswer,
    PartQuestion,
    ProblemSubmission,
    Record,
    column_length,
    stored_answer,
    stored_question,
)
from openedx_analytics.pipeline.rejected import Rejected

PROBLEMS = Family("problems")

_TAGS = re.compile(r"<[^>]*>")

#: Most parts (inputs) one submission may carry. The LMS does not tell us a problem's parts, so
#: they are read from the submission, whose part ids the learner's form names: a real problem has
#: a handful (the largest seen have a few dozen), and a submission naming more is refused whole
#: (``too_many_parts``) rather than cut, since any subset kept would be an arbitrary one.
MAX_PARTS = 100
#: Longest input type kept (the LMS's are short words: ``choicegroup``, ``textline``).
MAX_INPUT_TYPE = 40


def answer_text(value: Any) -> str:
    """An answer as shown in distributions: HTML stripped; several values as ``[a|b]``; cut to
    ``records.MAX_ANSWER_CHARACTERS`` (marked) when longer."""
    return stored_answer(_plain_answer(value))


def _plain_answer(value: Any) -> str:
    if isinstance(value, list):
        return "[" + "|".join(_plain_answer(item) for item in value) + "]"
    text = html.unescape(_TAGS.sub("", str(value)))
    return " ".join(text.split())


def _part_answers(payload: Payload) -> tuple[PartAnswer, ...]:
    answers = payload.mapping("answers")
    submission = payload.entries("submission")
    correct_map = payload.entries("correct_map")
    part_ids = set(answers) | set(submission)
    if len(part_ids) > MAX_PARTS:
        raise Rejected("too_many_parts", f"{len(part_ids)} parts, at most {MAX_PARTS}", "data.submission")
    parts = []
    for part_id in sorted(part_ids):
        detail = submission.part(part_id)
        value = detail.get("answer", answers.get(part_id, ""))
        correctness = correct_map.part(part_id).get("correctness")
        correct = detail.get("correct")
        if not isinstance(correct, bool):
            correct = None if correctness is None else correctness in ("correct", "partially-correct")
        variant = detail.get("variant") or ""
        input_type = str(detail.get("input_type") or "")[:MAX_INPUT_TYPE]
        parts.append(PartAnswer(part_id=str(part_id), value=answer_text(value), correct=correct, variant=str(variant),
                                input_type=input_type))
    return tuple(parts)


@PROBLEMS.register(
    "problem_check",
    sources=None,
    fields=("problem_id", "grade", "success", "attempts", "answers",
            Entries("submission", ("answer", "correct", "variant", "input_type", "question")),
            Entries("correct_map", ("correctness",))),
)
def problem_check(envelope: Envelope) -> list[Record]:
    """Server ``problem_check``: a graded submission. A browser or mobile copy only counts as activity."""
    payload = envelope.payload
    if not envelope.from_server or payload.is_empty:
        return [learner_activity(envelope)]
    activity = learner_activity(envelope, "problem")
    problem_id = payload.get("problem_id") or (envelope.context.get("module") or {}).get("usage_key")
    if not isinstance(problem_id, str) or not problem_id:
        raise Rejected("missing_field", "problem_id", "data.problem_id")
    if len(problem_id) > column_length("ProblemSubmissionFact", "problem_id"):
        raise Rejected("too_long", f"problem_id has {len(problem_id)} characters", "data.problem_id")
    grade = payload.number("grade")
    success = payload.get("success")
    if grade is not None:
        correct = grade > 0
    elif success in ("correct", "incorrect", "partially-correct"):
        correct = success != "incorrect"
    else:
        raise Rejected("missing_field", "grade or success", "data.grade")
    attempts = payload.number("attempts")
    submission = ProblemSubmission(
        course_id=activity.course_id,
        problem_id=problem_id,
        user_id=activity.user_id,
        time=envelope.time,
        attempt=int(attempts) if attempts is not None else None,
        correct=correct,
        answers=_part_answers(payload),
    )
    return [activity, submission, *_questions(submission, payload)]


def _questions(submission: ProblemSubmission, payload: Payload) -> list[PartQuestion]:
    """The question text of each answered part that names one (plain text, cut to its column), as course content."""
    entries = payload.entries("submission")
    questions = []
    for answer in submission.answers:
        text = entries.part(answer.part_id).get("question")
        if not isinstance(text, str):
            continue
        question = stored_question(_plain_answer(text))
        if question:
            questions.append(PartQuestion(course_id=submission.course_id, problem_id=submission.problem_id,
                                          part_id=answer.part_id, time=submission.time, question=question))
    return questions


@PROBLEMS.register("edx.grades.problem.submitted")
def problem_graded(envelope: Envelope) -> list[Record]:
    """The newer graded-problem event counts as an attempted problem (answers come from problem_check)."""
    return [learner_activity(envelope, "problem")]
