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

CHUNK = 900


class IdsMerged(Exception):
    """The database holds block ids it compares as equal (MySQL's collations ignore case): ``Vid`` and ``vid``.

    They sort together and are one block to a query naming either; a course-wide rebuild
    that groups rows by exact id raises this, and its engine falls back to rebuilding one
    block at a time, the reference behaviour.
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
