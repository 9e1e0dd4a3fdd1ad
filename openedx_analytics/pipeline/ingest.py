"""Take a batch of raw events through the normalizer into facts; count and sample rejections.

Shared by the Celery task of the live doors, ``backfill_analytics`` and the ingest
gateway. One malformed event never sinks its batch: it is counted by reason and the
good events of the same batch are still written.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F

from openedx_analytics import conf
from openedx_analytics.models import RejectedEventSample, RejectionCount
from openedx_analytics.pipeline.envelope import sample_text
from openedx_analytics.pipeline.facts import Scope, write_facts
from openedx_analytics.pipeline.normalizer import Outcome, normalize
from openedx_analytics.pipeline.records import Record

log = logging.getLogger(__name__)

SAMPLE_PAYLOAD_CHARS = 2000


@dataclass
class BatchResult:
    """What one batch became."""

    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    scopes: set[Scope] = field(default_factory=set)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def courses(self) -> set[str]:
        """Courses whose aggregates the batch may have changed."""
        return {scope[1] for scope in self.scopes}


def normalize_batch(raw_events: Iterable[Any], *, generic: bool = True) -> tuple[list[Record], BatchResult]:
    """Normalize every event; return the good records and a result with per-event outcomes."""
    result = BatchResult()
    records: list[Record] = []
    for raw in raw_events:
        outcome = normalize(raw, generic=generic)
        result.outcomes.append(outcome)
        if outcome.reason is None:
            result.accepted += 1
            records.extend(outcome.records)
        else:
            result.rejected[outcome.reason] += 1
    return records, result


def ingest(raw_events: Iterable[Any], *, source: str, generic: bool = True) -> BatchResult:
    """Normalize and store a batch; record its rejections; return what happened."""
    events = list(raw_events)
    records, result = normalize_batch(events, generic=generic)
    result.scopes = write_facts(records)
    if result.rejected:
        record_rejections(source, events, result.outcomes)
    return result


def record_rejections(source: str, events: list[Any], outcomes: list[Outcome]) -> None:
    """Add to the per-reason counters and keep a bounded sample of rejected events."""
    using = conf.analytics_db()
    counts = Counter(outcome.reason for outcome in outcomes if outcome.reason)
    limit = int(conf.get("OPENEDX_ANALYTICS_REJECTED_SAMPLE_SIZE"))
    with transaction.atomic(using=using):
        for reason, count in counts.items():
            updated = RejectionCount.objects.using(using).filter(source=source, reason=reason).update(
                count=F("count") + count
            )
            if not updated:
                RejectionCount.objects.using(using).get_or_create(source=source, reason=reason)
                RejectionCount.objects.using(using).filter(source=source, reason=reason).update(
                    count=F("count") + count
                )
        samples = [
            RejectedEventSample(
                source=source, reason=outcome.reason, name=outcome.name[:255], detail=outcome.detail[:1000],
                payload=_excerpt(event),
            )
            for event, outcome in zip(events, outcomes, strict=True)
            if outcome.reason
        ][: limit * len(counts)]
        RejectedEventSample.objects.using(using).bulk_create(samples)
        for reason in counts:
            stale = (
                RejectedEventSample.objects.using(using).filter(reason=reason)
                .order_by("-created", "-id").values_list("id", flat=True)[limit:]
            )
            stale_ids = list(stale)
            if stale_ids:
                RejectedEventSample.objects.using(using).filter(id__in=stale_ids).delete()
    log.info("openedx_analytics: rejected %s events from %s: %s", sum(counts.values()), source, dict(counts))


def _excerpt(event: Any) -> str:
    return sample_text(event, SAMPLE_PAYLOAD_CHARS)
