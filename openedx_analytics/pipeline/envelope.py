"""Read any raw event shape Open edX produces into one ``Envelope``.

Shapes accepted: event-tracking's in-process dict (``name``/``timestamp``/``data``/
``context``), a tracking-log line (``event_type``/``event``/``time``/``context``, the
``event`` possibly a JSON string as browser events send it), and our own serialized
openedx-events signals (``name``/``time``/``data``). Field access that can fail raises
``Rejected`` with a reason operators can count.

One rule against forgery lives here, because every door goes through it:
``Envelope.from_server``: only events the server wrote (server, task, signal and LMS-table
sources) may name a learner or course in their payload; a browser or mobile payload is
written by whoever holds the tab, so its learner is the authenticated one in the context.
The payload itself is read only through ``Envelope.payload`` (``pipeline/payload``), under
the allow-list of the event's registration; what the doors keep is ``pipeline/redaction``.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import orjson
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from openedx_analytics.pipeline.payload import FieldList, Payload
from openedx_analytics.pipeline.records import column_length
from openedx_analytics.pipeline.rejected import Rejected

#: Sources whose events the server wrote: they may assert enrollment, grade and certificate facts.
SERVER_SOURCES = frozenset({"server", "task", "signal", "lms_table"})
#: Sources whose payload a learner's device wrote: they speak only for that learner's activity and video.
CLIENT_SOURCES = frozenset({"browser", "mobile"})
#: Source of an event another system sent through the ingest gateway (``api.gateway``): a server wrote
#: it, but not the LMS, so which names it may assert is the sender's grants' (``registry.registration_for``).
SERVICE_SOURCE = "service"
#: Sources whose payload a server wrote, so it may name the learner and course it is about.
WRITTEN_BY_SERVERS = SERVER_SOURCES | {SERVICE_SOURCE}
#: ``event_source`` of an event that names none (the LMS's in-process server events).
DEFAULT_SOURCE = "server"
#: Deepest nesting of a payload value the doors take (the normalizer needs four levels at most).
MAX_PAYLOAD_DEPTH = 32
#: Key of the stand-in the tracking door forwards for an event it could not read (the reason as value).
UNREADABLE = "unreadable_at_door"
#: Reasons the tracking door may give in an ``UNREADABLE`` stand-in (anything else reads "unreadable").
DOOR_REASONS = frozenset({"too_deep"})

_COURSE_IN_URL = re.compile(r"/courses/(course-v1:[^/?#]+|[^/?#]+/[^/?#]+/[^/?#]+)(?:[/?#]|$)")


@dataclass(slots=True)
class Envelope:
    """One event, whatever door it came through, with the fields every normalizer needs.

    ``payload`` reads the course and learner fields only, until ``allow`` opens the fields
    of the event's registration to its normalizer.
    """

    name: str
    time: dt.datetime
    payload: Payload
    context: dict[str, Any]
    event_source: str = ""
    page: str = ""

    def allow(self, fields: FieldList) -> None:
        """Let the payload be read under ``fields`` (the allow-list of the event's registration)."""
        self.payload = self.payload.allowing(fields)

    @property
    def from_server(self) -> bool:
        """Whether the server wrote the event (so its payload may name the learner and course)."""
        return self.event_source in WRITTEN_BY_SERVERS

    @property
    def day(self) -> dt.date:
        """The UTC day the event happened on."""
        return self.time.date()

    def course_id(self, *, required: bool = True) -> str | None:
        """The event's course id, from the context, the payload (server events) or the page/path URL; validated."""
        raw = self.context.get("course_id")
        field = "context.course_id"
        if not raw and self.from_server:
            raw, field = self.payload.get("course_id"), "data.course_id"
        raw = raw or None
        if raw is None:
            field = "context.course_id"
            for url in (self.page, self.context.get("path"), self.name):
                if isinstance(url, str) and "/courses/" in url:
                    match = _COURSE_IN_URL.search(unquote(url))
                    if match:
                        raw = match.group(1)
                        break
        if raw is None:
            if required:
                raise Rejected("no_course_id", "no course id in context, payload or URL", field)
            return None
        try:
            return parse_course_id(raw)
        except Rejected as rejection:
            rejection.field = rejection.field or field
            raise

    def user_id(self, *, from_data: bool = False) -> int:
        """The learner's LMS user id: context ``user_id``, payload first when ``from_data``.

        Only server-written events may name a learner in their payload; a browser or mobile
        event is always the authenticated learner's (context ``user_id``), whatever it says.
        """
        if not self.from_server:
            holders: tuple[dict[str, Any] | Payload, ...] = (self.context,)
        else:
            holders = (self.payload, self.context) if from_data else (self.context, self.payload)
        raw = None
        holder: dict[str, Any] | Payload = self.context
        for holder in holders:
            raw = holder.get("user_id")
            if raw is not None and raw != "":
                break
        if raw is None or raw == "":
            raise Rejected("no_user", "event has no user id", "context.user_id")
        try:
            return parse_user_id(raw)
        except Rejected as rejection:
            rejection.field = "context.user_id" if holder is self.context else "data.user_id"
            raise


class IdMemo:
    """Answers about ids (their canonical text), remembered up to a number of characters, not of entries.

    Every event of a course or video asks the same question again, so the answers are kept;
    a bound in characters (keys and answers counted) keeps a few huge ids from holding
    megabytes, and the ids are held to their column's length before they get here. Past
    the bound it starts over.
    """

    __slots__ = ("_answers", "_characters", "max_characters")

    def __init__(self, max_characters: int) -> None:
        self._answers: dict[Any, str] = {}
        self._characters = 0
        self.max_characters = max_characters

    def get(self, key: Any) -> str | None:
        """The remembered answer for ``key``, or None."""
        return self._answers.get(key)

    def put(self, key: Any, answer: str, characters: int) -> None:
        """Remember ``answer`` for ``key``, which costs ``characters`` (its key's and answer's lengths)."""
        if self._characters + characters > self.max_characters:
            self.clear()
        self._answers[key] = answer
        self._characters += characters

    @property
    def characters(self) -> int:
        """How many characters the remembered keys and answers hold."""
        return self._characters

    def clear(self) -> None:
        """Forget every answer."""
        self._answers.clear()
        self._characters = 0


@lru_cache(maxsize=8192)
def _canonical_course_id(text: str) -> str:
    """Parsing a course key is slow and a site has few courses: remember the answers."""
    return str(CourseKey.from_string(text))


#: Course id texts ``parse_course_id`` remembers, in characters (a site has few courses: about 8,000
#: of the usual length, a few thousand at the column's length).
COURSE_ID_MEMO = IdMemo(max_characters=1_000_000)


def parse_course_id(raw: Any) -> str:
    """Validate a course id string (new or old ``Org/Num/Run`` form); return its canonical text.

    One longer than the course id column is refused (``too_long``) before anything is
    remembered or parsed: it could never be stored, and it must not fill the memo.
    """
    if type(raw) is str:
        known = COURSE_ID_MEMO.get(raw)  # every event of a course asks again
        if known is not None:
            return known
    if not isinstance(raw, str):
        raise Rejected("bad_course_id", f"course id is a {type(raw).__name__}")
    if len(raw) > column_length("ActivityFact", "course_id"):
        raise Rejected("too_long", f"course id has {len(raw)} characters")
    try:
        canonical = _canonical_course_id(raw.strip())
    except InvalidKeyError:
        raise Rejected("bad_course_id", f"not a course key: {raw[:100]!r}") from None
    COURSE_ID_MEMO.put(raw, canonical, len(raw) + len(canonical))
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
            raise Rejected("bad_time", f"not a timestamp: {raw[:40]!r}", "time") from None
    else:
        raise Rejected("bad_time", "event has no timestamp", "time")
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    if value.tzinfo is dt.timezone.utc:
        return value
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is past the last representable UTC time
        raise Rejected("bad_time", f"out of range in UTC: {str(raw)[:40]!r}", "time") from None


def check_time(value: dt.datetime, earliest: dt.datetime, max_ahead: dt.timedelta) -> None:
    """Reject a time outside [``earliest``, now + ``max_ahead``]: no course has events from
    before Open edX, and a clock far ahead (year 9999) would break weekly and daily ranges."""
    if value < earliest:
        raise Rejected("implausible_time", f"{value.isoformat()} is before {earliest.isoformat()}", "time")
    if value <= _latest_seen.get(max_ahead, earliest):
        return  # below a bound computed earlier, so below now's (the clock only moves forward)
    latest = dt.datetime.now(dt.timezone.utc) + max_ahead
    _latest_seen[max_ahead] = latest
    if value > latest:
        raise Rejected("implausible_time", f"{value.isoformat()} is after {latest.isoformat()}", "time")


#: ``max_ahead`` -> the latest upper bound ``check_time`` computed for it (saves reading the clock per event).
_latest_seen: dict[dt.timedelta, dt.datetime] = {}


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


def payload_key(raw: dict[str, Any]) -> str:
    """Where ``raw`` holds its payload: ``event`` in a tracking-log line, ``data`` otherwise."""
    return "event" if "event_type" in raw and "event" in raw else "data"


def _payload(raw: dict[str, Any], key: str) -> dict[str, Any]:
    """The event payload as a dict, decoding JSON strings (browser events)."""
    value = raw.get(key)
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = decode_json(value)
        except ValueError:
            return {}  # e.g. browser problem_check sends a URL-encoded string
        return decoded if isinstance(decoded, dict) else {}
    if isinstance(value, list):
        return {}
    raise Rejected("wrong_type", f"event payload is a {type(value).__name__}", "data")


def from_raw(raw: Any) -> Envelope:
    """Read one raw event of any accepted shape; raise ``Rejected`` when it is not an event."""
    if not isinstance(raw, dict):
        raise Rejected("not_an_object", f"event is a {type(raw).__name__}")
    if UNREADABLE in raw:
        reason = raw[UNREADABLE]
        raise Rejected(reason if reason in DOOR_REASONS else "unreadable", "the tracking door could not read it")
    name = raw.get("name") or raw.get("event_type")
    if not isinstance(name, str) or not name:
        raise Rejected("no_name", "event has no name or event_type", "name")
    context = raw.get("context") or {}
    if not isinstance(context, dict):
        raise Rejected("wrong_type", "context is not an object", "context")
    data = _payload(raw, payload_key(raw))
    time = parse_time(raw.get("timestamp") or raw.get("time") or context.get("timestamp"))
    event_source = str(raw.get("event_source") or context.get("event_source") or DEFAULT_SOURCE)
    page = raw.get("page") or context.get("page") or ""
    return Envelope(
        name=name,
        time=time,
        payload=Payload(data),
        context=context,
        event_source=event_source,
        page=page if isinstance(page, str) else "",
    )
