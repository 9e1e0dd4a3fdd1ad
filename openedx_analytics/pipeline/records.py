"""Typed records the normalizer produces: one kind per fact table (named by its ``fact_model``).

Each record knows its identity (``fingerprint``): two deliveries of the same event give
records with equal fingerprints, so the fact writers store them once. ``check_bounds``
holds each record to the columns it is stored in, reading the limits from the model
fields themselves (one mechanism, no copied numbers).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from openedx_analytics.pipeline.rejected import Rejected

FINGERPRINT_LENGTH = 40


def _fingerprint(*parts: object, at: dt.datetime | None = None) -> str:
    """A 40-character identity: a hash of ``parts``, led by the time ``at`` when given.

    Leading with the time (hex microseconds) makes fingerprints of a log written in time
    order arrive in index order, so the unique index grows at its end instead of at random
    places; the hash that follows still covers every part, the time included.
    """
    text = "\x1f".join(["" if part is None else str(part) for part in parts])
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
    if at is None:
        return digest
    return (f"{int(at.timestamp() * 1_000_000):014x}" + digest)[:FINGERPRINT_LENGTH]


@dataclass(frozen=True, slots=True)
class EnrollmentChange:
    """A learner's enrollment state at a time. ``is_active`` None means "unchanged" (mode change only)."""

    fact_model: ClassVar[str] = "EnrollmentFact"

    course_id: str
    user_id: int
    time: dt.datetime
    mode: str
    is_active: bool | None

    def fingerprint(self) -> str:
        """Identity of the state change (the same change from two doors differs in time only)."""
        return _fingerprint("enr", self.course_id, self.user_id, self.time.isoformat(), self.mode, self.is_active,
                            at=self.time)


@dataclass(frozen=True, slots=True)
class Activity:
    """A learner was active in a course on a day, in the given kinds (``any`` and maybe more)."""

    fact_model: ClassVar[str] = "ActivityFact"

    course_id: str
    user_id: int
    day: dt.date
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContentVisit:
    """A learner's activity on a day touched a block of the course (``kinds``: ``any`` and maybe more).

    ``block_id`` is what the event names (a usage key, as text); the ingest fills ``parts``
    with the outline parts holding it (``lms.outline_places``) and stores one row per part
    and kind. A visit whose block is in no part of the outline stores nothing.
    """

    fact_model: ClassVar[str] = "ContentActivityFact"

    course_id: str
    user_id: int
    day: dt.date
    block_id: str
    kinds: tuple[str, ...]
    parts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VideoEvent:
    """A player event on a video; positions are seconds into the video."""

    fact_model: ClassVar[str] = "VideoEventFact"

    course_id: str
    video_id: str
    user_id: int
    time: dt.datetime
    action: str  # play, pause, seek, stop
    position: float | None = None
    old_time: float | None = None
    new_time: float | None = None
    duration: float | None = None

    def fingerprint(self) -> str:
        """Identity of the player event."""
        return _fingerprint(
            "vid", self.course_id, self.video_id, self.user_id, self.time.isoformat(), self.action,
            self.position, self.old_time, self.new_time, at=self.time,
        )


@dataclass(frozen=True, slots=True)
class PartAnswer:
    """A learner's answer to one part (input) of a problem."""

    part_id: str
    value: str
    correct: bool | None
    variant: str = ""
    #: The part's input type as the event named it (``choicegroup``, ``textline``...; "" when it did not):
    #: what tells a choice from free text when answers are exported for research.
    input_type: str = ""


@dataclass(frozen=True, slots=True)
class ProblemSubmission:
    """One graded submission of a learner to a problem."""

    fact_model: ClassVar[str] = "ProblemSubmissionFact"

    course_id: str
    problem_id: str
    user_id: int
    time: dt.datetime
    attempt: int | None
    correct: bool
    answers: tuple[PartAnswer, ...] = ()

    def fingerprint(self) -> str:
        """Identity of the submission: its time and attempt number.

        Only a re-delivery of the same event has both equal; after staff reset a learner's
        attempts the next submission repeats an attempt number at a new time, and counts.
        """
        return _fingerprint("prb", self.course_id, self.problem_id, self.user_id, self.time.isoformat(),
                            self.attempt, at=self.time)

    def answers_json(self) -> list[dict]:
        """Answers as stored in the fact table (``input_type`` only when the event named one)."""
        stored = [dataclasses.asdict(answer) for answer in self.answers]
        for answer in stored:
            if not answer["input_type"]:
                del answer["input_type"]
        return stored


@dataclass(frozen=True, slots=True)
class PartQuestion:
    """The question text of one part of a problem, as the LMS showed it with a submission: course content.

    Names no learner: every learner submitting the part on a day gives the same record, one
    fact. The text is plain (HTML stripped), whitespace collapsed, cut to
    ``MAX_QUESTION_CHARACTERS`` (marked) when longer.
    """

    fact_model: ClassVar[str] = "ProblemQuestionFact"

    course_id: str
    problem_id: str
    part_id: str
    time: dt.datetime
    question: str

    def fingerprint(self) -> str:
        """Identity: the part, its text and the day (a text edited, or edited back, counts anew the next day)."""
        return _fingerprint("pqt", self.course_id, self.problem_id, self.part_id, self.question,
                            self.time.date().isoformat())


@dataclass(frozen=True, slots=True)
class GradeChange:
    """A learner's course grade (0.0 to 1.0) computed at a time."""

    fact_model: ClassVar[str] = "GradeFact"

    course_id: str
    user_id: int
    time: dt.datetime
    percent: float

    def fingerprint(self) -> str:
        """Identity of the grade computation."""
        return _fingerprint("grd", self.course_id, self.user_id, self.time.isoformat(), round(self.percent, 6),
                            at=self.time)


@dataclass(frozen=True, slots=True)
class PassingChange:
    """A learner's passing status reported at a time."""

    fact_model: ClassVar[str] = "PassingFact"

    course_id: str
    user_id: int
    time: dt.datetime
    is_passing: bool

    def fingerprint(self) -> str:
        """Identity of the status report."""
        return _fingerprint("pas", self.course_id, self.user_id, self.time.isoformat(), self.is_passing, at=self.time)


@dataclass(frozen=True, slots=True)
class CertificateChange:
    """A learner's certificate status and mode reported at a time."""

    fact_model: ClassVar[str] = "CertificateFact"

    course_id: str
    user_id: int
    time: dt.datetime
    mode: str
    status: str

    def fingerprint(self) -> str:
        """Identity of the certificate status report."""
        return _fingerprint("crt", self.course_id, self.user_id, self.time.isoformat(), self.mode, self.status,
                            at=self.time)


Record = (EnrollmentChange | Activity | ContentVisit | VideoEvent | ProblemSubmission | PartQuestion | GradeChange
          | PassingChange | CertificateChange)


# ---------------------------------------------------------------- column bounds

#: Longest answer text stored per part, in characters: an answer distribution lists answers, it does not
#: archive essays; a longer answer is cut to this length, its last character the ``TRUNCATED`` marker.
MAX_ANSWER_CHARACTERS = 1000
#: Last character of an answer cut to ``MAX_ANSWER_CHARACTERS`` (a reader sees it was cut).
TRUNCATED = "\u2026"


#: Longest question text kept per problem part (its column's length): a longer one is cut and marked.
MAX_QUESTION_CHARACTERS = 1000


def stored_question(text: str) -> str:
    """``text`` as kept for a problem part: whole up to ``MAX_QUESTION_CHARACTERS``, else cut and marked."""
    if len(text) <= MAX_QUESTION_CHARACTERS:
        return text
    return text[:MAX_QUESTION_CHARACTERS - len(TRUNCATED)] + TRUNCATED


def stored_answer(text: str) -> str:
    """``text`` as stored in an answer distribution: whole up to ``MAX_ANSWER_CHARACTERS``, else cut and marked.

    Cut rather than refused: the submission is the server's grading of a real attempt, and its
    correctness must count even when the learner typed a book into a text box.
    """
    if len(text) <= MAX_ANSWER_CHARACTERS:
        return text
    return text[:MAX_ANSWER_CHARACTERS - len(TRUNCATED)] + TRUNCATED


#: PartAnswer attribute -> the answer-distribution column it ends up in.
_PART_COLUMNS = (("part_id", "part_id"), ("variant", "variant"))


#: (attribute, its column's max_length or None, its column's integer range or None)
Limit = tuple[str, int | None, tuple[int, int] | None]


@cache
def _column_limit(model_name: str, field_name: str) -> tuple[int | None, tuple[int, int] | None]:
    """The bounds of one model column: ``max_length``, and the integer range Django itself holds it to."""
    from django.apps import apps
    from django.db.backends.base.operations import BaseDatabaseOperations

    column = apps.get_model("openedx_analytics", model_name)._meta.get_field(field_name)
    return column.max_length, BaseDatabaseOperations.integer_field_ranges.get(column.get_internal_type())


@cache
def _limits(record_type: type) -> tuple[Limit, ...]:
    """The column bounds of every stored attribute of ``record_type``: its fields named like a column of its
    ``fact_model``, in field order, those columns without a bound left out (read from the models once)."""
    from django.apps import apps

    columns = {field.name for field in apps.get_model("openedx_analytics", record_type.fact_model)._meta.fields}
    limits = (
        (field.name, *_column_limit(record_type.fact_model, field.name))
        for field in dataclasses.fields(record_type) if field.name in columns
    )
    return tuple(limit for limit in limits if limit[1] is not None or limit[2] is not None)


def column_length(model_name: str, field_name: str) -> int:
    """The ``max_length`` of a text column: the length bound an id is held to at the door, before any memo."""
    max_length = _column_limit(model_name, field_name)[0]
    if max_length is None:
        raise ValueError(f"{model_name}.{field_name} has no max_length")
    return max_length


def _check(label: str, value: Any, max_length: int | None, integer_range: tuple[int, int] | None) -> None:
    if isinstance(value, str):
        if max_length is not None and len(value) > max_length:
            raise Rejected("too_long", f"{label} has {len(value)} characters, its column {max_length}")
    elif integer_range is not None and isinstance(value, int) and not isinstance(value, bool):
        if not integer_range[0] <= value <= integer_range[1]:
            raise Rejected("out_of_range", f"{label} {value} does not fit its column ({integer_range[1]} at most)")


def check_bounds(record: Record) -> None:
    """Reject ``record`` when a value does not fit its column: a string longer than the
    column's ``max_length`` (``too_long``) or an integer outside its column type
    (``out_of_range``). No id is ever truncated here: a cut course or part id would count
    under another name, and a failing insert would take its whole batch down with it. A
    block id that fits its column fits a dirty marker too: one too long to name a learner
    as well marks its whole block (``markers.learner_key``).
    """
    for attribute, max_length, integer_range in _limits(type(record)):
        value = getattr(record, attribute)
        if type(value) is str:  # the common cases inline, ``_check`` says what is wrong
            if max_length is None or len(value) <= max_length:
                continue
        elif type(value) is int:
            if integer_range is None or integer_range[0] <= value <= integer_range[1]:
                continue
        _check(attribute, value, max_length, integer_range)
    if isinstance(record, ProblemSubmission):
        for answer in record.answers:
            if len(answer.value) > MAX_ANSWER_CHARACTERS:
                raise Rejected("too_long", f"answer value has {len(answer.value)} characters, "
                                           f"{MAX_ANSWER_CHARACTERS} are stored")
            for attribute, column in _PART_COLUMNS:
                _check(f"answer {attribute}", getattr(answer, attribute), *_column_limit("ProblemAnswer", column))
