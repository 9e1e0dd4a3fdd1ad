"""The one shape of a metric engine, and the tables it owns as ``verify_analytics`` reads them.

Every engine turns one kind of fact into the aggregates we serve in the same steps:

- ``load(course_id, using)``: the facts of a scope (the course; the incremental paths
  read narrower scopes, such as the learners a marker names);
- ``contributions(facts)``: pure; what each learner's facts add, as (key, contribution)
  pairs, the key naming the learner (and the block or week, where the engine has them);
- ``tally(contributions)``: pure; the sums of those contributions;
- ``compute(tally)``: pure, no database; the figures a tally gives;
- ``write(course_id, tally, now, using)``: stores the figures (and the tally itself where
  the live recomputes adjust it), touching only rows that differ.

Beside the steps each engine has ``KIND`` (the ``DirtyScope`` kind whose markers it
recomputes), ``TABLES`` (every table it owns: aggregates, running tallies, and the
per-learner rows its live recomputes subtract from before adding a learner's new
contribution), ``recompute(course_id, keys, now, using)`` (what the drain calls with the
keys of the kind's markers) and ``expected(course_id, using)``: what a whole rebuild
would store in each of its tables, computed in memory with the steps above and nothing
written. ``verify_analytics`` compares that with the stored rows, table by table, so no
rule is implemented twice and no table an engine owns goes unchecked.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import models
from django.db.models import Q

from openedx_analytics.metrics.store import CHUNK

#: table label -> the table's entries (``Table.entries``)
Rows = dict[str, dict[Any, Any]]


@dataclass(frozen=True)
class Table:
    """One table an engine owns, read as entries a comparison can name: ``key -> values``.

    The key is the ``key_fields`` values (one value alone when there is one field), the
    values those of ``value_fields`` (likewise). A summary table (``per_field``) gives one
    entry per column instead, keyed by the row's key and the column's name, so a
    difference names the one number that is wrong.
    """

    label: str
    model: type[models.Model]
    key_fields: tuple[str, ...]
    value_fields: tuple[str, ...]
    per_field: bool = False

    def entries(self, key: tuple, values: tuple) -> dict[Any, Any]:
        """The entries of one row (its ``key_fields`` values and its ``value_fields`` values)."""
        if self.per_field:
            return {(*key, name) if key else name: value
                    for name, value in zip(self.value_fields, values, strict=True)}
        return {key[0] if len(key) == 1 else tuple(key): values[0] if len(values) == 1 else tuple(values)}

    def stored(self, course_id: str, using: str, where: Q | None = None) -> dict[Any, Any]:
        """The entries of the course's stored rows (those ``where`` selects, if given)."""
        rows = self.model.objects.using(using).filter(course_id=course_id)
        if where is not None:
            rows = rows.filter(where)
        width = len(self.key_fields)
        found: dict[Any, Any] = {}
        for row in rows.values_list(*self.key_fields, *self.value_fields).order_by().iterator(chunk_size=5000):
            found.update(self.entries(row[:width], row[width:]))
        return found


@dataclass
class Expected:
    """What a whole rebuild would store in ``tables``, for the course's rows ``where`` selects (all: None).

    An engine with many blocks gives its expected rows a few blocks at a time (``where``
    names those blocks), then an empty part for the rows of blocks without facts, so a
    large course is never held in memory at once; together an engine's parts cover every
    stored row of every table it owns.
    """

    tables: tuple[Table, ...]
    where: Q | None = None
    rows: Rows = field(init=False)

    def __post_init__(self) -> None:
        self.rows = {table.label: {} for table in self.tables}

    def add(self, table: Table, key: tuple, values: tuple) -> None:
        """Add one row of ``table`` as a rebuild would store it."""
        self.rows[table.label].update(table.entries(key, values))


class Engine(Protocol):
    """A metric engine: what the drain schedules and ``verify_analytics`` checks (see the module's docstring).

    The engine modules (``enrollment``, ``activity``, ``grades``, ``problems``, ``video``)
    implement it; each step may take arguments of its own beside those named here.
    """

    KIND: str
    TABLES: tuple[Table, ...]

    def load(self, course_id: str, using: str) -> Iterable[Any]:
        """The facts of the course, in the order ``contributions`` reads them."""

    def contributions(self, facts: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """What each learner's facts add: (key, contribution) pairs. Pure."""

    def tally(self, contributions: Iterable[tuple[Any, Any]]) -> Any:
        """The sums of ``contributions``. Pure."""

    def compute(self, tally: Any) -> Any:
        """The figures of a tally. Pure, no database."""

    def write(self, course_id: str, tally: Any, now: dt.datetime, using: str) -> None:
        """Store a tally's figures, touching only rows that differ."""

    def recompute(self, course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
        """Bring the aggregates of the course up to date for the keys of the kind's dirty markers."""

    def expected(self, course_id: str, using: str) -> Iterable[Expected]:
        """What a whole rebuild would store in each of ``TABLES``, from the course's facts; writes nothing."""


#: Entries an engine's expected part gathers before ``verify_analytics`` compares them (bounds its memory).
PART_ENTRIES = 50_000


def parts_by_block(tables: tuple[Table, ...], block_field: str, block_ids: Sequence[str],
                   add_block: Callable[[Expected, str], None]) -> Iterator[Expected]:
    """The expected parts of an engine with blocks (problems, videos): a few blocks' rows at a time, then the
    rows of blocks without facts, which no fact supports (expected: none).

    ``add_block(part, block_id)`` adds what a rebuild stores for one block; a part is given
    once it holds ``PART_ENTRIES`` entries or ``CHUNK`` blocks.
    """
    part, blocks = Expected(tables), []
    for block_id in block_ids:
        add_block(part, block_id)
        blocks.append(block_id)
        if len(blocks) >= CHUNK or sum(map(len, part.rows.values())) >= PART_ENTRIES:
            part.where = Q(**{f"{block_field}__in": blocks})
            yield part
            part, blocks = Expected(tables), []
    if blocks:
        part.where = Q(**{f"{block_field}__in": blocks})
        yield part
    yield Expected(tables, where=~Q(**{f"{block_field}__in": list(block_ids)}) if block_ids else None)


def stored_rows(engine: Engine, course_id: str, using: str) -> Rows:
    """Every stored entry of the engine's tables for a course (all of it in memory: for tests and small courses)."""
    return {table.label: table.stored(course_id, using) for table in engine.TABLES}

