"""Read any raw event shape Open edX produces into one ``Envelope``.

Shapes accepted: event-tracking's in-process dict (``name``/``timestamp``/``data``/
``context``), a tracking-log line (``event_type``/``event``/``time``/``context``, the
``event`` possibly a JSON string as browser events send it), and our own serialized
openedx-events signals (``name``/``time``/``data``). Field access that can fail raises
``Rejected`` with a reason operators can count.

Two rules against forgery and leaks live here, because every door goes through them:

- ``Envelope.from_server``: only events the server wrote (server, task, signal and LMS-table
  sources) may name a learner or course in their payload; a browser or mobile payload is
  written by whoever holds the tab, so its learner is the authenticated one in the context.
- ``redact``: the allow-list of the context and payload fields the normalizer reads. The
  tracking door, the log reader and the stored rejection samples keep nothing else (no
  username, email, IP, session, user agent, referrer).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey


class Rejected(Exception):
    """An event we cannot count, with a short machine-readable ``reason`` and a human ``detail``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


#: Sources whose events the server wrote: they may assert enrollment, grade and certificate facts.
SERVER_SOURCES = frozenset({"server", "task", "signal", "lms_table"})
#: Sources whose payload a learner's device wrote: they speak only for that learner's activity and video.
CLIENT_SOURCES = frozenset({"browser", "mobile"})
#: ``event_source`` of an event that names none (the LMS's in-process server events).
DEFAULT_SOURCE = "server"
#: Deepest nesting of a payload value the doors take (the normalizer needs four levels at most).
MAX_PAYLOAD_DEPTH = 32
#: Key of the stand-in the tracking door forwards for an event it could not read (the reason as value).
UNREADABLE = "unreadable_at_door"

_COURSE_IN_URL = re.compile(r"/courses/(course-v1:[^/?#]+|[^/?#]+/[^/?#]+/[^/?#]+)(?:[/?#]|$)")


@dataclass(slots=True)
class Envelope:
    """One event, whatever door it came through, with the fields every normalizer needs."""

    name: str
    time: dt.datetime
    data: dict[str, Any]
    context: dict[str, Any]
    event_source: str = ""
    page: str = ""
    raw_data: Any = None

    @property
    def from_server(self) -> bool:
        """Whether the server wrote the event (so its payload may name the learner and course)."""
        return self.event_source in SERVER_SOURCES

    @property
    def day(self) -> dt.date:
        """The UTC day the event happened on."""
        return self.time.date()

    def course_id(self, *, required: bool = True) -> str | None:
        """The event's course id, from the context, the payload (server events) or the page/path URL; validated."""
        raw = self.context.get("course_id") or (self.data.get("course_id") if self.from_server else None) or None
        if raw is None:
            for url in (self.page, self.context.get("path"), self.name):
                if isinstance(url, str) and "/courses/" in url:
                    match = _COURSE_IN_URL.search(unquote(url))
                    if match:
                        raw = match.group(1)
                        break
        if raw is None:
            if required:
                raise Rejected("no_course_id", "no course id in context, payload or URL")
            return None
        return parse_course_id(raw)

    def user_id(self, *, from_data: bool = False) -> int:
        """The learner's LMS user id: context ``user_id``, payload first when ``from_data``.

        Only server-written events may name a learner in their payload; a browser or mobile
        event is always the authenticated learner's (context ``user_id``), whatever it says.
        """
        if not self.from_server:
            holders: tuple[dict[str, Any], ...] = (self.context,)
        else:
            holders = (self.data, self.context) if from_data else (self.context, self.data)
        raw = None
        for holder in holders:
            raw = holder.get("user_id")
            if raw is not None and raw != "":
                break
        if raw is None or raw == "":
            raise Rejected("no_user", "event has no user id")
        return parse_user_id(raw)


@lru_cache(maxsize=8192)
def _canonical_course_id(text: str) -> str:
    """Parsing a course key is slow and a site has few courses: remember the answers."""
    return str(CourseKey.from_string(text))


#: Most course id texts ``parse_course_id`` remembers (a site has few courses; past this it starts over).
_COURSE_IDS = 8192
_course_ids: dict[str, str] = {}


def parse_course_id(raw: Any) -> str:
    """Validate a course id string (new or old ``Org/Num/Run`` form); return its canonical text."""
    if type(raw) is str:
        known = _course_ids.get(raw)  # every event of a course asks again
        if known is not None:
            return known
    if not isinstance(raw, str):
        raise Rejected("bad_course_id", f"course id is a {type(raw).__name__}")
    try:
        canonical = _canonical_course_id(raw.strip())
    except InvalidKeyError:
        raise Rejected("bad_course_id", f"not a course key: {raw[:100]!r}") from None
    if len(_course_ids) >= _COURSE_IDS:
        _course_ids.clear()
    _course_ids[raw] = canonical
    return canonical


def parse_user_id(raw: Any) -> int:
    """Validate a user id: a positive integer, or a string of one."""
    if isinstance(raw, bool):
        raise Rejected("bad_user_id", "user id is a boolean")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw.strip())
    else:
        raise Rejected("bad_user_id", f"not a user id: {str(raw)[:50]!r}")
    if value <= 0:
        raise Rejected("bad_user_id", f"not a user id: {value}")
    return value


def parse_time(raw: Any) -> dt.datetime:
    """An aware UTC datetime from a datetime or an ISO-8601 string (naive means UTC)."""
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str) and raw:
        text = raw.strip().replace("Z", "+00:00")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise Rejected("bad_time", f"not a timestamp: {raw[:40]!r}") from None
    else:
        raise Rejected("bad_time", "event has no timestamp")
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    if value.tzinfo is dt.timezone.utc:
        return value
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is past the last representable UTC time
        raise Rejected("bad_time", f"out of range in UTC: {str(raw)[:40]!r}") from None


def check_time(value: dt.datetime, earliest: dt.datetime, max_ahead: dt.timedelta) -> None:
    """Reject a time outside [``earliest``, now + ``max_ahead``]: no course has events from
    before Open edX, and a clock far ahead (year 9999) would break weekly and daily ranges."""
    if value < earliest:
        raise Rejected("implausible_time", f"{value.isoformat()} is before {earliest.isoformat()}")
    if value <= _latest_seen.get(max_ahead, earliest):
        return  # below a bound computed earlier, so below now's (the clock only moves forward)
    latest = dt.datetime.now(dt.timezone.utc) + max_ahead
    _latest_seen[max_ahead] = latest
    if value > latest:
        raise Rejected("implausible_time", f"{value.isoformat()} is after {latest.isoformat()}")


#: ``max_ahead`` -> the latest upper bound ``check_time`` computed for it (saves reading the clock per event).
_latest_seen: dict[dt.timedelta, dt.datetime] = {}


def number(data: dict[str, Any], *keys: str, required: bool = False) -> float | None:
    """The first of ``keys`` present in ``data`` as a float (numbers in strings allowed)."""
    for key in keys:
        value = data.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            raise Rejected("wrong_type", f"{key} is a boolean")
        try:
            result = float(value)
        except (TypeError, ValueError):
            raise Rejected("wrong_type", f"{key} is not a number: {str(value)[:40]!r}") from None
        if result != result or result in (float("inf"), float("-inf")):
            raise Rejected("wrong_type", f"{key} is not finite")
        return result
    if required:
        raise Rejected("missing_field", f"none of {', '.join(keys)}")
    return None


def decode_json(text: str | bytes) -> Any:
    """Decode JSON with orjson, falling back to Python's json for what orjson refuses (NaN, huge ints).

    JSON nested deeper than the parsers allow is ``Rejected("too_deep")``, never a
    ``RecursionError`` escaping to the caller. Other undecodable text raises ``ValueError``.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except RecursionError:
        raise Rejected("too_deep", "JSON nested deeper than the parser allows") from None


def _payload_key(raw: dict[str, Any]) -> str:
    return "event" if "event_type" in raw and "event" in raw else "data"


def _payload(raw: dict[str, Any], key: str) -> tuple[dict[str, Any], Any]:
    """The event payload as a dict, decoding JSON strings (browser events); keep the raw value."""
    value = raw.get(key)
    if value is None or value == "":
        return {}, value
    if isinstance(value, dict):
        return value, value
    if isinstance(value, str):
        try:
            decoded = decode_json(value)
        except ValueError:
            return {}, value  # e.g. browser problem_check sends a URL-encoded string
        if isinstance(decoded, dict):
            return decoded, value
        return {}, value
    if isinstance(value, list):
        return {}, value
    raise Rejected("wrong_type", f"event payload is a {type(value).__name__}")


def from_raw(raw: Any) -> Envelope:
    """Read one raw event of any accepted shape; raise ``Rejected`` when it is not an event."""
    if not isinstance(raw, dict):
        raise Rejected("not_an_object", f"event is a {type(raw).__name__}")
    if UNREADABLE in raw:
        reason = raw[UNREADABLE]
        raise Rejected(reason if reason in DOOR_REASONS else "unreadable", "the tracking door could not read it")
    name = raw.get("name") or raw.get("event_type")
    if not isinstance(name, str) or not name:
        raise Rejected("no_name", "event has no name or event_type")
    context = raw.get("context") or {}
    if not isinstance(context, dict):
        raise Rejected("wrong_type", "context is not an object")
    data, raw_data = _payload(raw, _payload_key(raw))
    time = parse_time(raw.get("timestamp") or raw.get("time") or context.get("timestamp"))
    event_source = str(raw.get("event_source") or context.get("event_source") or DEFAULT_SOURCE)
    page = raw.get("page") or context.get("page") or ""
    return Envelope(
        name=name,
        time=time,
        data=data,
        context=context,
        event_source=event_source,
        page=page if isinstance(page, str) else "",
        raw_data=raw_data,
    )


# ---------------------------------------------------------------- the allow-list

#: Reasons the tracking door may give in an ``UNREADABLE`` stand-in (anything else reads "unreadable").
DOOR_REASONS = frozenset({"too_deep"})
#: Context fields the normalizer reads (``module`` keeps its usage key only; URLs their course path).
CONTEXT_FIELDS = ("course_id", "user_id", "event_source", "timestamp", "path", "page", "module")
#: Payload fields the normalizer reads: enrollment, grades and certificates; video; problems. A tuple
#: keeps only those keys in each entry of the mapping (per-part problem details).
DATA_FIELDS: dict[str, tuple[str, ...] | None] = {
    "course_id": None, "user_id": None, "mode": None, "enrollment_mode": None, "is_active": None,
    "percent_grade": None, "passed_timestamp": None, "is_passing": None, "current_status": None,
    "id": None, "module_id": None, "currentTime": None, "current_time": None, "old_time": None,
    "new_time": None, "duration": None,
    "problem_id": None, "grade": None, "success": None, "attempts": None, "answers": None,
    "submission": ("answer", "correct", "variant"), "correct_map": ("correctness",),
}
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
    payload = raw.get(_payload_key(raw))
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
