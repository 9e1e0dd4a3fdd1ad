"""Write an engine's result: make a scope's aggregate rows equal what was computed, touching only rows that differ.

An incremental recompute changes a handful of rows (today's enrollment, the segments a
viewer touched, the answers a learner changed); a whole rebuild may change them all.
One routine serves both, so the write costs what changed, not what the scope holds.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db import models, transaction
from django.db.models import Q

from openedx_analytics.db.bulk import insert_ignore

CHUNK = 900
#: Rows inserted at a time when a rebuild streams them (``insert_in_chunks``).
WRITE_CHUNK = 5000


class IdsMerged(Exception):
    """The database holds block ids it compares as equal (MySQL's case-insensitive collations): ``Vid`` and ``vid``.

    They sort together and are one block to a query naming either; a course-wide rebuild
    that groups rows by exact id raises this, and its engine falls back to rebuilding one
    block at a time, the reference behaviour. Since migration 0008 our id columns are
    ``utf8mb4_bin`` on MySQL/MariaDB (``models.fields.CaseSensitiveCharField``), so case no
    longer merges ids and this should not be raised there. It is kept for what binary
    collations still merge: ``utf8mb4_bin`` pads, so ``vid`` equals ``vid `` (the pipeline
    strips and validates block ids, so none should arrive), and for a database whose
    columns an operator gave another collation.
    """


def rebuild_course(course_wide: Callable[[], None], block_ids: Callable[[], Iterable[str]],
                   rebuild_block: Callable[[str], None], using: str) -> None:
    """Rebuild every block of a course with ``course_wide`` (a few queries), or, when it raises ``IdsMerged``,
    with ``rebuild_block`` on each of ``block_ids()``: slower, but right whatever the collation.

    The course-wide attempt runs in a savepoint, so the fallback starts from what was stored.
    """
    try:
        with transaction.atomic(using=using):
            course_wide()
    except IdsMerged:
        for block_id in block_ids():
            rebuild_block(block_id)


def blocks_in_order(pairs: Iterable[tuple[tuple[str, int], Any]],
                    known: Iterable[str]) -> Iterator[tuple[str, int, Any]]:
    """(block, learner, contribution) of ``pairs`` read block after block, each block once, all of them ``known``.

    A course-wide read ordered by block id meets a block twice, or one ``known`` (the
    database's own distinct list) lacks, only when the database compares two ids as equal
    (see ``IdsMerged``): that raises ``IdsMerged``, and the engine rebuilds one block at a
    time instead (``rebuild_course``).
    """
    known_ids = set(known)
    seen: set[str] = set()
    current = None
    for (block, user_id), contribution in pairs:
        if block != current:
            if block not in known_ids or block in seen:
                raise IdsMerged(block)
            seen.add(block)
            current = block
        yield block, user_id, contribution


def replace_block_learners(model: type[models.Model], block_field: str, columns: Sequence[str], course_id: str,
                           ids: Sequence[str], pairs: Iterable[tuple[tuple[str, int], Any]],
                           new_tally: Callable[[], Any], values: Callable[[Any], tuple], using: str
                           ) -> dict[str, Any]:
    """Replace the per-learner rows of the blocks ``ids`` from ``pairs`` and return each block's tally.

    The shared half of a block engine's rebuild (problems, videos): the blocks' stored learner
    rows are deleted, then ``pairs`` (``contributions`` of the facts, block after block, see
    ``blocks_in_order``) are streamed into new rows ``(course_id, block, user_id, *values(c))``
    while each contribution is added to its block's tally (``new_tally()``, with ``add``). The
    engine writes its figures from the tallies returned.
    """
    for chunk in chunks(sorted(ids)):
        model.objects.using(using).filter(course_id=course_id, **{f"{block_field}__in": chunk}).delete()
    tallies = {block_id: new_tally() for block_id in ids}

    def learner_rows() -> Iterator[tuple]:
        for block_id, user_id, contribution in blocks_in_order(pairs, ids):
            tallies[block_id].add(contribution)
            yield (course_id, block_id, user_id, *values(contribution))

    insert_in_chunks(model, columns, learner_rows(), using)
    return tallies

#: Values named in one query of ``pair_filters`` (keeps its parameters under every database's limit).
PAIRS_PER_QUERY = 800


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """``items`` in slices of ``size`` (keeps ``IN (...)`` lists under every database's limits)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def pair_filters(block_field: str, value_field: str, values_by_block: Mapping[str, Iterable[Any]],
                 size: int = PAIRS_PER_QUERY) -> Iterator[tuple[Q, dict[str, list[Any]]]]:
    """Filters matching exactly the (block, value) pairs of ``values_by_block``, a few hundred values each.

    Yields each filter with the part of ``values_by_block`` it covers, so an engine reads or
    rewrites the rows of many videos or problems (and of the learners or answers changed in
    each) in a few queries instead of a few per block.
    """
    condition, covered, count = Q(), {}, 0
    for block, values in sorted(values_by_block.items()):
        for part in chunks(sorted(values), size):
            condition |= Q(**{block_field: block, f"{value_field}__in": list(part)})
            covered.setdefault(block, []).extend(part)
            count += len(part)
            if count >= size:
                yield condition, covered
                condition, covered, count = Q(), {}, 0
    if count:
        yield condition, covered


def block_filters(block_field: str, value_field: str, values_by_block: Mapping[str, Iterable[Any] | None],
                  ) -> Iterator[tuple[Q, dict[str, list[Any] | None]]]:
    """Filters matching the rows of ``values_by_block``: a block mapped to None whole, another only the rows
    with its values (``pair_filters``), with the part of ``values_by_block`` each filter covers.

    So one routine rewrites whole blocks (a rebuild) and the few rows of many blocks an
    incremental update changed, in a few queries either way.
    """
    whole = sorted(block for block, values in values_by_block.items() if values is None)
    for ids in chunks(whole):
        yield Q(**{f"{block_field}__in": list(ids)}), dict.fromkeys(ids)
    partial = {block: values for block, values in values_by_block.items() if values is not None}
    yield from pair_filters(block_field, value_field, partial)


def insert_in_chunks(model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple], using: str,
                     size: int = WRITE_CHUNK) -> None:
    """Insert ``rows`` (new rows, none of them stored) ``size`` at a time, so a rebuilt course's rows never
    sit in memory at once."""
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            insert_ignore(model, columns, chunk, using, ignore_conflicts=False)
            chunk = []
    insert_ignore(model, columns, chunk, using, ignore_conflicts=False)


def sync_rows(model: type[models.Model], scope: Mapping[str, Any], key_fields: Sequence[str],
              value_fields: Sequence[str], wanted: Mapping[tuple, tuple], using: str,
              *, within: Mapping[str, Any] | None = None, condition: Q | None = None) -> int:
    """Make ``model``'s rows of ``scope`` (narrowed by the ``within`` filters and ``condition``) equal ``wanted``.

    ``wanted`` maps each row's key (``key_fields`` values) to its ``value_fields`` values.
    Rows that differ or are extra are deleted by id; missing and changed rows are inserted.
    Returns how many rows were written or deleted.
    """
    queryset = model.objects.using(using).filter(**scope, **(within or {}))
    if condition is not None:
        queryset = queryset.filter(condition)
    width = len(key_fields)
    existing: dict[tuple, tuple[int, tuple]] = {}
    for row in queryset.values_list("pk", *key_fields, *value_fields).iterator(chunk_size=5000):
        existing[tuple(row[1:1 + width])] = (row[0], tuple(row[1 + width:]))
    stale = [pk for key, (pk, values) in existing.items() if wanted.get(key) != values]
    fresh = [key for key, values in wanted.items() if key not in existing or existing[key][1] != values]
    for ids in chunks(sorted(stale)):
        model.objects.using(using).filter(pk__in=ids).delete()
    model.objects.using(using).bulk_create(
        [
            model(**scope, **dict(zip(key_fields, key, strict=True)),
                  **dict(zip(value_fields, wanted[key], strict=True)))
            for key in fresh
        ],
        batch_size=1000,
    )
    return len(stale) + len(fresh)
