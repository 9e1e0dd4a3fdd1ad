"""Traces the Python heap of a benchmark's Celery worker, to tell a leak of Python objects from the allocator's growth.

A worker's resident memory can rise for two reasons: Python objects that are never freed
(a leak: their traced size rises too) or the C allocator keeping freed pages and arenas
(warm-up and fragmentation: the traced size stays flat while RSS rises). ``bench.live soak
--trace-python-heap`` sets ``OA_BENCH_HEAP_DIR`` for its workers only; their settings
(``bench.harness.live.settings``) then import this module, which starts ``tracemalloc``
(one frame per allocation: the cheapest setting, it still slows a worker) and writes each
process's traced size to ``<dir>/<pid>.json`` every ``OA_BENCH_HEAP_SECONDS`` seconds, for
the soak's sampler to read.
"""
from __future__ import annotations

import json
import os
import threading
import time
import tracemalloc
from pathlib import Path

from celery.signals import worker_process_init

DIRECTORY = Path(os.environ["OA_BENCH_HEAP_DIR"])
EVERY_SECONDS = float(os.environ.get("OA_BENCH_HEAP_SECONDS", "5"))


def write_traced_size() -> None:
    """Write this process's traced Python heap (MiB) where the sampler reads it, atomically."""
    current, peak = tracemalloc.get_traced_memory()
    pid = os.getpid()
    temporary = DIRECTORY / f".{pid}.tmp"
    temporary.write_text(json.dumps({"pid": pid, "traced_mib": current / 2**20, "peak_mib": peak / 2**20,
                                     "time": time.time()}))
    temporary.replace(DIRECTORY / f"{pid}.json")


def _report_forever() -> None:
    while True:
        try:
            write_traced_size()
        except OSError:
            pass  # the run's directory went away: the benchmark is over
        time.sleep(EVERY_SECONDS)


def start() -> None:
    """Trace this process's allocations and report their size from a daemon thread.

    Called in the worker's main process when its settings load, and in each pool child
    when it starts: a forked child inherits the tracing but not the reporting thread.
    """
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    if not tracemalloc.is_tracing():
        tracemalloc.start(1)
    threading.Thread(target=_report_forever, name="oa-bench-heap-probe", daemon=True).start()


@worker_process_init.connect(weak=False)
def _pool_child_started(**_kwargs: object) -> None:
    start()


start()
