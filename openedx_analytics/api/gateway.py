"""The ingest gateway's work: a sending service's batch of events through the one ingest routine.

Another system (a mobile app's backend, an LTI tool, a proctoring or e-commerce service)
posts learning events in the Open edX tracking-event shape; ``receive`` takes them through
``pipeline.ingest.ingest``, the routine the live doors and the backfill use, so an event
is read, validated and stored exactly as if the LMS had emitted it. What differs is who
speaks: each event is marked ``SERVICE_SOURCE`` (whatever it says), the registry reads it
only under the sender's grants (``registry.GRANTS``), only the courses of its organizations
and courses are taken, unknown names are refused, and the sender's name is kept on each
fact as its source.

Facts are written inside the request ("accepted" means stored); the aggregates are
recomputed after, by the worker, as for live batches. Items are applied in order. An item
the sender stored before (same ``id``, or the same content without one, within
``OPENEDX_ANALYTICS_GATEWAY_RECEIPT_DAYS``) is not applied again and is answered
``duplicate``; facts de-duplicate anyway, so nothing counts twice after that either.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from openedx_analytics import conf
from openedx_analytics.models import GatewayCaller, GatewayReceipt
from openedx_analytics.models.gateway import LATEST_REJECTIONS
from openedx_analytics.pipeline.envelope import SERVICE_SOURCE
from openedx_analytics.pipeline.ingest import ingest
from openedx_analytics.pipeline.normalizer import Outcome
from openedx_analytics.worker import windows
from openedx_analytics.worker.tasks import coalesce, recompute_dirty_scopes

log = logging.getLogger(__name__)

#: The door's name in the rejection counts and samples (``RejectionCount.source``).
DOOR = "gateway"
#: Keys of an item that are read; the rest of it is ignored (``id`` is the sender's, not the event's).
EVENT_KEYS = ("name", "event_type", "time", "timestamp", "context", "event", "data", "page")
#: Longest ``id`` a sender may give an item.
MAX_ID_LENGTH = 128
#: Where a rejection reason lies in an item when the code that refused it did not say.
FIELD_OF_REASON = {
    "not_an_object": "", "no_name": "name", "unknown_event": "name", "not_granted": "name",
    "untrusted_source": "name", "bad_time": "time", "implausible_time": "time",
    "no_course_id": "context.course_id", "bad_course_id": "context.course_id",
    "unknown_course": "context.course_id", "course_not_granted": "context.course_id",
    "no_user": "context.user_id", "bad_user_id": "context.user_id",
    "bad_id": "id", "too_deep": "",
}
#: Receipts older than the window deleted per request, at most (the rest go with the next requests).
PRUNE_BATCH = 1000


@dataclass
class ItemError:
    """One rejected item: where it is in the batch, the sender's ``id``, where the fault lies, and why."""

    index: int
    id: Any
    field: str
    reason: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """The item's entry in the response's ``rejected`` list."""
        return {"index": self.index, "id": self.id, "field": self.field, "reason": self.reason,
                "detail": self.detail}


@dataclass
class Receipt:
    """What became of one batch."""

    atomic: bool
    accepted: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[ItemError] = field(default_factory=list)
    courses: list[str] = field(default_factory=list)

    @property
    def stored(self) -> bool:
        """Whether the batch's good items were stored (all-or-nothing refuses them all after one bad item)."""
        return not (self.atomic and self.rejected)


def caller_of(user: Any) -> GatewayCaller | None:
    """The enabled gateway caller row of ``user``, or None."""
    if user is None or getattr(user, "pk", None) is None:
        return None
    return GatewayCaller.objects.using("default").select_related("user").filter(user_id=user.pk, enabled=True).first()


@lru_cache(maxsize=4096)
def _organization(course_id: str) -> str | None:
    try:
        return CourseKey.from_string(course_id).org
    except InvalidKeyError:
        return None


def course_rule(caller: GatewayCaller) -> Any:
    """Whether ``caller`` may speak for a course: one of its courses, or a course of one of its organizations."""
    organizations, courses = caller.organization_set, caller.course_set

    def allowed(course_id: str) -> bool:
        return course_id in courses or _organization(course_id) in organizations

    return allowed


def _item_key(caller_id: int, item: dict[str, Any]) -> str | None:
    """The receipt key of an item: its ``id``, else its content (None when it cannot be serialized)."""
    if "id" in item:
        return hashlib.sha256(f"{caller_id}\x00id\x00{item['id']!r}".encode()).hexdigest()
    try:
        text = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        try:
            text = json.dumps(item, sort_keys=True, default=str).encode()
        except (TypeError, ValueError, RecursionError):
            return None
    return hashlib.sha256(f"{caller_id}\x00content\x00".encode() + text).hexdigest()


def _bad_id(item: dict[str, Any]) -> str | None:
    """Why an item's ``id`` cannot be used, or None (a string of up to ``MAX_ID_LENGTH`` characters or an integer)."""
    if "id" not in item:
        return None
    value = item["id"]
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"id must be a string or an integer, not {type(value).__name__}"
    if isinstance(value, str) and not 0 < len(value) <= MAX_ID_LENGTH:
        return f"id must have 1 to {MAX_ID_LENGTH} characters"
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return "id is out of range"
    return None


def _shaped(item: dict[str, Any]) -> dict[str, Any]:
    """The event as the ingest reads it: the tracking-event keys only, its source the sending service's."""
    event = {key: item[key] for key in EVENT_KEYS if key in item}
    event["event_source"] = SERVICE_SOURCE
    return event


def _sender_id(item: Any) -> Any:
    """The item's ``id`` as the response repeats it (None without one, or when it is unusable)."""
    return item.get("id") if isinstance(item, dict) and _bad_id(item) is None else None


def _payload_key(item: Any) -> str:
    return "event" if isinstance(item, dict) and "event" in item and "data" not in item else "data"


def _error(index: int, item: Any, outcome: Outcome) -> ItemError:
    """An item's rejection as the sender reads it: the field path in its own item (``event`` or ``data``)."""
    path = outcome.field or FIELD_OF_REASON.get(outcome.reason or "", "")
    if path == "data" or path.startswith("data."):
        path = _payload_key(item) + path[4:]
    return ItemError(index, _sender_id(item), path, outcome.reason or "", outcome.detail[:300])


def receive(caller: GatewayCaller, items: list[Any], *, atomic: bool = False) -> Receipt:
    """Validate and store a sender's batch in order; say what became of each item; schedule the recompute.

    With ``atomic`` nothing is stored when any item is rejected. Items already stored
    (receipts) are skipped and listed as duplicates. An item repeating an earlier one of the
    same batch (same ``id``, or same content) is a duplicate when that one was accepted;
    when it was rejected, the repeat is too (``repeated_id``, or the same error).
    """
    receipt = Receipt(atomic=atomic)
    caller_id = caller.user_id
    keys: list[str | None] = [_item_key(caller_id, item) if isinstance(item, dict) else None for item in items]
    using = conf.analytics_db()
    wanted = {key for key in keys if key}
    stored_before = set(GatewayReceipt.objects.using(using).filter(caller_id=caller_id, key__in=wanted)
                        .values_list("key", flat=True)) if wanted else set()
    events: list[dict[str, Any]] = []
    positions: list[int] = []  # event -> its item's index
    first_of: dict[str, int] = {}  # key -> index of its first item in this batch
    repeats: list[tuple[int, int]] = []  # (index, index of the earlier item it repeats)
    refused: list[tuple[Any, Outcome]] = []
    errors: dict[int, ItemError] = {}
    for index, (item, key) in enumerate(zip(items, keys, strict=True)):
        if isinstance(item, dict) and (why := _bad_id(item)) is not None:
            outcome = Outcome(records=[], reason="bad_id", detail=why, name=str(item.get("name") or "")[:255])
            refused.append((item, outcome))
            errors[index] = _error(index, item, outcome)
            continue
        if key is not None and key in stored_before:
            receipt.duplicates.append({"index": index, "id": _sender_id(item)})
            continue
        if key is not None:
            if key in first_of:
                repeats.append((index, first_of[key]))
                continue
            first_of[key] = index
        events.append(_shaped(item) if isinstance(item, dict) else item)
        positions.append(index)
    with transaction.atomic(using=using):  # the facts and their receipts: one commit
        result = _ingest(caller, events, refused, atomic) if events or refused else None
        if result is not None and not (atomic and (result.rejections or refused)):
            rejected_events = {index for index, _outcome in result.rejections}
            stored_keys = [keys[positions[index]] for index in range(len(events)) if index not in rejected_events]
            _keep_receipts(caller_id, [key for key in stored_keys if key], using)
    for index, outcome in result.rejections if result else []:
        errors[positions[index]] = _error(positions[index], items[positions[index]], outcome)
    for index, earlier in repeats:
        if earlier not in errors:
            receipt.duplicates.append({"index": index, "id": _sender_id(items[index])})
        elif "id" in items[index]:
            errors[index] = ItemError(index, _sender_id(items[index]), "id", "repeated_id",
                                      f"item {earlier} of this batch has this id and was rejected")
        else:
            errors[index] = ItemError(index, None, errors[earlier].field, errors[earlier].reason,
                                      errors[earlier].detail)
    receipt.duplicates.sort(key=lambda duplicate: duplicate["index"])
    receipt.rejected = [errors[index] for index in sorted(errors)]
    if result is not None and receipt.stored:
        receipt.accepted = result.accepted
        receipt.courses = sorted(result.courses)
    _count(caller, receipt)
    if receipt.courses:
        _recompute(receipt.courses)
    return receipt


def _ingest(caller: GatewayCaller, events: list[Any], refused: list[tuple[Any, Outcome]], atomic: bool) -> Any:
    """The one ingest routine, as the sender's grants, organizations and courses allow it."""
    return ingest(events, source=DOOR, generic=False, grants=caller.grant_set, course_allowed=course_rule(caller),
                  atomic=atomic, fact_source=f"service:{caller.user.username}", unparsed=refused)


def _keep_receipts(caller_id: int, keys: list[str], using: str) -> None:
    """Remember the stored items' keys; forget this sender's keys older than the window (a bounded number)."""
    now = timezone.now()
    if keys:
        GatewayReceipt.objects.using(using).bulk_create(
            [GatewayReceipt(caller_id=caller_id, key=key, created=now) for key in keys], ignore_conflicts=True)
    cutoff = now - dt.timedelta(days=float(conf.get("OPENEDX_ANALYTICS_GATEWAY_RECEIPT_DAYS")))
    stale = list(GatewayReceipt.objects.using(using).filter(caller_id=caller_id, created__lt=cutoff)
                 .values_list("id", flat=True)[:PRUNE_BATCH])
    if stale:
        GatewayReceipt.objects.using(using).filter(id__in=stale).delete()


def _count(caller: GatewayCaller, receipt: Receipt) -> None:
    """Add the batch to the caller's counts; keep its latest rejections (allow-listed fields, bounded)."""
    now = timezone.now()
    latest = caller.latest_rejections if isinstance(caller.latest_rejections, list) else []
    if receipt.rejected:
        fresh = [{"time": now.isoformat(), **error.as_dict(), "id": str(error.id)[:MAX_ID_LENGTH]
                  if error.id is not None else None} for error in receipt.rejected[:LATEST_REJECTIONS]]
        latest = (list(reversed(fresh)) + latest)[:LATEST_REJECTIONS]
    GatewayCaller.objects.using("default").filter(pk=caller.pk).update(
        accepted=F("accepted") + receipt.accepted, duplicates=F("duplicates") + len(receipt.duplicates),
        rejected=F("rejected") + len(receipt.rejected), last_seen=now, latest_rejections=latest)


def _recompute(courses: list[str]) -> None:
    """Have the worker recompute the courses' aggregates (coalesced as for live batches); never raises."""
    try:
        now_courses = coalesce(courses)
        if now_courses:
            recompute_dirty_scopes.apply_async(args=[now_courses], queue=conf.celery_queue())
    except Exception:  # noqa: BLE001 - the facts and their markers are stored: the sweep recomputes them
        log.warning("openedx_analytics: could not schedule the recompute of %s after a gateway batch; the sweep "
                    "will", courses, exc_info=True)


def visible_within_seconds() -> int:
    """About how long after a batch its courses' figures show it (a recompute window, its margin, the run)."""
    delay = max(int(conf.get("OPENEDX_ANALYTICS_RECOMPUTE_DELAY_SECONDS") or 0),
                int(conf.get("OPENEDX_ANALYTICS_RECOMPUTE_MAX_DELAY_SECONDS") or 0))
    return delay + windows.WINDOW_MARGIN_SECONDS + 2
