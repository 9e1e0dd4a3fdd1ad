"""Problems: submissions, correctness, first-attempt correctness and answer distributions.

Each learner's submissions to a problem make one ``Learner`` (their count, first and
last correctness, attempts, last answers); a problem's ``Tally`` is the sum of its
learners and ``compute`` turns it into the figures we serve. ``recompute`` (what the
drain calls) rebuilds only the learners who submitted: their old rows are subtracted
from the stored tally and the new ones added, so a submission costs the same in a course
of any size. A whole rebuild sums every learner afresh.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from openedx_analytics.db.bulk import insert_ignore, upsert
from openedx_analytics.metrics.store import IdsMerged, chunks, pair_filters, rebuild_course, sync_rows
from openedx_analytics.models import (
    ProblemAnswer,
    ProblemAnswerTally,
    ProblemLearner,
    ProblemSubmissionFact,
    ProblemSummary,
)
from openedx_analytics.pipeline.markers import ALL_KEYS, expand_keys, split_learner_keys

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


def problem_figures(rows: Iterable[SubmissionRow]) -> ProblemFigures:
    """Figures for one problem from all its (de-duplicated) submissions."""
    return compute(compute_problem(_learners(rows)))


def _learners(rows: Iterable[SubmissionRow]) -> Iterator[tuple[int, Learner]]:
    by_user: dict[int, list[SubmissionRow]] = defaultdict(list)
    for row in rows:
        by_user[row[0]].append(row)
    for user_id, submissions in by_user.items():
        yield user_id, learner_of(submissions)


def compute_problem(learners: Iterable[tuple[int, Learner]]) -> Tally:
    """A problem's tally from all its learners (what a whole rebuild and ``verify_analytics`` start from)."""
    tally = Tally()
    for _user, learner in learners:
        tally.add(learner)
    return tally


_FACT_COLUMNS = ("user_id", "attempt", "time", "correct", "answers", "fingerprint")
_LEARNER_COLUMNS = ("course_id", "problem_id", "user_id", "submissions", "attempts", "first_correct",
                    "last_correct", "answers", "parts")
SUMMARY_FIELDS = ("part_ids", "users_attempted", "total_submissions", "correct_submissions",
                  "first_attempt_correct", "attempts_mean")


def load_learners(course_id: str, problem_id: str, using: str,
                  user_ids: Sequence[int] | None = None) -> Iterator[tuple[int, Learner]]:
    """Each learner's submissions to one problem (only ``user_ids``, if given), one learner at a time."""
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course_id, problem_id=problem_id)
    groups = [facts] if user_ids is None else [facts.filter(user_id__in=ids) for ids in chunks(sorted(user_ids))]
    for queryset in groups:
        # Read in table order and group here: one problem's submissions fit in memory, and
        # reading them in learner order costs a random read per row on a large table.
        yield from _learners(queryset.values_list(*_FACT_COLUMNS).order_by().iterator(chunk_size=5000))


def problem_ids(course_id: str, using: str) -> list[str]:
    """Every problem of the course with a submission."""
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course_id)
    return sorted(expand_keys({ALL_KEYS}, facts, "problem_id"))


def stored(course_id: str, using: str) -> dict[str, dict[Any, Any]]:
    """The course's stored problem rows, keyed as ``as_rows`` keys them."""
    rows: dict[str, dict[Any, Any]] = {"problem": {}, "problem tally": {}, "answer": {}, "answer tally": {}}
    summaries = ProblemSummary.objects.using(using).filter(course_id=course_id).values_list(
        "problem_id", *SUMMARY_FIELDS, "attempts_total", "part_counts")
    for problem_id, *row in summaries:
        rows["problem"].update({(problem_id, name): value for name, value in zip(SUMMARY_FIELDS, row, strict=False)})
        rows["problem tally"][problem_id] = tuple(row[len(SUMMARY_FIELDS):])
    for problem_id, *key, count in ProblemAnswer.objects.using(using).filter(course_id=course_id).values_list(
            "problem_id", "part_id", "answer_value", "correct", "variant", "count"):
        rows["answer"][(problem_id, *key)] = count
    for problem_id, *key, count in ProblemAnswerTally.objects.using(using).filter(course_id=course_id).values_list(
            "problem_id", "part_id", "answer_value", "correct", "variant", "count"):
        rows["answer tally"][(problem_id, *key)] = count
    return rows


def as_rows(problem_id: str, tally: Tally) -> dict[str, dict[Any, Any]]:
    """One problem's tally and figures in the shape ``stored`` reads."""
    if tally.users <= 0:
        return {}
    figures = compute(tally)
    return {
        "problem": {(problem_id, name): getattr(figures, name) for name in SUMMARY_FIELDS},
        "problem tally": {problem_id: (tally.attempts, _positive(tally.parts))},
        "answer": {(problem_id, *key): n for key, n in figures.answers.items()},
        "answer tally": {(problem_id, *key): n for key, n in tally.answers.items() if n > 0},
    }


def _positive(counter: Counter) -> dict[str, int]:
    return {key: n for key, n in sorted(counter.items()) if n > 0}


def answer_key(key: AnswerKey) -> str:
    """The stored identity of a raw answer (part, value, correct, variant): values can be long."""
    return hashlib.sha1(repr(key).encode("utf-8")).hexdigest()


def write(course_id: str, problem_id: str, tally: Tally, now: dt.datetime, using: str,
          *, parts: Iterable[str] | None = None, answers: Iterable[AnswerKey] | None = None) -> None:
    """Store a problem's summary and answer distribution from its tally.

    With ``answers`` (the raw answers whose count changed) only those tally rows are
    rewritten, and only the ``parts`` they belong to are merged again; without, all.
    """
    scope = {"course_id": course_id, "problem_id": problem_id}
    if tally.users <= 0:
        for model in (ProblemSummary, ProblemAnswer, ProblemAnswerTally):
            model.objects.using(using).filter(**scope).delete()
        return
    figures = compute(tally)
    ProblemSummary.objects.using(using).update_or_create(
        **scope,
        defaults={**{name: getattr(figures, name) for name in SUMMARY_FIELDS},
                  "attempts_total": tally.attempts, "part_counts": _positive(tally.parts), "last_updated": now},
    )
    changed = set(tally.answers) if answers is None else set(answers)
    wanted = {(answer_key(key),): (*key, n) for key in changed if (n := tally.answers.get(key, 0)) > 0}
    sync_rows(ProblemAnswerTally, scope, ("answer_key",), ("part_id", "answer_value", "correct", "variant", "count"),
              wanted, using, within=None if answers is None else {"answer_key__in": [answer_key(k) for k in changed]})
    touched = None if answers is None else sorted({key[0] for key in changed} | set(parts or ()))
    if touched is None:  # the tally holds every answer
        by_part = Counter({key: n for key, n in tally.answers.items() if n > 0})
    else:  # merge the touched parts again, from every learner's answers to them
        by_part = Counter()
        raw = ProblemAnswerTally.objects.using(using).filter(**scope)
        for ids in chunks(touched):
            for *key, n in raw.filter(part_id__in=ids).values_list("part_id", "answer_value", "correct", "variant",
                                                                   "count"):
                by_part[tuple(key)] = n
    merged = consolidate_variants(by_part)
    fields = ("part_id", "answer_value", "correct", "variant")
    for ids in ([None] if touched is None else list(chunks(touched))):
        sync_rows(ProblemAnswer, scope, fields, ("count",),
                  {key: (n,) for key, n in merged.items() if ids is None or key[0] in ids}, using,
                  within=None if ids is None else {"part_id__in": ids})


def _learner_row(course_id: str, problem_id: str, user_id: int, learner: Learner) -> tuple:
    return (course_id, problem_id, user_id, learner.submissions, learner.attempts, learner.first_correct,
            learner.last_correct, [list(a) for a in learner.answers], list(learner.parts))


def _learner_from_row(submissions: int, attempts: int, first_correct: bool, last_correct: bool,
                      answers: list, parts: list) -> Learner:
    return Learner(submissions, attempts, first_correct, last_correct, tuple(tuple(a) for a in answers),
                   tuple(parts))


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Bring the problems named by ``keys`` up to date: ``"<user_id> <problem_id>"`` replays that learner,
    a bare ``"<problem_id>"`` every learner of the problem, ``ALL_KEYS`` every problem of the course.

    A problem whose tally is not stored yet is rebuilt from all its learners.
    """
    if ALL_KEYS in keys:
        rebuild_course(lambda: _rebuild_course(course_id, now, using), lambda: problem_ids(course_id, using),
                       lambda problem_id: _rebuild(course_id, problem_id, now, using), using)
        return
    whole, users_by_problem = split_learner_keys(keys)
    for problem_id in sorted(whole):
        _rebuild(course_id, problem_id, now, using)
    _update(course_id, users_by_problem, now, using)


def _rebuild_course(course_id: str, now: dt.datetime, using: str) -> None:
    """Rebuild every problem of the course (what ``_rebuild`` does per problem, in a few queries): one read of
    the course's submissions grouped by problem, learner rows written per problem, all figures written together.

    Raises ``IdsMerged`` when the submissions name a problem id the database's own distinct
    list lacks (it holds ids it compares as equal); the caller then rebuilds one problem at a time.
    """
    known = problem_ids(course_id, using)
    for ids in chunks(known):
        ProblemLearner.objects.using(using).filter(course_id=course_id, problem_id__in=ids).delete()
    known_ids = set(known)
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course_id)
    tallies: dict[str, Tally] = {}
    # One problem's submissions at a time, as ``load_learners`` reads them (grouped by learner here).
    for problem_id, submissions in groupby(
            facts.order_by("problem_id").values_list("problem_id", *_FACT_COLUMNS).iterator(chunk_size=5000),
            key=itemgetter(0)):
        if problem_id not in known_ids or problem_id in tallies:
            raise IdsMerged(problem_id)
        tally = tallies[problem_id] = Tally()
        rows: list[tuple] = []
        for user_id, learner in _learners(submission[1:] for submission in submissions):
            tally.add(learner)
            rows.append(_learner_row(course_id, problem_id, user_id, learner))
        insert_ignore(ProblemLearner, _LEARNER_COLUMNS, rows, using, ignore_conflicts=False)
    write_many(course_id, tallies, now, using)


def _store_summaries(course_id: str, tallies: dict[str, Tally], now: dt.datetime,
                     using: str) -> dict[str, Tally]:
    """Drop the rows of problems left with no learner, upsert the others' summaries; return those others."""
    gone = sorted(problem_id for problem_id, tally in tallies.items() if tally.users <= 0)
    for ids in chunks(gone):
        for model in (ProblemSummary, ProblemAnswer, ProblemAnswerTally):
            model.objects.using(using).filter(course_id=course_id, problem_id__in=ids).delete()
    live = {problem_id: tally for problem_id, tally in tallies.items() if tally.users > 0}
    summaries = []
    for problem_id, tally in sorted(live.items()):
        figures = compute(tally)
        summaries.append(ProblemSummary(
            course_id=course_id, problem_id=problem_id, attempts_total=tally.attempts,
            part_counts=_positive(tally.parts), last_updated=now,
            **{name: getattr(figures, name) for name in SUMMARY_FIELDS}))
    upsert(ProblemSummary, summaries, ["course_id", "problem_id"],
           [*SUMMARY_FIELDS, "attempts_total", "part_counts", "last_updated"], using)
    return live


def write_many(course_id: str, tallies: dict[str, Tally], now: dt.datetime, using: str) -> None:
    """``write`` (every answer) for many problems of a course: a few queries per chunk of problems, not per problem."""
    live = _store_summaries(course_id, tallies, now, using)
    scope = {"course_id": course_id}
    for ids in chunks(sorted(live)):
        within = {"problem_id__in": list(ids)}
        sync_rows(ProblemAnswerTally, scope, ("problem_id", "answer_key"),
                  ("part_id", "answer_value", "correct", "variant", "count"),
                  {(problem_id, answer_key(key)): (*key, n) for problem_id in ids
                   for key, n in live[problem_id].answers.items() if n > 0}, using, within=within)
        sync_rows(ProblemAnswer, scope, ("problem_id", "part_id", "answer_value", "correct", "variant"), ("count",),
                  {(problem_id, *key): (n,) for problem_id in ids
                   for key, n in consolidate_variants(Counter(
                       {key: n for key, n in live[problem_id].answers.items() if n > 0})).items()},
                  using, within=within)


def _rebuild(course_id: str, problem_id: str, now: dt.datetime, using: str) -> None:
    """Rebuild every learner's row of one problem and its tally from scratch."""
    scope = {"course_id": course_id, "problem_id": problem_id}
    ProblemLearner.objects.using(using).filter(**scope).delete()
    tally = Tally()
    rows: list[tuple] = []
    for user_id, learner in load_learners(course_id, problem_id, using):
        tally.add(learner)
        rows.append(_learner_row(course_id, problem_id, user_id, learner))
    insert_ignore(ProblemLearner, _LEARNER_COLUMNS, rows, using, ignore_conflicts=False)
    write(course_id, problem_id, tally, now, using)


def _update(course_id: str, users_by_problem: dict[str, set[int]], now: dt.datetime, using: str) -> None:
    """Rebuild the learners' rows of their problems: subtract their old rows from each problem's tally, add
    the new ones. A few queries for all the problems of the unit, not per problem; a problem whose tally is
    not stored yet is rebuilt from all its learners."""
    if not users_by_problem:
        return
    summaries: dict[str, ProblemSummary] = {}
    for ids in chunks(sorted(users_by_problem)):
        for summary in ProblemSummary.objects.using(using).filter(course_id=course_id, problem_id__in=ids):
            summaries[summary.problem_id] = summary
    for problem_id in sorted(set(users_by_problem) - set(summaries)):
        _rebuild(course_id, problem_id, now, using)
    changed = {problem_id: users for problem_id, users in users_by_problem.items() if problem_id in summaries}
    if not changed:
        return
    old: dict[str, list[Learner]] = defaultdict(list)
    learner_rows = ProblemLearner.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("problem_id", "user_id", changed):
        rows = learner_rows.filter(condition)
        for problem_id, *row in rows.values_list("problem_id", *_LEARNER_COLUMNS[3:]):
            old[problem_id].append(_learner_from_row(*row))
        rows.delete()
    submissions: dict[str, list[SubmissionRow]] = defaultdict(list)
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("problem_id", "user_id", changed):
        for problem_id, *row in facts.filter(condition).values_list("problem_id", *_FACT_COLUMNS).order_by() \
                .iterator(chunk_size=5000):
            submissions[problem_id].append(tuple(row))
    new = {problem_id: list(_learners(rows)) for problem_id, rows in submissions.items()}
    insert_ignore(ProblemLearner, _LEARNER_COLUMNS,
                  [_learner_row(course_id, problem_id, user_id, learner)
                   for problem_id in sorted(new) for user_id, learner in new[problem_id]], using,
                  ignore_conflicts=False)
    touched = {problem_id: old[problem_id] + [learner for _user, learner in new.get(problem_id, ())]
               for problem_id in changed}
    answers = {problem_id: {answer for learner in learners for answer in learner.answers}
               for problem_id, learners in touched.items()}
    stored_counts = _stored_answers(course_id, answers, using)
    tallies: dict[str, Tally] = {}
    for problem_id in sorted(changed):
        summary = summaries[problem_id]
        tally = Tally(users=summary.users_attempted, submissions=summary.total_submissions,
                      correct=summary.correct_submissions, first_correct=summary.first_attempt_correct,
                      attempts=summary.attempts_total, parts=Counter(summary.part_counts),
                      answers=stored_counts[problem_id])
        for learner in old[problem_id]:
            tally.add(learner, -1)
        for _user, learner in new.get(problem_id, ()):
            tally.add(learner)
        tallies[problem_id] = tally
    _write_changes(course_id, tallies, {problem_id: {part for learner in learners for part in learner.parts}
                                        for problem_id, learners in touched.items()}, answers, now, using)


def _write_changes(course_id: str, tallies: dict[str, Tally], parts: dict[str, set[str]],
                   answers: dict[str, set[AnswerKey]], now: dt.datetime, using: str) -> None:
    """``write`` for many problems at once, where only ``answers`` (and the ``parts`` they or the changed
    learners belong to) changed in each: the tally rows of those answers are rewritten, those parts merged again."""
    live = _store_summaries(course_id, tallies, now, using)
    if not live:
        return
    hashes = {problem_id: {answer_key(key): key for key in answers[problem_id]} for problem_id in live}
    for condition, covered in pair_filters("problem_id", "answer_key", hashes):
        wanted = {(problem_id, key_hash): (*hashes[problem_id][key_hash], n)
                  for problem_id, key_hashes in covered.items() for key_hash in key_hashes
                  if (n := live[problem_id].answers.get(hashes[problem_id][key_hash], 0)) > 0}
        sync_rows(ProblemAnswerTally, {"course_id": course_id}, ("problem_id", "answer_key"),
                  ("part_id", "answer_value", "correct", "variant", "count"), wanted, using, condition=condition)
    touched_parts = {problem_id: {key[0] for key in answers[problem_id]} | parts.get(problem_id, set())
                     for problem_id in live}
    by_part: dict[str, Counter] = defaultdict(Counter)
    raw = ProblemAnswerTally.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("problem_id", "part_id", touched_parts):
        for problem_id, *key, n in raw.filter(condition).values_list(
                "problem_id", "part_id", "answer_value", "correct", "variant", "count"):
            by_part[problem_id][tuple(key)] = n
    merged = {problem_id: consolidate_variants(by_part[problem_id]) for problem_id in live}
    fields = ("problem_id", "part_id", "answer_value", "correct", "variant")
    for condition, covered in pair_filters("problem_id", "part_id", touched_parts):
        wanted = {(problem_id, *key): (n,) for problem_id, part_ids in covered.items()
                  for key, n in merged[problem_id].items() if key[0] in set(part_ids)}
        sync_rows(ProblemAnswer, {"course_id": course_id}, fields, ("count",), wanted, using, condition=condition)


def _stored_answers(course_id: str, answers: dict[str, set[AnswerKey]], using: str) -> dict[str, Counter]:
    """The stored tally counts of each problem's ``answers``."""
    by_hash = {problem_id: {answer_key(key): key for key in keys} for problem_id, keys in answers.items()}
    counts: dict[str, Counter] = {problem_id: Counter() for problem_id in answers}
    rows = ProblemAnswerTally.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("problem_id", "answer_key", by_hash):
        for problem_id, key_hash, n in rows.filter(condition).values_list("problem_id", "answer_key", "count"):
            counts[problem_id][by_hash[problem_id][key_hash]] = n
    return counts
