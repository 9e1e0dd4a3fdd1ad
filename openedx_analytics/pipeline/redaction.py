"""What of an event leaves the door: the allow-listed fields the normalizer reads, nothing else.

``redact`` is applied by the tracking door before anything is staged for the broker, by the
log reader to every decoded line, and to every stored rejection sample (``sample_text``).
It keeps from the context the fields of ``CONTEXT_FIELDS`` (``module`` its usage key only,
``path`` and ``page`` only when they name a course, as a path) and from the payload the
fields of ``DATA_FIELDS``: the union of the fields the registered events may read
(``pipeline/events``), so no username, email, IP, session, user agent or referrer goes on.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

from openedx_analytics.pipeline.envelope import MAX_PAYLOAD_DEPTH, UNREADABLE, decode_json, payload_key
from openedx_analytics.pipeline.events.registry import DATA_FIELDS
from openedx_analytics.pipeline.rejected import Rejected

#: Context fields the normalizer reads (``module`` keeps its usage key only; URLs their course path).
CONTEXT_FIELDS = ("course_id", "user_id", "event_source", "timestamp", "path", "page", "module")
#: Longest text kept for a scalar field outside the payload (a timestamp, a source, a URL path).
_SCALAR_CHARS = 2048
_SCALARS = (str, int, float, bool, type(None), dt.datetime)


def _scalar(value: Any) -> Any:
    """A context or envelope value as kept: scalars (long strings cut), anything else named by its type."""
    if isinstance(value, str):
        return value[:_SCALAR_CHARS]
    return value if isinstance(value, _SCALARS) else f"<{type(value).__name__}>"


def _course_url(value: Any) -> str | None:
    """A page or request URL reduced to its path, and only when it names a course (no query, no host)."""
    if not isinstance(value, str) or "/courses/" not in value:
        return None
    try:
        return urlsplit(value[:_SCALAR_CHARS]).path or None
    except ValueError:
        return None


def _check_depth(value: Any, limit: int = MAX_PAYLOAD_DEPTH) -> None:
    """Reject values nested deeper than ``limit`` (iteratively: the check itself never recurses)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            raise Rejected("too_deep", f"payload nested deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children)


_NOT_KEPT = ("",)  # a marker no ``DATA_FIELDS`` entry is


def _kept_data(payload: dict[str, Any]) -> dict[str, Any]:
    """The allowed fields of ``payload`` (in its own order: one lookup per field it has)."""
    kept: dict[str, Any] = {}
    allowed = DATA_FIELDS.get
    for key, value in payload.items():
        sub_fields = allowed(key, _NOT_KEPT)
        if sub_fields is _NOT_KEPT:
            continue
        if sub_fields and isinstance(value, dict):
            value = {
                part: {name: entry[name] for name in sub_fields if name in entry} if isinstance(entry, dict) else entry
                for part, entry in value.items()
            }
        if isinstance(value, dict | list):
            _check_depth(value)
        kept[key] = value
    return kept


def _kept_context(context: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key in CONTEXT_FIELDS:
        if key not in context:
            continue
        value = context[key]
        if key in ("path", "page"):
            value = _course_url(value)
            if value is None:
                continue
        elif key == "module":
            value = {"usage_key": _scalar(value.get("usage_key"))} if isinstance(value, dict) else None
        else:
            value = _scalar(value)
        kept[key] = value
    return kept


def redact(raw: Any) -> Any:
    """The event with only the fields the normalizer reads, in one shape (``name``/``time``/``context``/``data``).

    Normalizing the result gives the records normalizing ``raw`` gives (and a rejection for
    a rejection). Payloads sent as JSON
    strings are decoded here (so they are decoded once). A payload the doors cannot read
    (nested too deep) becomes a stand-in with ``UNREADABLE`` set to the reason, so the
    event is still counted as rejected downstream. Non-object events are returned as they
    are (the normalizer rejects them; samples describe them by type).
    """
    if not isinstance(raw, dict):
        return raw
    context = raw.get("context")
    if isinstance(context, dict):
        kept_context: Any = _kept_context(context)
    else:
        kept_context = f"<{type(context).__name__}>" if context else {}
        context = {}
    name = raw.get("name") or raw.get("event_type")
    event: dict[str, Any] = {
        "name": name[:_SCALAR_CHARS] if isinstance(name, str) else None,
        "time": _scalar(raw.get("timestamp") or raw.get("time")),
        "context": kept_context,
    }
    source = raw.get("event_source") or context.get("event_source")
    if source:
        event["event_source"] = _scalar(source)
    page = _course_url(raw.get("page") or context.get("page"))
    if page:
        event["page"] = page
    if UNREADABLE in raw:
        event[UNREADABLE] = _scalar(raw[UNREADABLE])
        return event
    payload = raw.get(payload_key(raw))
    try:
        if isinstance(payload, str):
            try:
                decoded = decode_json(payload) if payload else None
            except ValueError:
                decoded = None  # e.g. browser problem_check's URL-encoded answers: not read, not kept
            payload = decoded if isinstance(decoded, dict) else None
        if isinstance(payload, dict):
            event["data"] = _kept_data(payload)
        elif payload is None or isinstance(payload, list):
            event["data"] = {}
        else:
            event["data"] = _scalar(payload)
    except Rejected as rejection:
        event[UNREADABLE] = rejection.reason
    return event


def sample_text(event: Any, limit: int) -> str:
    """What a stored rejection sample keeps of ``event``: its allowed fields as JSON, at most ``limit`` characters.

    A line or value that is not a JSON object is described (type and size), never stored:
    it cannot be split into allowed and personal fields. Its file and line are in the detail.
    """
    if isinstance(event, str | bytes):
        return f"<{len(event)} characters, not a JSON object>"[:limit]
    if not isinstance(event, dict):
        size = f" of {len(event)} items" if isinstance(event, list | tuple) else ""
        return f"<{type(event).__name__}{size}, not a JSON object>"[:limit]
    try:
        text = json.dumps(redact(event), default=str)
    except (TypeError, ValueError, RecursionError):
        text = "<event that cannot be shown as JSON>"
    return text[:limit]
