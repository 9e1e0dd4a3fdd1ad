"""Problems: submissions, correctness, first-attempt correctness and answer distributions.

The steps of an engine (``metrics.engine``); the pure ones are in ``problem_tally``: each
learner's submissions to a problem make one ``Learner`` (stored as a ``ProblemLearner``
row), a problem's ``Tally`` is the sum of its learners and ``compute`` turns it into the
figures we serve. ``recompute`` (what the drain calls) rebuilds only the learners who
submitted: their old rows are subtracted from the stored tally and the new ones added,
so a submission costs the same in a course of any size. A whole rebuild sums every
learner afresh. Both store what they computed with the one ``write``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from openedx_analytics.db.bulk import upsert
from openedx_analytics.metrics.engine import Expected, Table, parts_by_block
from openedx_analytics.metrics.problem_tally import (
    AnswerKey,
    Learner,
    SubmissionRow,
    Tally,
    compute,
    consolidate_variants,
    learner_of,
)
from openedx_analytics.metrics.store import (
    block_filters,
    chunks,
    insert_in_chunks,
    pair_filters,
    rebuild_course,
    replace_block_learners,
    sync_rows,
)
from openedx_analytics.models import (
    DirtyScope,
    ProblemAnswer,
    ProblemAnswerTally,
    ProblemLearner,
    ProblemSubmissionFact,
    ProblemSummary,
)
from openedx_analytics.pipeline.markers import ALL_KEYS, expand_keys, split_learner_keys

#: A submission fact: the problem's id, then a ``SubmissionRow``.
FactRow = tuple  # (problem_id, user_id, attempt, time, correct, answers, fingerprint)
SUMMARY_FIELDS = ("part_ids", "users_attempted", "total_submissions", "correct_submissions",
                  "first_attempt_correct", "attempts_mean")
ANSWER_FIELDS = ("part_id", "answer_value", "correct", "variant")
KIND = DirtyScope.PROBLEM
SUMMARIES = Table("problem", ProblemSummary, ("problem_id",), SUMMARY_FIELDS, per_field=True)
RUNNING_TALLIES = Table("problem tally", ProblemSummary, ("problem_id",), ("attempts_total", "part_counts"))
ANSWERS = Table("answer", ProblemAnswer, ("problem_id", *ANSWER_FIELDS), ("count",))
ANSWER_TALLIES = Table("answer tally", ProblemAnswerTally, ("problem_id", *ANSWER_FIELDS), ("count",))
LEARNERS = Table("problem learner", ProblemLearner, ("problem_id", "user_id"),
                 ("submissions", "attempts", "first_correct", "last_correct", "answers", "parts"))
TABLES = (SUMMARIES, RUNNING_TALLIES, ANSWERS, ANSWER_TALLIES, LEARNERS)
_FACT_COLUMNS = ("user_id", "attempt", "time", "correct", "answers", "fingerprint")
_LEARNER_COLUMNS = ("course_id", "problem_id", "user_id", *LEARNERS.value_fields)


def problem_ids(course_id: str, using: str) -> list[str]:
    """Every problem of the course with a submission."""
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course_id)
    return sorted(expand_keys({ALL_KEYS}, facts, "problem_id"))


def load(course_id: str, using: str, problem_id: str | None = None,
         between: tuple[dt.datetime, dt.datetime] | None = None) -> Iterator[FactRow]:
    """The course's submissions, problem after problem (of ``problem_id`` only, named so, if given; those at
    times in [``between``) only, if given: figures over a range of dates)."""
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course_id)
    if between is not None:
        facts = facts.filter(time__gte=between[0], time__lt=between[1])
    if problem_id is None:
        yield from facts.order_by("problem_id").values_list("problem_id", *_FACT_COLUMNS).iterator(chunk_size=5000)
        return
    # Read in table order: one problem's submissions fit in memory (``contributions`` groups them by
    # learner), and reading them in learner order costs a random read per row on a large table.
    for row in facts.filter(problem_id=problem_id).values_list(*_FACT_COLUMNS).order_by().iterator(chunk_size=5000):
        yield (problem_id, *row)


def contributions(facts: Iterable[FactRow]) -> Iterator[tuple[tuple[str, int], Learner]]:
    """((problem_id, user_id), ``Learner``) of each learner of each problem, from submissions read problem after
    problem (one problem's are held at a time)."""
    for problem_id, rows in groupby(facts, key=itemgetter(0)):
        by_user: dict[int, list[SubmissionRow]] = defaultdict(list)
        for row in rows:
            by_user[row[1]].append(row[1:])
        for user_id, submissions in by_user.items():
            yield (problem_id, user_id), learner_of(submissions)


def tally(learners: Iterable[tuple[tuple[str, int], Learner]]) -> dict[str, Tally]:
    """Each problem's tally of its ``learners``."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for (problem_id, _user), learner in learners:
        tallies[problem_id].add(learner)
    return dict(tallies)


def answer_key(key: AnswerKey) -> str:
    """The stored identity of a raw answer (part, value, correct, variant): values can be long."""
    return hashlib.sha1(repr(key).encode("utf-8")).hexdigest()


def _positive(counter: Counter) -> dict:
    return {key: n for key, n in sorted(counter.items()) if n > 0}


def _positive_answers(answers: Counter) -> Counter:
    """The answers some learner's last submission gave (their values do not sort: ``correct`` may be None)."""
    return Counter({key: n for key, n in answers.items() if n > 0})


@dataclass(frozen=True)
class Changed:
    """What an incremental update changed in one problem: the raw answers whose count changed, and the parts
    the replayed learners answered (those and the answers' parts are merged again)."""

    answers: set[AnswerKey]
    parts: set[str]


def write(course_id: str, tallies: Mapping[str, Tally], now: dt.datetime, using: str,
          *, changed: Mapping[str, Changed] | None = None) -> None:
    """Store each problem's summary, raw answer tally and merged answers from its tally, a few queries per
    chunk of problems; a problem left with no learner loses its rows.

    Without ``changed`` (a rebuild) each tally holds every answer of its problem and all its
    rows are rewritten. With it (an incremental update) a tally holds the counts of the
    changed answers only: those tally rows are rewritten, and the parts ``changed`` names are
    merged again from the stored tally rows.
    """
    live = _store_summaries(course_id, tallies, now, using)
    hashes = {problem_id: None if changed is None else {answer_key(key): key for key in changed[problem_id].answers}
              for problem_id in live}
    for condition, covered in block_filters("problem_id", "answer_key", hashes):
        wanted = {}
        for problem_id, key_hashes in covered.items():
            answers = live[problem_id].answers
            keys = answers if key_hashes is None else [hashes[problem_id][key_hash] for key_hash in key_hashes]
            wanted.update({(problem_id, answer_key(key)): (*key, n) for key in keys if (n := answers.get(key, 0)) > 0})
        sync_rows(ProblemAnswerTally, {"course_id": course_id}, ("problem_id", "answer_key"),
                  (*ANSWER_FIELDS, "count"), wanted, using, condition=condition)
    parts = {problem_id: None if changed is None else
             {key[0] for key in changed[problem_id].answers} | changed[problem_id].parts for problem_id in live}
    merged = _merged_answers(course_id, live, parts, using)
    for condition, covered in block_filters("problem_id", "part_id", parts):
        wanted = {(problem_id, *key): (n,) for problem_id, part_ids in covered.items()
                  for key, n in merged[problem_id].items() if part_ids is None or key[0] in part_ids}
        sync_rows(ProblemAnswer, {"course_id": course_id}, ("problem_id", *ANSWER_FIELDS), ("count",), wanted, using,
                  condition=condition)


def _store_summaries(course_id: str, tallies: Mapping[str, Tally], now: dt.datetime,
                     using: str) -> dict[str, Tally]:
    """Drop the rows of problems left with no learner, upsert the others' summaries; return those others."""
    gone = sorted(problem_id for problem_id, sums in tallies.items() if sums.users <= 0)
    for ids in chunks(gone):
        for model in (ProblemSummary, ProblemAnswer, ProblemAnswerTally):
            model.objects.using(using).filter(course_id=course_id, problem_id__in=ids).delete()
    live = {problem_id: sums for problem_id, sums in tallies.items() if sums.users > 0}
    summaries = []
    for problem_id, sums in sorted(live.items()):
        figures = compute(sums)
        summaries.append(ProblemSummary(
            course_id=course_id, problem_id=problem_id, attempts_total=sums.attempts,
            part_counts=_positive(sums.parts), last_updated=now,
            **{name: getattr(figures, name) for name in SUMMARY_FIELDS}))
    upsert(ProblemSummary, summaries, ["course_id", "problem_id"],
           [*SUMMARY_FIELDS, "attempts_total", "part_counts", "last_updated"], using)
    return live


def _merged_answers(course_id: str, live: Mapping[str, Tally], parts: Mapping[str, set[str] | None],
                    using: str) -> dict[str, dict[AnswerKey, int]]:
    """Each problem's answers with equal variants merged: of its whole tally (``parts`` None), or of the stored
    tally rows of the parts named (the tally of an incremental update holds only the answers it changed)."""
    stored: dict[str, Counter] = defaultdict(Counter)
    partial = {problem_id: part_ids for problem_id, part_ids in parts.items() if part_ids is not None}
    rows = ProblemAnswerTally.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("problem_id", "part_id", partial):
        for problem_id, *key, n in rows.filter(condition).values_list("problem_id", *ANSWER_FIELDS, "count"):
            stored[problem_id][tuple(key)] = n
    return {problem_id: consolidate_variants(stored[problem_id] if part_ids is not None
                                             else _positive_answers(live[problem_id].answers))
            for problem_id, part_ids in parts.items()}


def _learner_values(learner: Learner) -> tuple:
    """A learner as the ``ProblemLearner`` columns after the problem's and learner's ids."""
    return (learner.submissions, learner.attempts, learner.first_correct, learner.last_correct,
            [list(answer) for answer in learner.answers], list(learner.parts))


def _learner_from_row(submissions: int, attempts: int, first_correct: bool, last_correct: bool,
                      answers: list, parts: list) -> Learner:
    return Learner(submissions, attempts, first_correct, last_correct, tuple(tuple(a) for a in answers),
                   tuple(parts))


def expected(course_id: str, using: str) -> Iterator[Expected]:
    """What a whole rebuild stores for each problem, a few problems at a time (each read alone, as the
    rebuild of one problem reads it)."""
    def add_problem(part: Expected, problem_id: str) -> None:
        sums = Tally()
        for (_problem, user_id), learner in contributions(load(course_id, using, problem_id)):
            sums.add(learner)
            part.add(LEARNERS, (problem_id, user_id), _learner_values(learner))
        if sums.users <= 0:
            return
        figures = compute(sums)
        part.add(SUMMARIES, (problem_id,), tuple(getattr(figures, name) for name in SUMMARY_FIELDS))
        part.add(RUNNING_TALLIES, (problem_id,), (sums.attempts, _positive(sums.parts)))
        for key, n in figures.answers.items():
            part.add(ANSWERS, (problem_id, *key), (n,))
        for key, n in _positive_answers(sums.answers).items():
            part.add(ANSWER_TALLIES, (problem_id, *key), (n,))

    yield from parts_by_block(TABLES, "problem_id", problem_ids(course_id, using), add_problem)


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Bring the problems named by ``keys`` up to date: ``"<user_id> <problem_id>"`` replays that learner,
    a bare ``"<problem_id>"`` every learner of the problem, ``ALL_KEYS`` every problem of the course.

    A problem whose tally is not stored yet is rebuilt from all its learners.
    """
    if ALL_KEYS in keys:
        rebuild_course(lambda: rebuild_whole_course(course_id, now, using), lambda: problem_ids(course_id, using),
                       lambda problem_id: rebuild_problem(course_id, problem_id, now, using), using)
        return
    whole, users_by_problem = split_learner_keys(keys)
    for problem_id in sorted(whole):
        rebuild_problem(course_id, problem_id, now, using)
    _update(course_id, users_by_problem, now, using)


def rebuild_whole_course(course_id: str, now: dt.datetime, using: str) -> None:
    """Rebuild every problem of the course from one read of its submissions, problem after problem.

    Raises ``IdsMerged`` when the submissions name a problem id the database's own distinct
    list lacks (it holds ids it compares as equal); the caller then rebuilds one problem at a time.
    """
    _rebuild(course_id, problem_ids(course_id, using), load(course_id, using), now, using)


def rebuild_problem(course_id: str, problem_id: str, now: dt.datetime, using: str) -> None:
    """Rebuild one problem from all its submissions."""
    _rebuild(course_id, [problem_id], load(course_id, using, problem_id), now, using)


def _rebuild(course_id: str, ids: Sequence[str], facts: Iterable[FactRow], now: dt.datetime, using: str) -> None:
    """Replace the learner rows of the problems ``ids`` and store their figures, from ``facts`` (all their
    submissions, problem after problem)."""
    tallies = replace_block_learners(ProblemLearner, "problem_id", _LEARNER_COLUMNS, course_id, ids,
                                     contributions(facts), Tally, _learner_values, using)
    write(course_id, tallies, now, using)


def _update(course_id: str, users_by_problem: dict[str, set[int]], now: dt.datetime, using: str) -> None:
    """Replay the learners of their problems: subtract their old rows from each problem's stored tally, add
    the new ones. A few queries for all the problems of the unit, not per problem; a problem whose tally is
    not stored yet is rebuilt from all its learners."""
    if not users_by_problem:
        return
    summaries: dict[str, ProblemSummary] = {}
    for ids in chunks(sorted(users_by_problem)):
        for summary in ProblemSummary.objects.using(using).filter(course_id=course_id, problem_id__in=ids):
            summaries[summary.problem_id] = summary
    for problem_id in sorted(set(users_by_problem) - set(summaries)):
        rebuild_problem(course_id, problem_id, now, using)
    changed = {problem_id: users for problem_id, users in users_by_problem.items() if problem_id in summaries}
    if not changed:
        return
    old = _take_learners(course_id, changed, using)
    new = _replay_learners(course_id, changed, using)
    insert_in_chunks(ProblemLearner, _LEARNER_COLUMNS,
                     [(course_id, problem_id, user_id, *_learner_values(learner))
                      for problem_id in sorted(new) for user_id, learner in new[problem_id]], using)
    touched = {problem_id: old[problem_id] + [learner for _user, learner in new.get(problem_id, ())]
               for problem_id in changed}
    answers = {problem_id: {answer for learner in learners for answer in learner.answers}
               for problem_id, learners in touched.items()}
    stored_counts = _stored_answers(course_id, answers, using)
    tallies: dict[str, Tally] = {}
    for problem_id in sorted(changed):
        summary = summaries[problem_id]
        sums = tallies[problem_id] = Tally(
            users=summary.users_attempted, submissions=summary.total_submissions,
            correct=summary.correct_submissions, first_correct=summary.first_attempt_correct,
            attempts=summary.attempts_total, parts=Counter(summary.part_counts), answers=stored_counts[problem_id])
        for learner in old[problem_id]:
            sums.add(learner, -1)
        for _user, learner in new.get(problem_id, ()):
            sums.add(learner)
    write(course_id, tallies, now, using, changed={
        problem_id: Changed(answers[problem_id], {part for learner in learners for part in learner.parts})
        for problem_id, learners in touched.items()})


def _take_learners(course_id: str, users_by_problem: Mapping[str, set[int]], using: str) -> dict[str, list[Learner]]:
    """Read and delete the stored rows of ``users_by_problem``: what those learners added to each problem."""
    old: dict[str, list[Learner]] = defaultdict(list)
    learner_rows = ProblemLearner.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("problem_id", "user_id", users_by_problem):
        rows = learner_rows.filter(condition)
        for problem_id, *row in rows.values_list("problem_id", *LEARNERS.value_fields):
            old[problem_id].append(_learner_from_row(*row))
        rows.delete()
    return old


def _replay_learners(course_id: str, users_by_problem: Mapping[str, set[int]],
                     using: str) -> dict[str, list[tuple[int, Learner]]]:
    """What each learner of ``users_by_problem`` adds to the problem now, from all their submissions to it."""
    facts = ProblemSubmissionFact.objects.using(using).filter(course_id=course_id)
    rows: list[FactRow] = []
    for condition, _covered in pair_filters("problem_id", "user_id", users_by_problem):
        rows.extend(facts.filter(condition).values_list("problem_id", *_FACT_COLUMNS).order_by()
                    .iterator(chunk_size=5000))
    rows.sort(key=itemgetter(0))  # problem after problem, as ``contributions`` reads them
    new: dict[str, list[tuple[int, Learner]]] = defaultdict(list)
    for (problem_id, user_id), learner in contributions(rows):
        new[problem_id].append((user_id, learner))
    return new


def _stored_answers(course_id: str, answers: dict[str, set[AnswerKey]], using: str) -> dict[str, Counter]:
    """The stored tally counts of each problem's ``answers``."""
    by_hash = {problem_id: {answer_key(key): key for key in keys} for problem_id, keys in answers.items()}
    counts: dict[str, Counter] = {problem_id: Counter() for problem_id in answers}
    rows = ProblemAnswerTally.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("problem_id", "answer_key", by_hash):
        for problem_id, key_hash, n in rows.filter(condition).values_list("problem_id", "answer_key", "count"):
            counts[problem_id][by_hash[problem_id][key_hash]] = n
    return counts
