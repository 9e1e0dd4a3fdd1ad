"""The account of a backfill run: what was read, kept, rejected and recomputed.

Chunks running in Celery workers return their summary as a dict; the command merges
them, so the operator sees one report whichever way the run was split.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from openedx_analytics.pipeline.kinds import KINDS

SAMPLES_PER_REASON = 5
#: Labels of the record kinds whose facts carry no fingerprint: a dry run cannot tell which are new.
UNCOUNTED_LABELS = frozenset(kind.label for kind in KINDS.values() if not kind.fingerprinted)


@dataclass
class Summary:
    """Counts of one run (or one chunk of it)."""

    lines_read: int = 0
    lines_skipped: int = 0
    events_read: int = 0
    events_accepted: int = 0
    out_of_scope: int = 0
    rejected: Counter = field(default_factory=Counter)
    #: reason -> ["file:line: detail", ...] (at most SAMPLES_PER_REASON each)
    samples: dict[str, list[str]] = field(default_factory=dict)
    #: "course kind" -> records (what a dry run would write)
    records: Counter = field(default_factory=Counter)
    #: "course kind" -> facts not stored yet (dry runs only)
    new_facts: Counter = field(default_factory=Counter)
    #: course -> events accepted
    events_by_course: Counter = field(default_factory=Counter)
    courses: set[str] = field(default_factory=set)
    scopes_recomputed: int = 0
    scopes_failed: int = 0
    inputs_done: int = 0
    inputs_skipped: int = 0
    elapsed: float = 0.0
    recompute_seconds: float = 0.0

    def reject(self, reason: str, where: str, detail: str) -> None:
        """Count one rejection and keep it as a sample if there is room."""
        self.rejected[reason] += 1
        samples = self.samples.setdefault(reason, [])
        if len(samples) < SAMPLES_PER_REASON:
            samples.append(f"{where}: {detail}"[:300])

    def merge(self, other: Summary) -> None:
        """Add another chunk's counts to this one."""
        for name in ("lines_read", "lines_skipped", "events_read", "events_accepted", "out_of_scope",
                     "scopes_recomputed", "scopes_failed", "inputs_done", "inputs_skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected.update(other.rejected)
        self.records.update(other.records)
        self.new_facts.update(other.new_facts)
        self.events_by_course.update(other.events_by_course)
        self.courses |= other.courses
        for reason, samples in other.samples.items():
            mine = self.samples.setdefault(reason, [])
            mine.extend(samples[: max(SAMPLES_PER_REASON - len(mine), 0)])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (Celery results)."""
        return {
            "lines_read": self.lines_read, "lines_skipped": self.lines_skipped, "events_read": self.events_read,
            "events_accepted": self.events_accepted, "out_of_scope": self.out_of_scope,
            "rejected": dict(self.rejected), "samples": self.samples, "records": dict(self.records),
            "new_facts": dict(self.new_facts), "events_by_course": dict(self.events_by_course),
            "courses": sorted(self.courses), "scopes_recomputed": self.scopes_recomputed,
            "scopes_failed": self.scopes_failed, "inputs_done": self.inputs_done,
            "inputs_skipped": self.inputs_skipped, "elapsed": self.elapsed,
            "recompute_seconds": self.recompute_seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        """The summary ``to_dict`` described."""
        summary = cls(**{k: v for k, v in data.items()
                         if k not in ("rejected", "records", "new_facts", "events_by_course", "courses")})
        summary.rejected = Counter(data.get("rejected", {}))
        summary.records = Counter(data.get("records", {}))
        summary.new_facts = Counter(data.get("new_facts", {}))
        summary.events_by_course = Counter(data.get("events_by_course", {}))
        summary.courses = set(data.get("courses", []))
        return summary

    def render(self, *, dry_run: bool = False) -> list[str]:
        """The final report, one line per fact an operator needs."""
        rate = self.lines_read / self.elapsed if self.elapsed > 0 else 0.0
        lines = [
            f"Lines read: {self.lines_read:,} (blank or comment: {self.lines_skipped:,})",
            f"Events read: {self.events_read:,}",
            f"Events accepted: {self.events_accepted:,}",
            f"Events out of scope: {self.out_of_scope:,}",
            f"Rejected: {sum(self.rejected.values()):,}",
        ]
        for reason, count in sorted(self.rejected.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  {reason}: {count:,}")
            lines.extend(f"    e.g. {sample}" for sample in self.samples.get(reason, []))
        if self.inputs_skipped:
            lines.append(f"Inputs already done by an earlier run: {self.inputs_skipped}")
        if dry_run:
            lines.append("Dry run: nothing was written. Would write, per course and kind (records / new facts):")
            for key in sorted(self.records):
                # facts without a fingerprint (activity): their "new" count is not known
                new = None if key.rpartition(" ")[2] in UNCOUNTED_LABELS else self.new_facts.get(key, 0)
                lines.append(f"  {key}: {self.records[key]:,}" + (f" / {new:,} new" if new is not None else ""))
        else:
            lines.append(f"Courses touched: {len(self.courses):,}")
            lines.append(f"Scopes recomputed: {self.scopes_recomputed:,}"
                         + (f" ({self.scopes_failed} failed, left dirty)" if self.scopes_failed else ""))
        lines.append(f"Elapsed: {self.elapsed:,.1f} s ({rate:,.0f} lines/s), "
                     f"of which recomputing aggregates: {self.recompute_seconds:,.1f} s")
        return lines
