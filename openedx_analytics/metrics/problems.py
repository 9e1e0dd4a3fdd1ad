"""Problems: submissions, correctness, first-attempt correctness and answer distributions."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from openedx_analytics.models import ProblemAnswer, ProblemSubmissionFact, ProblemSummary
from openedx_analytics.pipeline.facts import expand_keys

SubmissionRow = tuple[int, int | None, dt.datetime, bool, list, str]  # user, attempt, time, correct, answers, fp


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
    user, attempt, time, _c, _a, fingerprint = row
    return (attempt if attempt is not None else 0, time, fingerprint)


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


def problem_figures(rows: Iterable[SubmissionRow]) -> ProblemFigures:
    """Figures for one problem from all its (de-duplicated) submissions."""
    by_user: dict[int, list[SubmissionRow]] = defaultdict(list)
    for row in rows:
        by_user[row[0]].append(row)
    figures = ProblemFigures()
    answers: Counter = Counter()
    parts: set[str] = set()
    attempts_total = 0
    for submissions in by_user.values():
        submissions.sort(key=_order)
        first, last = submissions[0], submissions[-1]
        figures.total_submissions += len(submissions)
        figures.correct_submissions += int(last[3])
        figures.first_attempt_correct += int(first[3])
        attempts_total += max(len(submissions), max((s[1] or 0) for s in submissions))
        for answer in last[4]:
            parts.add(answer["part_id"])
            answers[(answer["part_id"], answer["value"], answer["correct"], answer.get("variant") or "")] += 1
        for submission in submissions:
            parts.update(a["part_id"] for a in submission[4])
    figures.users_attempted = len(by_user)
    figures.attempts_mean = round(attempts_total / len(by_user), 4) if by_user else 0.0
    figures.part_ids = sorted(parts)
    figures.answers = consolidate_variants(answers)
    return figures


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Rebuild the summary and answer distribution of each problem in ``keys`` (problem ids; ``ALL_KEYS``: all)."""
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course_id)
    for problem_id in sorted(expand_keys(keys, facts, "problem_id")):
        _recompute_problem(course_id, problem_id, now, using)


def _recompute_problem(course_id: str, problem_id: str, now: dt.datetime, using: str) -> None:
    scope = {"course_id": course_id, "problem_id": problem_id}
    rows = ProblemSubmissionFact.objects.using(using).filter(**scope).values_list(
        "user_id", "attempt", "time", "correct", "answers", "fingerprint"
    )
    figures = problem_figures(rows.iterator(chunk_size=5000))
    ProblemAnswer.objects.using(using).filter(**scope).delete()
    if not figures.users_attempted:
        ProblemSummary.objects.using(using).filter(**scope).delete()
        return
    ProblemSummary.objects.using(using).update_or_create(
        **scope,
        defaults={
            "part_ids": figures.part_ids,
            "users_attempted": figures.users_attempted,
            "total_submissions": figures.total_submissions,
            "correct_submissions": figures.correct_submissions,
            "first_attempt_correct": figures.first_attempt_correct,
            "attempts_mean": figures.attempts_mean,
            "last_updated": now,
        },
    )
    ProblemAnswer.objects.using(using).bulk_create(
        [
            ProblemAnswer(**scope, part_id=part, answer_value=value, correct=correct, variant=variant, count=n)
            for (part, value, correct, variant), n in sorted(figures.answers.items(), key=str)
        ],
        batch_size=1000,
    )
