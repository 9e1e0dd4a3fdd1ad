"""The one way an event's payload is read: only the fields its registration allows.

Each accepted event name lists the payload fields its normalizer needs (``pipeline/events``);
the doors keep the union of those lists and nothing else (``pipeline/redaction``). ``Payload``
holds each normalizer to its own list: asking for any other field raises ``UnlistedField``,
a programming error the tests catch, so what the doors keep cannot fall behind what the
normalizers read, and no normalizer reads a field nobody decided it may read.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from openedx_analytics.pipeline.rejected import Rejected

#: An allow-list: field name -> the keys read in each entry of a mapping field (None: the value as it is).
FieldList = Mapping[str, tuple[str, ...] | None]

#: Fields any event may carry: the envelope reads them to name the course and the learner (server events).
IDENTITY_FIELDS: FieldList = {"course_id": None, "user_id": None}


@dataclass(frozen=True, slots=True)
class Entries:
    """A payload field mapping part ids to objects, of which only ``keys`` are read (a problem's parts)."""

    name: str
    keys: tuple[str, ...]


def field_list(*fields: str | Entries) -> dict[str, tuple[str, ...] | None]:
    """The allow-list of one registration: the identity fields, then ``fields`` in the order given."""
    allowed: dict[str, tuple[str, ...] | None] = dict(IDENTITY_FIELDS)
    for field in fields:
        name, keys = (field.name, field.keys) if isinstance(field, Entries) else (field, None)
        if name in allowed:
            raise ValueError(f"payload field {name!r} is listed twice")
        allowed[name] = keys
    return allowed


class UnlistedField(LookupError):
    """A normalizer asked for a payload field (or entry key) its registration does not allow: a bug."""


def _number(data: Mapping[str, Any], keys: tuple[str, ...], required: bool) -> float | None:
    """The first of ``keys`` present in ``data`` as a float (numbers in strings allowed)."""
    for key in keys:
        value = data.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            raise Rejected("wrong_type", f"{key} is a boolean", f"data.{key}")
        try:
            result = float(value)
        except (TypeError, ValueError):
            raise Rejected("wrong_type", f"{key} is not a number: {str(value)[:40]!r}", f"data.{key}") from None
        if result != result or result in (float("inf"), float("-inf")):
            raise Rejected("wrong_type", f"{key} is not finite", f"data.{key}")
        return result
    if required:
        raise Rejected("missing_field", f"none of {', '.join(keys)}", f"data.{keys[0]}")
    return None


class Payload:
    """An event's payload as its normalizer may read it: the fields of ``fields``, nothing else."""

    __slots__ = ("_data", "_fields")

    def __init__(self, data: dict[str, Any], fields: FieldList = IDENTITY_FIELDS) -> None:
        self._data = data
        self._fields = fields

    def allowing(self, fields: FieldList) -> Payload:
        """The same payload read under another allow-list (the one of the event's registration)."""
        return Payload(self._data, fields)

    def _allow(self, name: str, *, entries: bool = False) -> None:
        if name not in self._fields:
            raise UnlistedField(f"payload field {name!r} is not in this event's allow-list")
        if (self._fields[name] is not None) != entries:
            how = "entries()" if self._fields[name] is not None else "get() or mapping()"
            raise UnlistedField(f"payload field {name!r} is read through {how}")

    @property
    def is_empty(self) -> bool:
        """Whether the payload carries none of the allowed fields (a browser's URL-encoded form reads as none)."""
        return not any(name in self._data for name in self._fields)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of the allowed field ``name``, or ``default`` when absent."""
        self._allow(name)
        return self._data.get(name, default)

    def mapping(self, name: str) -> dict[str, Any]:
        """The allowed field ``name`` when it is an object, else an empty one."""
        value = self.get(name)
        return value if isinstance(value, dict) else {}

    def number(self, *names: str, required: bool = False) -> float | None:
        """The first of the allowed fields ``names`` present, as a float; ``Rejected`` when not a number
        (or, when ``required``, when none is present)."""
        for name in names:
            self._allow(name)
        return _number(self._data, names, required)

    def entries(self, name: str) -> Parts:
        """The allowed mapping field ``name`` (declared as ``Entries``), read part by part."""
        self._allow(name, entries=True)
        value = self._data.get(name)
        return Parts(name, value if isinstance(value, dict) else {}, self._fields[name] or ())


class Parts:
    """The entries of one ``Entries`` field: their part ids, and each entry through its allowed keys."""

    __slots__ = ("_field", "_value", "_keys")

    def __init__(self, field: str, value: dict[str, Any], keys: tuple[str, ...]) -> None:
        self._field = field
        self._value = value
        self._keys = keys

    def __iter__(self) -> Iterator[str]:
        """The part ids, in the payload's order."""
        return iter(self._value)

    def part(self, part_id: str) -> Part:
        """The entry of ``part_id`` (an empty one when absent or not an object)."""
        entry = self._value.get(part_id)
        return Part(self._field, entry if isinstance(entry, dict) else {}, self._keys)


class Part:
    """One entry of an ``Entries`` field, of which only the allowed keys may be read."""

    __slots__ = ("_field", "_entry", "_keys")

    def __init__(self, field: str, entry: dict[str, Any], keys: tuple[str, ...]) -> None:
        self._field = field
        self._entry = entry
        self._keys = keys

    def get(self, key: str, default: Any = None) -> Any:
        """The value of the allowed key ``key`` of this entry, or ``default`` when absent."""
        if key not in self._keys:
            raise UnlistedField(f"key {key!r} of {self._field!r} entries is not in this event's allow-list")
        return self._entry.get(key, default)
