"""Keep Python's cyclic garbage collector from rescanning the whole program during a backfill.

A backfill allocates millions of short-lived containers (decoded events, records, rows),
so the collector runs thousands of times; each full collection walks every object alive,
including the tens of thousands Django, the models and the settings made at start-up and
keep until exit. Freezing those (``gc.freeze``) moves them out of the collector's sight
for the run; they are given back (``gc.unfreeze``) when it ends, so a process that runs
the command repeatedly (tests) collects normally in between. Nothing is ever disabled:
garbage made during the run is collected as before.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def startup_objects_frozen() -> Iterator[None]:
    """Within the block, objects alive at its start are left out of garbage collections (why: module docstring)."""
    gc.collect()  # what is already garbage is freed now, not kept for the whole run
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
