"""Checkpoints: how far a backfill run has durably written, so a rerun continues instead of restarting.

A run is named by a hash of the arguments that decide its output (inputs, scope, LMS
sources, worker count); batch size and display options do not change it. Positions are
written only after the facts of a batch have committed, so a crash can at worst replay
one batch, which the idempotent fact writers turn into a no-op.

Position layout (``BackfillCheckpoint.position``)::

    {"<chunk key>": {"line": next line to read, "offset": byte offset or null, "done": bool},
     "lms:<kind>": {"line": events consumed, "offset": null, "done": bool}}
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction

from openedx_analytics import conf
from openedx_analytics.models import BackfillCheckpoint


def run_key(arguments: dict[str, Any]) -> str:
    """A stable name for a run with these arguments."""
    text = json.dumps(arguments, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Checkpoint:
    """The persisted progress of one run; ``disabled`` (dry runs) records nothing."""

    def __init__(self, arguments: dict[str, Any], *, disabled: bool = False, restart: bool = False) -> None:
        self.arguments = arguments
        self.key = run_key(arguments)
        self.disabled = disabled
        self.position: dict[str, dict[str, Any]] = {}
        self.finished = False
        self.resumed = False
        if disabled:
            return
        using = conf.analytics_db()
        row, created = BackfillCheckpoint.objects.using(using).get_or_create(
            run_key=self.key, defaults={"arguments": json.loads(json.dumps(arguments, default=str))}
        )
        if restart and not created:
            row.position, row.finished = {}, False
            row.save(using=using, update_fields=["position", "finished", "updated"])
        self.position = dict(row.position or {})
        self.finished = row.finished
        self.resumed = bool(self.position) and not created

    @classmethod
    def load(cls, key: str) -> Checkpoint:
        """The checkpoint of an existing run (for chunk tasks running in Celery workers)."""
        row = BackfillCheckpoint.objects.using(conf.analytics_db()).get(run_key=key)
        return cls(row.arguments)

    def get(self, name: str) -> dict[str, Any] | None:
        """The saved position of input ``name``, if any."""
        return self.position.get(name)

    def save(self, name: str, line: int, offset: int | None, done: bool = False) -> None:
        """Record that input ``name`` is durably written up to ``line`` (merging with other workers' keys)."""
        entry = {"line": line, "offset": offset, "done": done}
        self.position[name] = entry
        if self.disabled:
            return
        using = conf.analytics_db()
        with transaction.atomic(using=using):
            row = BackfillCheckpoint.objects.using(using).select_for_update().get(run_key=self.key)
            position = dict(row.position or {})
            position[name] = entry
            row.position = position
            row.save(using=using, update_fields=["position", "updated"])

    def finish(self) -> None:
        """Mark the run complete: rerunning it with the same arguments is a no-op."""
        self.finished = True
        if not self.disabled:
            BackfillCheckpoint.objects.using(conf.analytics_db()).filter(run_key=self.key).update(finished=True)
