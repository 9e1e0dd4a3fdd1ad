"""What a learner's submissions add to a problem, and the figures a problem's tally gives: pure, no database.

Each learner's submissions to a problem make one ``Learner`` (their count, first and
last correctness, attempts, last answers); a problem's ``Tally`` is the sum of its
learners, and ``compute`` turns it into the figures we serve. ``metrics.problems`` reads
the facts and stores the results.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

SubmissionRow = tuple[int, int | None, dt.datetime, bool, list, str]  # user, attempt, time, correct, answers, fp
AnswerKey = tuple[str, str, "bool | None", str]  # part_id, answer_value, correct, variant


@dataclass
class ProblemFigures:
    """What we serve for one problem."""

    part_ids: list[str] = field(default_factory=list)
    users_attempted: int = 0
    total_submissions: int = 0
    correct_submissions: int = 0
    first_attempt_correct: int = 0
    attempts_mean: float = 0.0
    #: (part_id, answer_value, correct, variant) -> learners whose last answer it was
    answers: dict[tuple[str, str, bool | None, str], int] = field(default_factory=dict)


def _order(row: SubmissionRow) -> tuple:
    """Submissions in time order; the attempt number only breaks ties (staff can reset it to 1)."""
    _user, attempt, time, _c, _a, fingerprint = row
    return (time, attempt if attempt is not None else 0, fingerprint)


def consolidate_variants(answers: Counter) -> dict[tuple[str, str, bool | None, str], int]:
    """Merge the variants of a part whose sets of answers are equal (labels joined with commas)."""
    by_part_variant: dict[tuple[str, str], dict[tuple[str, bool | None], int]] = defaultdict(dict)
    for (part, value, correct, variant), count in answers.items():
        by_part_variant[(part, variant)][(value, correct)] = count
    groups: dict[tuple[str, frozenset], list[str]] = defaultdict(list)
    for (part, variant), values in by_part_variant.items():
        groups[(part, frozenset(values))].append(variant)
    merged: dict[tuple[str, str, bool | None, str], int] = {}
    for (part, _values), variants in groups.items():
        label = ",".join(sorted(variants))
        for variant in variants:
            for (value, correct), count in by_part_variant[(part, variant)].items():
                key = (part, value, correct, label)
                merged[key] = merged.get(key, 0) + count
    return merged


@dataclass(frozen=True)
class Learner:
    """What one learner's submissions add to a problem."""

    submissions: int
    attempts: int
    first_correct: bool
    last_correct: bool
    answers: tuple[AnswerKey, ...]  # of the last submission
    parts: tuple[str, ...]  # every part any of their submissions answered


def learner_of(submissions: Iterable[SubmissionRow]) -> Learner:
    """One learner's (de-duplicated) submissions to one problem, in any order.

    First and last are by event time, the attempt number breaking ties only. Attempts are
    the submissions seen, or the attempt number the LMS reported when that is higher (a
    backfill from the LMS's state knows only the last submission).
    """
    ordered = list(submissions)
    if len(ordered) > 1:
        ordered.sort(key=_order)
    first, last = ordered[0], ordered[-1]
    parts = {answer["part_id"] for submission in ordered for answer in submission[4]}
    return Learner(
        submissions=len(ordered),
        attempts=max(len(ordered), max((s[1] or 0) for s in ordered)),
        first_correct=bool(first[3]),
        last_correct=bool(last[3]),
        answers=tuple((a["part_id"], a["value"], a["correct"], a.get("variant") or "") for a in last[4]),
        parts=tuple(sorted(parts)),
    )


@dataclass
class Tally:
    """A problem's sums over its learners."""

    users: int = 0
    submissions: int = 0
    correct: int = 0
    first_correct: int = 0
    attempts: int = 0
    parts: Counter = field(default_factory=Counter)
    answers: Counter = field(default_factory=Counter)

    def add(self, learner: Learner, sign: int = 1) -> None:
        """Add (``sign`` 1) or subtract (-1) one learner."""
        self.users += sign
        self.submissions += sign * learner.submissions
        self.correct += sign * int(learner.last_correct)
        self.first_correct += sign * int(learner.first_correct)
        self.attempts += sign * learner.attempts
        for part in learner.parts:
            self.parts[part] += sign
        for answer in learner.answers:
            self.answers[answer] += sign


def compute(tally: Tally) -> ProblemFigures:
    """A problem's figures from its tally."""
    users = tally.users
    return ProblemFigures(
        part_ids=sorted(part for part, n in tally.parts.items() if n > 0),
        users_attempted=users,
        total_submissions=tally.submissions,
        correct_submissions=tally.correct,
        first_attempt_correct=tally.first_correct,
        attempts_mean=round(tally.attempts / users, 4) if users else 0.0,
        answers=consolidate_variants(Counter({key: n for key, n in tally.answers.items() if n > 0})),
    )
