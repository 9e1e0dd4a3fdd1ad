"""Read any raw event shape Open edX produces into one ``Envelope``.

Shapes accepted: event-tracking's in-process dict (``name``/``timestamp``/``data``/
``context``), a tracking-log line (``event_type``/``event``/``time``/``context``, the
``event`` possibly a JSON string as browser events send it), and our own serialized
openedx-events signals (``name``/``time``/``data``). Field access that can fail raises
``Rejected`` with a reason operators can count.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import orjson
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey


class Rejected(Exception):
    """An event we cannot count, with a short machine-readable ``reason`` and a human ``detail``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def day(self) -> dt.date:
        """The UTC day the event happened on."""
        return self.time.date()

    def course_id(self, *, required: bool = True) -> str | None:
        """The event's course id, from the context, the payload or the page/path URL; validated."""
        raw = self.context.get("course_id") or self.data.get("course_id") or None
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
        """The acting learner's LMS user id (context ``user_id``; payload first when ``from_data``)."""
        first, second = (self.data, self.context) if from_data else (self.context, self.data)
        raw = first.get("user_id")
        if raw is None or raw == "":
            raw = second.get("user_id")
        if raw is None or raw == "":
            raise Rejected("no_user", "event has no user id")
        return parse_user_id(raw)


@lru_cache(maxsize=8192)
def _canonical_course_id(text: str) -> str:
    """Parsing a course key is slow and a site has few courses: remember the answers."""
    return str(CourseKey.from_string(text))


def parse_course_id(raw: Any) -> str:
    """Validate a course id string (new or old ``Org/Num/Run`` form); return its canonical text."""
    if not isinstance(raw, str):
        raise Rejected("bad_course_id", f"course id is a {type(raw).__name__}")
    try:
        return _canonical_course_id(raw.strip())
    except InvalidKeyError:
        raise Rejected("bad_course_id", f"not a course key: {raw[:100]!r}") from None


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
    return value.astimezone(dt.timezone.utc)


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


def _payload(raw: dict[str, Any], key: str) -> tuple[dict[str, Any], Any]:
    """The event payload as a dict, decoding JSON strings (browser events); keep the raw value."""
    value = raw.get(key)
    if value is None or value == "":
        return {}, value
    if isinstance(value, dict):
        return value, value
    if isinstance(value, str):
        try:
            decoded = orjson.loads(value)
        except orjson.JSONDecodeError:
            try:
                decoded = json.loads(value)  # what orjson refuses but Python's json reads (NaN, huge ints)
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
    name = raw.get("name") or raw.get("event_type")
    if not isinstance(name, str) or not name:
        raise Rejected("no_name", "event has no name or event_type")
    context = raw.get("context") or {}
    if not isinstance(context, dict):
        raise Rejected("wrong_type", "context is not an object")
    if "event_type" in raw and "event" in raw:
        data, raw_data = _payload(raw, "event")
    else:
        data, raw_data = _payload(raw, "data")
    time = parse_time(raw.get("timestamp") or raw.get("time") or context.get("timestamp"))
    event_source = str(raw.get("event_source") or context.get("event_source") or "")
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
