"""Run a backfill: read inputs in batches, send them through the live pipeline, checkpoint, report.

Each batch goes through ``pipeline.ingest.ingest``, the routine live events go through,
with the backfill's options (its scope, whole-course markers, dry run); rejections are
recorded under the ``backfill`` source. Only after a batch's facts have committed is the
input's position saved, so an interrupted run resumes at the first batch that may not be
stored, and replaying it is a no-op.
"""
from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from openedx_analytics.backfill.checkpoints import Checkpoint
from openedx_analytics.backfill.progress import Progress
from openedx_analytics.backfill.readers import SKIP, STDIN, Chunk, LineReader, parse_line
from openedx_analytics.backfill.scope import BackfillScope
from openedx_analytics.backfill.summary import Summary
from openedx_analytics.db.retry import retry_lock_races
from openedx_analytics.pipeline.ingest import DryRun, ingest
from openedx_analytics.pipeline.normalizer import Outcome
from openedx_analytics.worker.drain import drain

log = logging.getLogger(__name__)

SOURCE = "backfill"
#: LMS sources, each a ``lms.history.iter_<name>_events`` iterator.
LMS_KINDS = ("enrollment", "grade", "certificate", "problem")


@dataclass
class Options:
    """Everything that decides what a run does."""

    inputs: list[str] = field(default_factory=list)
    from_lms: bool = False
    scope: BackfillScope = field(default_factory=BackfillScope)
    batch_size: int = 5000
    dry_run: bool = False
    restart: bool = False
    workers: int = 1
    chunk_lines: int = 100_000

    def arguments(self) -> dict[str, Any]:
        """The arguments that name the run (batch size and display options do not change its output)."""
        arguments: dict[str, Any] = {
            "inputs": list(self.inputs), "from_lms": self.from_lms, "scope": self.scope.describe(),
            "workers": self.workers,
        }
        if self.workers > 1:
            arguments["chunk_lines"] = self.chunk_lines
        return arguments

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (Celery messages)."""
        scope = self.scope.describe()
        return {"inputs": self.inputs, "from_lms": self.from_lms, "scope": scope, "batch_size": self.batch_size,
                "dry_run": self.dry_run, "workers": self.workers, "chunk_lines": self.chunk_lines}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Options:
        """The options ``to_dict`` described."""
        scope = data["scope"]
        return cls(
            inputs=list(data["inputs"]), from_lms=data["from_lms"],
            scope=BackfillScope.build(scope["courses"], scope["orgs"], scope["since"], scope["until"]),
            batch_size=data["batch_size"], dry_run=data["dry_run"], workers=data["workers"],
            chunk_lines=data["chunk_lines"],
        )


class BatchWriter:
    """Send batches of decoded events through the one ingest routine; count everything in a ``Summary``."""

    def __init__(self, scope: BackfillScope, summary: Summary, *, dry_run: bool = False) -> None:
        self.admit = None if scope.everything else scope
        self.named_courses = scope.courses
        self.summary = summary
        self.dry_run = DryRun(summary.records, summary.new_facts) if dry_run else None

    def write(self, events: list[Any], where: Callable[[int], str], bad_lines: list[tuple[str, str, str, str]]) -> None:
        """Store one batch: ``events`` are decoded events, ``where(index)`` names the "file:line" of one
        (asked for rejected events only); ``bad_lines`` are (line text, "file:line", reason, detail) of
        lines that were not JSON."""
        summary = self.summary
        unparsed = [(text, Outcome(records=[], reason=reason, detail=f"{place}: {detail}"))
                    for text, place, reason, detail in bad_lines]
        # A deadlock with a concurrent run rolls back the failing transaction only; facts already
        # stored are no-ops the second time, so the whole batch can be sent through again.
        result = retry_lock_races(
            lambda: ingest(events, source=SOURCE, admit=self.admit, whole_courses=True,
                           dry_run=self.dry_run, unparsed=unparsed, named_courses=self.named_courses),
            what="backfill batch write")
        summary.events_read += len(events)
        summary.events_accepted += result.accepted
        summary.out_of_scope += result.out_of_scope
        summary.events_by_course.update(result.by_course)
        for index, outcome in result.rejections:
            summary.reject(outcome.reason, where(index), outcome.detail or outcome.name)
        for _text, where, reason, detail in bad_lines:
            summary.reject(reason, where, detail)
        summary.courses.update(result.courses)


class Backfill:
    """One run over inputs and/or LMS tables, single-process (workers use ``run_spec`` per chunk)."""

    def __init__(self, options: Options, checkpoint: Checkpoint, summary: Summary | None = None,
                 progress: Progress | None = None, after_batch: Callable[[], None] | None = None) -> None:
        self.options = options
        self.checkpoint = checkpoint
        self.summary = summary or Summary()
        self.progress = progress
        self.writer = BatchWriter(options.scope, self.summary, dry_run=options.dry_run)
        self.after_batch = after_batch

    # ------------------------------------------------------------ log files

    def run_chunk(self, chunk: Chunk) -> None:
        """Backfill one chunk of a log, from its saved position, checkpointing after every batch."""
        saved = self.checkpoint.get(chunk.key) if chunk.path != STDIN else None
        if saved and saved.get("done"):
            self.summary.inputs_skipped += 1
            return
        reader = LineReader(chunk, saved["line"] if saved else None, saved["offset"] if saved else None)
        name = chunk.path if chunk.path != STDIN else "<stdin>"
        batch_size = self.options.batch_size
        events: list[Any] = []
        numbers: list[int] = []  # the line number of each event, for naming the rejected ones
        bad_lines: list[tuple[str, str, str, str]] = []
        lines = skipped = 0
        reported_bytes = 0
        next_line, offset = reader.line, reader.offset
        for line_number, offset, line in reader:  # noqa: B007 - offset is the position after the loop
            next_line = line_number + 1
            lines += 1
            event, reason, detail = parse_line(line)
            if reason is None:
                events.append(event)
                numbers.append(next_line)
            elif reason == SKIP:
                skipped += 1
            else:
                text = line.decode("utf-8", "replace").rstrip("\n")
                bad_lines.append((text, f"{name}:{next_line}", reason, detail))
            if len(events) >= batch_size or lines >= 2 * batch_size:
                reported_bytes = self._flush(chunk, events, _line_names(name, numbers), bad_lines, lines, skipped,
                                             next_line, offset, reader, reported_bytes)
                events, numbers, bad_lines, lines, skipped = [], [], [], 0, 0
        self._flush(chunk, events, _line_names(name, numbers), bad_lines, lines, skipped, next_line, offset, reader,
                    reported_bytes, done=True)
        self.summary.inputs_done += 1

    def _flush(self, chunk: Chunk, events: list, where: Callable[[int], str], bad_lines: list, lines: int,
               skipped: int, next_line: int, offset: int | None, reader: LineReader, reported_bytes: int,
               done: bool = False) -> int:
        self.summary.lines_read += lines
        self.summary.lines_skipped += skipped
        self.writer.write(events, where, bad_lines)
        if not self.options.dry_run:
            self.checkpoint.save(chunk.key, next_line, offset, done=done)
        if self.after_batch is not None:
            self.after_batch()
        consumed = reader.progress_bytes()
        if self.progress is not None:
            self.progress.advance(max(consumed - reported_bytes, 0), lines)
        return consumed

    # ------------------------------------------------------------ LMS tables

    def run_lms(self, kind: str, iterator_factory: Callable[..., Iterable[dict[str, Any]]]) -> None:
        """Backfill one LMS source (``lms.history.iter_<kind>_events``), skipping what an earlier run stored."""
        key = f"lms:{kind}"
        saved = self.checkpoint.get(key)
        if saved and saved.get("done"):
            self.summary.inputs_skipped += 1
            return
        from openedx_analytics.lms.history import Cursor

        scope = self.options.scope
        done = saved["line"] if saved else 0
        cursor = Cursor((saved or {}).get("key"))  # resume after the last key read (none: from the start)
        iterator: Iterator[dict[str, Any]] = iter(iterator_factory(
            course_ids=sorted(scope.courses) or None, orgs=sorted(scope.orgs) or None,
            since=scope.since, until=scope.until, cursor=cursor,
        ))
        while True:
            batch = list(itertools.islice(iterator, self.options.batch_size))
            first = done
            done += len(batch)
            self.summary.lines_read += len(batch)
            self.writer.write(batch, lambda index, first=first: f"{key}:{first + index + 1}", [])
            if not self.options.dry_run:
                self.checkpoint.save(key, done, None, done=not batch, key=cursor.key)
            if self.after_batch is not None:
                self.after_batch()
            if self.progress is not None:
                self.progress.advance(0, len(batch))
            if not batch:
                break
        self.summary.inputs_done += 1

    # ------------------------------------------------------------ the end

    def recompute(self) -> None:
        """Recompute the aggregates the run changed (every dirty scope in scope, if it resumed)."""
        if self.options.dry_run:
            return
        courses: Iterable[str] | None = self.summary.courses
        if self.checkpoint.resumed:
            courses = self.options.scope.courses or None
        started = time.monotonic()
        # A concurrent run recomputing the same course can make a unit a deadlock victim: the
        # drain reruns that unit at once (``db.retry``), as it does for live recomputes.
        report = drain(courses=courses)
        self.summary.recompute_seconds += time.monotonic() - started
        self.summary.scopes_recomputed += report.total
        self.summary.scopes_failed += len(report.failed) + len(report.quarantined)


def _line_names(name: str, numbers: list[int]) -> Callable[[int], str]:
    """``where`` for a batch of log events: the "file:line" of the event at an index."""
    return lambda index: f"{name}:{numbers[index]}"


def lms_iterator(kind: str) -> Callable[..., Iterable[dict[str, Any]]]:
    """The history iterator of LMS ``kind`` (raises ``host.NotAvailable`` outside the LMS without a stand-in)."""
    from openedx_analytics.lms import history

    return getattr(history, f"iter_{kind}_events")


def run_spec(run_key_arguments: dict[str, Any], spec: dict[str, Any], options_data: dict[str, Any]) -> dict[str, Any]:
    """Run one unit of a split run (a chunk of a log or one LMS source) and return its summary as a dict.

    Used by the Celery task; the command itself does the final recompute.
    """
    options = Options.from_dict(options_data)
    checkpoint = Checkpoint(run_key_arguments, disabled=options.dry_run)
    started = time.monotonic()
    backfill = Backfill(options, checkpoint)
    if "lms" in spec:
        backfill.run_lms(spec["lms"], lms_iterator(spec["lms"]))
    else:
        backfill.run_chunk(Chunk.from_dict(spec["chunk"]))
    backfill.summary.elapsed = time.monotonic() - started
    return backfill.summary.to_dict()
