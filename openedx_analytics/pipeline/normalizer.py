"""The one normalizer: any raw event in, typed records (or the reason why not) out.

Live signals, the tracking backend, ``backfill_analytics`` and the ingest gateway all
call ``normalize``; their numbers cannot drift apart. What each event name means, who may
assert it and which payload fields it may read is the event registry's
(``pipeline/events``); this module applies it: the envelope is read, its time held to a
plausible window, the registered function run under the name's payload allow-list, and
every record checked against the bounds of the column it goes to (``records.check_bounds``),
so a hostile value is a counted rejection, never a failing insert or an aggregate bent
out of shape.

Names that are not registered still count as course activity ("any" engagement) when
they carry a course and a learner, as Insights counted them; pass ``generic=False`` to
accept registered names only (the ingest gateway does, with its sender's ``grants``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from openedx_analytics.pipeline.envelope import check_time, from_raw
from openedx_analytics.pipeline.events.bounds import bounds
from openedx_analytics.pipeline.events.content import content_visit
from openedx_analytics.pipeline.events.registry import registration_for
from openedx_analytics.pipeline.records import ContentVisit, Record, check_bounds
from openedx_analytics.pipeline.rejected import Rejected


@dataclass(slots=True)
class Outcome:
    """What one raw event became: records, or a rejection reason (and its detail).

    ``time`` is the event's time when it could be read (the backfill filters by it).
    ``visit`` is the block of the course the learner's activity touched, when the event
    names one (``events.content``): the ingest stores it under the outline parts holding it.
    ``field`` is where the fault lies in a rejected event, when known (``Rejected.field``).
    """

    records: list[Record]
    reason: str | None = None
    detail: str = ""
    name: str = ""
    time: dt.datetime | None = None
    visit: ContentVisit | None = None
    field: str = ""


def normalize(raw: Any, *, generic: bool = True, grants: Collection[str] = ()) -> Outcome:
    """Turn one raw event into records, or say why not. Never raises for bad input.

    ``grants`` are the kinds of events the sending service may assert (``registry.GRANTS``):
    they decide for events of ``SERVICE_SOURCE`` only.

    A normalizer's own failure (a bug, such as reading a payload field its registration
    does not list) is a ``normalizer_error`` rejection: it must not sink the batch.
    """
    name = ""
    time = None
    try:
        envelope = from_raw(raw)
        name, time = envelope.name, envelope.time
        limits = bounds()
        check_time(envelope.time, limits.earliest, limits.max_ahead)
        registration = registration_for(envelope, generic, grants)
        envelope.allow(registration.fields)
        records = registration.normalizer(envelope)
        for record in records:
            check_bounds(record)
        return Outcome(records=records, name=name, time=time, visit=content_visit(envelope, records))
    except Rejected as rejection:
        return Outcome(records=[], reason=rejection.reason, detail=rejection.detail, name=name, time=time,
                       field=rejection.field)
    except RecursionError:
        return Outcome(records=[], reason="too_deep", detail="payload nested too deep", name=name, time=time)
    except Exception as exc:  # noqa: BLE001 - a normalizer bug must not sink the batch
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return Outcome(records=[], reason="normalizer_error", detail=detail, name=name, time=time)
