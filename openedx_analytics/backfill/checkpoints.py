"""Checkpoints: how far a backfill run has durably written, so a rerun continues instead of restarting.

A run is named by a hash of the arguments that decide its output (inputs, scope, LMS
sources, worker count); batch size and display options do not change it. Positions are
written only after the facts of a batch have committed, so a crash can at worst replay
one batch, which the idempotent fact writers turn into a no-op.

Position layout (``BackfillCheckpoint.position``)::

    {"<chunk key>": {"line": next line to read, "offset": byte offset or null, "done": bool},
     "lms:<kind>": {"line": events consumed, "offset": null, "key": last LMS row key read, "done": bool}}

An LMS source resumes after the last key it read (``lms.history``'s iterators read in
key order), never by counting rows of tables that change between runs.

One process at a time runs a checkpoint: ``hold`` records this host, pid and time in the
row and a background heartbeat keeps it fresh; a second run with the same arguments
fails with ``CheckpointHeld`` naming the holder. A holder that died without releasing
(SIGKILL, a lost machine) is taken over once its process is gone (same host) or its
heartbeat is older than ``STALE_SECONDS``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import socket
import threading
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from openedx_analytics import conf
from openedx_analytics.db.retry import retry_lock_races
from openedx_analytics.models import BackfillCheckpoint

log = logging.getLogger(__name__)

#: How often a running backfill refreshes its checkpoint's heartbeat.
HEARTBEAT_SECONDS = 15
#: A holder on another host silent for this long is presumed dead and its checkpoint taken over.
STALE_SECONDS = 120


class CheckpointHeld(RuntimeError):
    """Another live process is running a backfill with the same arguments."""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _holder_alive(row: BackfillCheckpoint, now: dt.datetime) -> bool:
    """Whether the process recorded in ``row`` may still be running."""
    if not row.holder_pid:
        return False
    if row.holder_host == socket.gethostname():
        return _process_alive(row.holder_pid)
    return row.heartbeat is not None and (now - row.heartbeat).total_seconds() < STALE_SECONDS


def run_key(arguments: dict[str, Any]) -> str:
    """A stable name for a run with these arguments."""
    text = json.dumps(arguments, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Checkpoint:
    """The persisted progress of one run; ``disabled`` (dry runs) records nothing.

    ``restart`` reads the run as not started; its saved positions are cleared by ``hold``.
    """

    def __init__(self, arguments: dict[str, Any], *, disabled: bool = False, restart: bool = False) -> None:
        self.arguments = arguments
        self.key = run_key(arguments)
        self.disabled = disabled
        self.restart = restart
        self.position: dict[str, dict[str, Any]] = {}
        self.finished = False
        self.resumed = False
        self._heartbeat: threading.Thread | None = None
        self._stop = threading.Event()
        if disabled:
            return
        using = conf.analytics_db()
        row, created = BackfillCheckpoint.objects.using(using).get_or_create(
            run_key=self.key, defaults={"arguments": json.loads(json.dumps(arguments, default=str))}
        )
        self.position = {} if restart else dict(row.position or {})
        self.finished = row.finished and not restart
        self.resumed = bool(self.position) and not created and not restart

    def hold(self) -> None:
        """Record this process as the one running the checkpoint, or raise ``CheckpointHeld`` naming the holder.

        A ``restart`` clears the saved positions here, only once the checkpoint is ours.
        """
        if self.disabled:
            return
        using = conf.analytics_db()
        host, pid, now = socket.gethostname(), os.getpid(), timezone.now()
        with transaction.atomic(using=using):
            row = BackfillCheckpoint.objects.using(using).select_for_update().get(run_key=self.key)
            mine = row.holder_host == host and row.holder_pid == pid
            if not mine and _holder_alive(row, now):
                heard = (now - row.heartbeat).total_seconds() if row.heartbeat else None
                since = f"{row.held_since:%Y-%m-%d %H:%M:%S} UTC" if row.held_since else "an unknown time"
                raise CheckpointHeld(
                    f"another backfill with the same arguments is running: host {row.holder_host}, "
                    f"pid {row.holder_pid}, since {since}"
                    + (f" (last heard from {heard:.0f} s ago)" if heard is not None else "")
                    + ". Wait for it to finish or stop it; a stopped run's checkpoint is taken over once its "
                    f"process is gone (same host) or silent for {STALE_SECONDS} s."
                )
            if row.holder_pid and not mine:
                log.warning("openedx_analytics: taking over the backfill checkpoint of host %s pid %s "
                            "(no longer running)", row.holder_host, row.holder_pid)
            row.holder_host, row.holder_pid, row.held_since, row.heartbeat = host, pid, now, now
            fields = ["holder_host", "holder_pid", "held_since", "heartbeat", "updated"]
            if self.restart:
                row.position, row.finished = {}, False
                fields += ["position", "finished"]
            row.save(using=using, update_fields=fields)
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, args=(host, pid), daemon=True,
                                           name=f"backfill-heartbeat-{self.key[:8]}")
        self._heartbeat.start()

    def _beat(self, host: str, pid: int) -> None:
        """Refresh the heartbeat until released (own connection, closed after every beat)."""
        using = conf.analytics_db()
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                BackfillCheckpoint.objects.using(using).filter(
                    run_key=self.key, holder_host=host, holder_pid=pid,
                ).update(heartbeat=timezone.now())
            except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
                log.warning("openedx_analytics: could not refresh the backfill checkpoint's heartbeat", exc_info=True)
            finally:
                connections[using].close()

    def release(self) -> None:
        """Stop the heartbeat and clear the holder (only if it is still this process)."""
        if self._heartbeat is None:
            return
        self._stop.set()
        self._heartbeat.join(timeout=5)
        self._heartbeat = None
        BackfillCheckpoint.objects.using(conf.analytics_db()).filter(
            run_key=self.key, holder_host=socket.gethostname(), holder_pid=os.getpid(),
        ).update(holder_host="", holder_pid=None, held_since=None, heartbeat=None)

    @classmethod
    def load(cls, key: str) -> Checkpoint:
        """The checkpoint of an existing run (for chunk tasks running in Celery workers)."""
        row = BackfillCheckpoint.objects.using(conf.analytics_db()).get(run_key=key)
        return cls(row.arguments)

    def get(self, name: str) -> dict[str, Any] | None:
        """The saved position of input ``name``, if any."""
        return self.position.get(name)

    def save(self, name: str, line: int, offset: int | None, done: bool = False, key: list | None = None) -> None:
        """Record that input ``name`` is durably written up to ``line`` (merging with other workers' keys).

        ``key`` is, for an LMS source, the key of the last row read (JSON-able), where a resume starts after.
        """
        entry: dict[str, Any] = {"line": line, "offset": offset, "done": done}
        if key is not None:
            entry["key"] = key
        self.position[name] = entry
        if self.disabled:
            return
        using = conf.analytics_db()

        def write() -> None:
            with transaction.atomic(using=using):
                row = BackfillCheckpoint.objects.using(using).select_for_update().get(run_key=self.key)
                position = dict(row.position or {})
                position[name] = entry
                row.position = position
                row.save(using=using, update_fields=["position", "updated"])

        retry_lock_races(write, what="backfill checkpoint", using=using)

    def finish(self) -> None:
        """Mark the run complete: rerunning it with the same arguments is a no-op."""
        self.finished = True
        if not self.disabled:
            BackfillCheckpoint.objects.using(conf.analytics_db()).filter(run_key=self.key).update(finished=True)
