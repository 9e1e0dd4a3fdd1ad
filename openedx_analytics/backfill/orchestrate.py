"""Drive a whole backfill run: in this process, or split into chunks that Celery workers run.

Either way the run ends the same: the aggregates of every course it touched are
recomputed from facts, and the run's checkpoint is marked finished so that running the
same command again is a no-op (until ``--restart``).
"""
from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import IO

from openedx_analytics import conf
from openedx_analytics.backfill.checkpoints import Checkpoint, CheckpointHeld
from openedx_analytics.backfill.progress import Progress
from openedx_analytics.backfill.readers import STDIN, Chunk, is_gzip, plan_chunks
from openedx_analytics.backfill.runner import LMS_KINDS, Backfill, Options, lms_iterator
from openedx_analytics.backfill.summary import Summary
from openedx_analytics.privacy import retention

POLL_SECONDS = 0.5


class BackfillError(RuntimeError):
    """A run that could not complete; what it stored is kept and a rerun resumes it."""


def execute(options: Options, *, progress_stream: IO[str], progress: bool = True, tty: bool | None = None,
            after_batch: Callable[[], None] | None = None) -> tuple[Summary, Checkpoint, bool]:
    """Run (or resume) a backfill; return its summary, its checkpoint, and whether it had already finished.

    A run that had already finished does nothing (pass ``restart`` in the options to redo it).
    Only one process runs a checkpoint at a time: a second run with the same arguments
    raises ``BackfillError`` naming the host, pid and start time of the one running.
    """
    started = time.monotonic()
    checkpoint = Checkpoint(options.arguments(), disabled=options.dry_run, restart=options.restart)
    summary = Summary()
    if checkpoint.finished:
        return summary, checkpoint, True
    options = _within_retention(options, progress_stream)
    try:
        checkpoint.hold()
    except CheckpointHeld as exc:
        raise BackfillError(str(exc)) from None
    try:
        if options.workers > 1:
            _run_distributed(options, checkpoint, summary, progress_stream, progress, tty)
        else:
            _run_here(options, checkpoint, summary, progress_stream, progress, tty, after_batch)
        summary.elapsed = time.monotonic() - started
        checkpoint.finish()
    finally:
        checkpoint.release()
    return summary, checkpoint, False


def _within_retention(options: Options, stream: IO[str]) -> Options:
    """The options with the time window starting no earlier than the retention cutoff (the run keeps its name).

    Facts older than the retention window no longer name their learner; storing such
    events again would count those learners a second time.
    """
    cutoff = retention.cutoff()
    if cutoff is None or (options.scope.since is not None and options.scope.since >= cutoff):
        return options
    stream.write(f"Events before {cutoff:%Y-%m-%d %H:%M} UTC are outside the learner-data retention window "
                 f"({retention.SETTING}) and are skipped.\n")
    return dataclasses.replace(options, scope=dataclasses.replace(options.scope, since=cutoff))


def _run_here(options: Options, checkpoint: Checkpoint, summary: Summary, stream: IO[str], show: bool,
              tty: bool | None, after_batch: Callable[[], None] | None) -> None:
    sizes = [os.path.getsize(path) for path in options.inputs if path != STDIN]
    bar = Progress(stream, sum(sizes) or None, tty=tty, enabled=show)
    backfill = Backfill(options, checkpoint, summary, bar, after_batch)
    try:
        for path in options.inputs:
            offset = None if path == STDIN or is_gzip(path) else 0
            backfill.run_chunk(Chunk(path, 0, None, offset))
        if options.from_lms:
            for kind in LMS_KINDS:
                backfill.run_lms(kind, lms_iterator(kind))
    finally:
        bar.close()
    backfill.recompute()


def _run_distributed(options: Options, checkpoint: Checkpoint, summary: Summary, stream: IO[str], show: bool,
                     tty: bool | None) -> None:
    from openedx_analytics.backfill.tasks import backfill_chunk
    from openedx_analytics.worker.tasks import recompute_dirty_scopes

    if STDIN in options.inputs:
        raise BackfillError("standard input cannot be split across workers; run it without --workers")
    specs: list[dict] = []
    planned_lines = 0
    for path in options.inputs:
        for chunk in plan_chunks(path, options.chunk_lines):
            saved = checkpoint.get(chunk.key)
            if saved and saved.get("done"):
                summary.inputs_skipped += 1
                continue
            end = chunk.end_line if chunk.end_line is not None else chunk.start_line + options.chunk_lines
            planned_lines += end - (saved["line"] if saved else chunk.start_line)
            specs.append({"chunk": chunk.to_dict()})
    if options.from_lms:
        specs.extend({"lms": kind} for kind in LMS_KINDS if not (checkpoint.get(f"lms:{kind}") or {}).get("done"))
    arguments, data, queue = checkpoint.arguments, options.to_dict(), conf.celery_queue()
    try:
        pending = [backfill_chunk.apply_async(args=(arguments, spec, data), queue=queue) for spec in specs]
    except Exception as exc:  # noqa: BLE001 - any broker failure means the same to the operator
        raise BackfillError(f"could not send chunks to Celery ({exc}); is the broker up? "
                            "Without --workers the run needs no broker.") from exc
    bar = Progress(stream, planned_lines, unit="lines", tty=tty, enabled=show)
    failures = _collect(pending, summary, bar)
    bar.close()
    if failures:
        raise BackfillError(f"{len(failures)} of {len(specs)} chunks failed ({failures[0]}); "
                            "what they stored is kept, rerun the same command to resume")
    courses = sorted(summary.courses)
    if checkpoint.resumed:
        courses = sorted(options.scope.courses) or [None]
    recompute_started = time.monotonic()
    results = [
        recompute_dirty_scopes.apply_async(args=([course] if course else None,), kwargs={"wait": True}, queue=queue)
        for course in courses
    ]
    for result in results:
        summary.scopes_recomputed += int(result.get(disable_sync_subtasks=False) or 0)
    summary.recompute_seconds = time.monotonic() - recompute_started


def _collect(pending: list, summary: Summary, bar: Progress) -> list[str]:
    """Wait for every chunk task; merge the summaries of those that succeeded; return the failures."""
    failures: list[str] = []
    while pending:
        still = []
        for result in pending:
            if not result.ready():
                still.append(result)
                continue
            try:
                part = Summary.from_dict(result.get(disable_sync_subtasks=False))
            except Exception as exc:  # noqa: BLE001 - reported to the operator, the others go on
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            summary.merge(part)
            bar.advance(part.lines_read, part.lines_read)
        pending = still
        if pending:
            time.sleep(POLL_SECONDS)
    return failures
