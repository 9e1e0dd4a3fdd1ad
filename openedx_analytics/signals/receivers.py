"""The door for openedx-events learning signals: serialise the little we need, stage it for Celery.

Only ids, modes, statuses and grades cross into the queue: no username, email, name,
certificate URL or forum text. Receivers never raise into the LMS.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import attr

from openedx_analytics.live.dispatch import enqueue
from openedx_analytics.pipeline.events.registry import DATA_FIELDS, DATA_KWARGS
from openedx_analytics.pipeline.payload import IDENTITY_FIELDS

log = logging.getLogger(__name__)

#: Payload fields that normalizers read (the event registry's allow-list, which the tracking door
#: and the log reader apply too); everything else (PII, texts) stays behind. Learner and course
#: are set from their objects.
KEPT_FIELDS = tuple(name for name in DATA_FIELDS if name not in IDENTITY_FIELDS)


def serialize(event_type: str, data: Any, time: dt.datetime | None) -> dict[str, Any]:
    """The raw event (our signal shape) for one signal's data object."""
    values = attr.asdict(data, recurse=False) if attr.has(type(data)) else dict(data)
    course = values.get("course")
    course_id = getattr(course, "course_key", None) or values.get("course_id")
    user = values.get("user")
    user_id = getattr(user, "id", None) if user is not None else values.get("user_id")
    payload = {key: values[key] for key in KEPT_FIELDS if key in values}
    payload.update(course_id=str(course_id) if course_id else None, user_id=user_id)
    return {
        "name": event_type,
        "time": (time or dt.datetime.now(dt.timezone.utc)).isoformat(),
        "data": payload,
        "context": {"course_id": payload["course_id"], "user_id": user_id},
        "event_source": "signal",
    }


def receive_learning_event(sender: Any, signal: Any = None, **kwargs: Any) -> None:
    """Receiver of every learning signal we track (the event registry's ``SIGNALS``, see ``apps``)."""
    try:
        # the data object, under the keyword its signal uses (the registry's ``Signal.keyword``)
        data = next((kwargs[name] for name in DATA_KWARGS if kwargs.get(name) is not None), None)
        if data is None:
            log.warning("openedx_analytics: %s arrived without data", getattr(signal, "event_type", signal))
            return
        metadata = kwargs.get("metadata")
        enqueue(serialize(signal.event_type, data, getattr(metadata, "time", None)))
    except Exception:  # noqa: BLE001
        log.exception("openedx_analytics: could not take a signal; it is lost (backfill recovers it)")
