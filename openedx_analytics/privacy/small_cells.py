"""Small-cell suppression: a count of fewer than ``OPENEDX_ANALYTICS_MIN_CELL_SIZE`` learners is never shown,
nor anything it could be worked out from.

A breakdown is a set of cells (its categories and its "unknown") adding up to a total that
is shown (the enrolled learners, also on the enrollment panel). A cell of 1 to ``minimum``-1
learners is hidden as *small*; the total minus the cells shown would then give it back, so
further cells, smallest first, are hidden as *complements* until the hidden cells' sum
(known from the total) pins none of them: who reads the page knows a small cell holds 1 to
``minimum``-1, a complement ``minimum`` up to the smallest count still shown (complements are
taken smallest first, ties by key), and a hidden
cell is pinned exactly when the sum is the least or the most those bounds allow, when its
bounds are one value, or when it is hidden alone. When no choice of complements is safe,
or the total is under ``minimum`` per cell (then every cell could be small, and whether a
safe choice exists would itself tell something), the whole breakdown is hidden. Empty
cells (0) are shown: they reveal nobody.
"""
from __future__ import annotations

from collections.abc import Hashable, Mapping

from openedx_analytics import conf

#: How a hidden cell is marked: under the minimum itself, or hidden to protect another cell.
SMALL = "small"
COMPLEMENT = "complement"
#: Every cell hidden (no set of complements protects the small ones).
ALL = "all"


def minimum_cell_size() -> int:
    """``OPENEDX_ANALYTICS_MIN_CELL_SIZE`` (at least 1: 1 hides nothing)."""
    return max(1, int(conf.get("OPENEDX_ANALYTICS_MIN_CELL_SIZE") or 1))


def _pinned(cells: Mapping[Hashable, int], hidden: Mapping[Hashable, str], minimum: int) -> bool:
    """Whether the hidden cells' sum, with the bounds a reader knows, gives one of them back."""
    if COMPLEMENT not in hidden.values():  # always one: then hiding more says nothing of the small cells
        return True
    shown = [(v, str(k)) for k, v in cells.items() if k not in hidden and v >= minimum]
    total = sum(cells[k] for k in hidden)

    def ceiling(key: Hashable) -> int:
        # complements are taken smallest first, ties by key: one lies under every cell still shown
        return min([v if str(key) < name else v - 1 for v, name in shown] + [total])

    bounds = [(1, minimum - 1) if mark == SMALL else (minimum, ceiling(k)) for k, mark in hidden.items()]
    if any(low >= high for low, high in bounds):
        return True
    return total <= sum(low for low, _ in bounds) or total >= sum(high for _, high in bounds)


def suppress(cells: Mapping[Hashable, int], minimum: int | None = None) -> dict[Hashable, str]:
    """The cells to hide, each marked ``SMALL``, ``COMPLEMENT`` or (all of them) ``ALL``; {} when none is small."""
    minimum = minimum_cell_size() if minimum is None else minimum
    if minimum <= 1:
        return {}
    if sum(cells.values()) < minimum * len(cells):
        # every cell could be small: hidden whole whatever the counts (with a small cell only, showing the
        # others would tell that none is small: 2 learners in 2 cells shown as "2, 0" would give "1, 1" away)
        return {k: ALL for k in cells} if any(cells.values()) else {}
    hidden: dict[Hashable, str] = {k: SMALL for k, v in cells.items() if 0 < v < minimum}
    if not hidden:
        return {}
    candidates = sorted((v, str(k), k) for k, v in cells.items() if k not in hidden and v > 0)
    if not candidates:
        return {k: ALL for k in cells}
    # One complement, never more: whether a second one was needed would depend on the first one's
    # count, and a reader who knows the rule would learn from it (how a pinned sum looks is known).
    hidden[candidates[0][2]] = COMPLEMENT
    if _pinned(cells, hidden, minimum):
        return {k: ALL for k in cells}
    return hidden
