"""SQL literals for MySQL/MariaDB multi-row inserts, built a row at a time instead of a value at a time.

mysqlclient's ``executemany`` turns every value into a literal through a generic, per-value
dispatch and then formats each row into the statement with ``%``: for the millions of
fact rows of a backfill that is most of the client's time. Here each value type is
turned into its literal by the same rules mysqlclient applies (strings through the
connection's own C escaping, which knows the character set and the server's SQL mode;
floats as ``repr`` with an exponent; booleans as 1/0), repeated strings (course, video
and problem ids, modes, actions) are escaped once, and whole rows are joined in one go.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

#: Distinct strings whose escaped form is remembered (ids repeat; past this the memory is cleared).
CACHE_SIZE = 20_000
#: Largest statement built, in bytes (well below MariaDB's default ``max_allowed_packet`` of 16 MiB).
MAX_STATEMENT_BYTES = 4 * 1024 * 1024


class LiteralBuilder:
    """Turns rows of plain values (str, int, float, bool, None, naive datetime) into SQL ``(…)`` groups.

    ``database`` is the raw MySQLdb connection (``connection.connection`` in Django):
    its ``string_literal`` escapes exactly as a parameterised query would.
    """

    def __init__(self, database: Any) -> None:
        self.database = database
        self._escape = database.string_literal
        self._encoding = database.encoding
        self._fallback = database.literal
        self._strings: dict[str, bytes] = {}

    def string(self, value: str) -> bytes:
        """The quoted, escaped literal of ``value`` (remembered: ids repeat row after row)."""
        literal = self._strings.get(value)
        if literal is None:
            if len(self._strings) >= CACHE_SIZE:
                self._strings.clear()
            literal = self._strings[value] = self._escape(value.encode(self._encoding))
        return literal

    def value(self, value: Any) -> bytes:
        """The literal of one value, by mysqlclient's rules for its type."""
        kind = type(value)
        if kind is str:
            return self.string(value)
        if value is None:
            return b"NULL"
        if kind is int:
            return b"%d" % value
        if kind is bool:
            return b"1" if value else b"0"
        if kind is float:
            text = repr(value)
            if text in ("inf", "-inf", "nan"):
                raise ValueError(f"{text} cannot be stored in MySQL")
            return (text if "e" in text else text + "e0").encode()
        if kind is dt.datetime and value.tzinfo is None:
            return b"'%s'" % str(value).encode()
        return self._fallback(value)

    def row(self, values: Sequence[Any]) -> bytes:
        """``(v1,v2,…)`` for one row."""
        literal = self.value
        return b"(" + b",".join([literal(value) for value in values]) + b")"


def statements(prefix: bytes, suffix: bytes, groups: Iterable[bytes], max_rows: int) -> Iterator[bytes]:
    """Multi-row statements ``prefix group,group,… suffix`` of at most ``max_rows`` rows and
    ``MAX_STATEMENT_BYTES`` bytes each (a single larger row still gets a statement of its own)."""
    batch: list[bytes] = []
    size = len(prefix) + len(suffix)
    for group in groups:
        if batch and (len(batch) >= max_rows or size + len(group) + 1 > MAX_STATEMENT_BYTES):
            yield prefix + b",".join(batch) + suffix
            batch, size = [], len(prefix) + len(suffix)
        batch.append(group)
        size += len(group) + 1
    if batch:
        yield prefix + b",".join(batch) + suffix
