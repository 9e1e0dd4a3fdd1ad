"""Benchmark the live path through real Celery workers: events/s until the aggregates are current.

Usage: python -m bench.worker [--workers 1 2] [--batch-sizes 100 500] [--events 30000]
       [--history 60000] [--freshness-seconds 20] [--prefix oa_wk_bench] [--broker redis://127.0.0.1:6379/14]

On MariaDB (databases ``<prefix>_lms`` and ``<prefix>_analytics``, made afresh and dropped at
the end) and the Redis database of ``--broker`` (its queue purged before and after), for
each number of workers and batch size:

1. the analytics tables are emptied and a history is stored in-process (``--history``
   tracking-log lines over 30 days, five courses, ``--learners`` learners, the mix of
   ``bench.harness.tracking_log``: video events dominate), then recomputed;
2. the floor: this process ingests the live events (the next ``--events`` lines of the same
   log, dated the last hour, through the tracking door's filter and allow-list) in batches
   of the batch size, without Celery and without recomputing, then drains once;
3. the tables are emptied and the history stored again; N ``celery -A lms_host worker``
   processes (concurrency 1) start with their consumers cancelled, every batch is
   published, then the consumers are added back: from then on the clock runs until every
   batch task has ended (the ingest rate) and no dirty scope is left (the live rate:
   aggregates current);
4. freshness: batches of the next events are published at half the live rate for
   ``--freshness-seconds``, each with a probe (a new learner playing a probe video from
   0 s to 10 s); a probe is visible when the video's ``users_at_start`` in the Python API
   (what the REST API serves) reaches its number. The p50/p95 of publish-to-visible is printed.

Only 127.0.0.1; bounded in events and time (``--timeout`` per phase); the workers are
stopped (SIGTERM, then SIGKILL) whatever happens.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import PYTHON, ROOT
from bench.harness.databases import drop_mysql, fresh_databases
from bench.harness.event_streams import PROBE_VIDEO, batches, make_streams, probe_events


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: worker counts, batch sizes, stream lengths, the databases' prefix and the broker."""
    parser = argparse.ArgumentParser(prog="python -m bench.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--events", type=int, default=30_000, help="tracking-log lines of the live stream")
    parser.add_argument("--history", type=int, default=60_000, help="tracking-log lines stored before")
    parser.add_argument("--learners", type=int, default=5_000)
    parser.add_argument("--freshness-seconds", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="longest wait of one phase, seconds")
    parser.add_argument("--prefix", default=os.environ.get("OA_MYSQL_PREFIX", "oa_wk_bench"))
    parser.add_argument("--broker", default=os.environ.get("OA_BROKER_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--keep-databases", action="store_true")
    return parser.parse_args(argv)


def configure(args: argparse.Namespace) -> dict[str, str]:
    """Environment of this process and of the workers: MariaDB, the broker, a shared Redis cache."""
    if "127.0.0.1" not in args.broker and "localhost" not in args.broker:
        raise SystemExit("the broker must be on 127.0.0.1")
    env = {
        "DJANGO_SETTINGS_MODULE": "test_settings",
        "OA_TEST_DB": "mysql",
        "OA_MYSQL_PREFIX": args.prefix,
        "OA_CELERY_EAGER": "0",
        "OA_BROKER_URL": args.broker,
        "OA_CACHE_URL": args.broker,  # the workers share a cache, as an LMS's do (memcached or Redis)
    }
    os.environ.update(env)
    return dict(os.environ)


# ------------------------------------------------------------------ database state


def empty_analytics() -> None:
    """Empty every analytics table (TRUNCATE, MariaDB), so each run starts from the same state."""
    from django.apps import apps
    from django.db import connections

    from openedx_analytics import conf

    using = conf.analytics_db()
    with connections[using].cursor() as cursor:
        cursor.execute("SET FOREIGN_KEY_CHECKS=0")
        for model in apps.get_app_config("openedx_analytics").get_models():
            if not getattr(model, "ANALYTICS_DEFAULT_DB", False):
                cursor.execute(f"TRUNCATE TABLE {model._meta.db_table}")
        cursor.execute("SET FOREIGN_KEY_CHECKS=1")


def store_history(lines: list[str]) -> None:
    """The courses' past, as a backfill stores it, recomputed."""
    from openedx_analytics.pipeline.ingest import ingest
    from openedx_analytics.worker.drain import drain

    raws = []
    for line in lines:
        try:
            raws.append(json.loads(line))
        except ValueError:
            continue
    for start in range(0, len(raws), 5000):
        ingest(raws[start:start + 5000], source="backfill", whole_courses=True)
    drain()


def dirty_count() -> int:
    """Dirty scopes left: 0 when every aggregate is current."""
    from openedx_analytics import conf
    from openedx_analytics.models import DirtyScope

    return DirtyScope.objects.using(conf.analytics_db()).count()


def floor(parts: list[list[dict]]) -> tuple[float, float]:
    """In-process: ingest every batch (no Celery, no recompute), then one drain; seconds of each."""
    from django.db import close_old_connections

    from openedx_analytics.pipeline.ingest import ingest
    from openedx_analytics.worker.drain import drain

    close_old_connections()
    started = time.perf_counter()
    for part in parts:
        ingest(part, source="live")
    ingested = time.perf_counter() - started
    started = time.perf_counter()
    drain()
    return ingested, time.perf_counter() - started


# ------------------------------------------------------------------ workers


class Workers:
    """N real worker processes (concurrency 1), stopped whatever happens."""

    def __init__(self, count: int, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.count = count

    def __enter__(self) -> Workers:
        from lms_host.celery import app

        for index in range(self.count):
            name = f"oa-bench-{os.getpid()}-{index}@localhost"
            log = open(self.log_dir / f"worker-{index}.log", "wb")  # noqa: SIM115 - closed with the process
            process = subprocess.Popen(
                [PYTHON, "-m", "celery", "-A", "lms_host", "worker", "--concurrency=1", "--pool=prefork",
                 "--loglevel=INFO", "-n", name, "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "--include=tests.support.worker_probe"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self.processes.append((name, process))
        deadline = time.monotonic() + 120
        waiting = {name for name, _process in self.processes}
        while waiting:
            if time.monotonic() > deadline or any(p.poll() is not None for _n, p in self.processes):
                raise RuntimeError(f"workers did not start; logs in {self.log_dir}")
            for reply in app.control.ping(destination=sorted(waiting), timeout=0.5) or []:
                waiting -= set(reply)
        return self

    @property
    def names(self) -> list[str]:
        """The workers' node names (what Celery's remote control addresses)."""
        return [name for name, _process in self.processes]

    def __exit__(self, *exc: object) -> None:
        for _name, process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _name, process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def task_ends(task_ids: list[str]) -> int:
    """How many of ``task_ids`` have ended, as the workers' task probe (``tests.worker_probe``) recorded."""
    from tests.support import worker_probe

    ended = 0
    for start in range(0, len(task_ids), 500):
        keys = [worker_probe.key(task_id) for task_id in task_ids[start:start + 500]]
        ended += sum(1 for value in worker_probe.client().mget(keys) if value)
    return ended


def probe_tasks_ran() -> int:
    """Every task the workers ran since the probe's keys were cleared (batches and recomputes)."""
    from tests.support import worker_probe

    return sum(1 for _key in worker_probe.client().scan_iter(f"{worker_probe.PREFIX}*", count=1000))


def clear_probe_keys() -> None:
    """Forget the tasks the probe recorded, before a run."""
    from tests.support import worker_probe

    keys = list(worker_probe.client().scan_iter(f"{worker_probe.PREFIX}*", count=1000))
    for start in range(0, len(keys), 1000):
        worker_probe.client().delete(*keys[start:start + 1000])


def run_live(parts: list[list[dict]], workers: Workers, timeout: float) -> dict[str, float]:
    """Publish every batch while the consumers are off, turn them on, time until all is current."""
    from lms_host.celery import app
    from openedx_analytics.worker.tasks import process_event_batch

    queue = app.conf.task_default_queue
    clear_probe_keys()
    app.control.cancel_consumer(queue, destination=workers.names, reply=True, timeout=5)
    task_ids = [process_event_batch.apply_async(args=[part, "live"]).id for part in parts]
    started = time.monotonic()
    app.control.add_consumer(queue, destination=workers.names, reply=True, timeout=5)
    ingested_at = None
    deadline = started + timeout
    while time.monotonic() < deadline:
        if ingested_at is None and task_ends(task_ids) == len(task_ids):
            ingested_at = time.monotonic()
        if ingested_at is not None and dirty_count() == 0:
            return {"ingest": ingested_at - started, "current": time.monotonic() - started,
                    "tasks": probe_tasks_ran(), "batches": len(task_ids)}
        time.sleep(0.05)
    raise RuntimeError(f"not done after {timeout}s (batches ended: {task_ends(task_ids)}/{len(task_ids)}, "
                       f"dirty scopes: {dirty_count()})")


def probe_course(events: list[dict]) -> str:
    """The course with the most events: the probes go where the load is."""
    from collections import Counter

    return Counter(event["context"].get("course_id") for event in events
                   if isinstance(event.get("context"), dict) and event["context"].get("course_id")).most_common(1)[0][0]


def users_at_start(course: str) -> int:
    """The probe video's ``users_at_start`` as the Python API returns it (0 before its first probe shows)."""
    from django.db import transaction

    from openedx_analytics import api, conf

    with transaction.atomic(using=conf.analytics_db()):  # a fresh snapshot each poll
        for row in api.get_videos(course):
            if row["video_id"].endswith(PROBE_VIDEO):
                return row["users_at_start"]
    return 0


def run_freshness(events: list[dict], size: int, rate: float, seconds: float, timeout: float) -> list[float]:
    """Publish batches at ``rate`` events/s with a probe each; return publish-to-visible seconds per probe."""
    from openedx_analytics.worker.tasks import process_event_batch

    course = probe_course(events)
    parts = batches(events, size)
    interval = size / rate
    count = min(len(parts), max(int(seconds / interval), 1))
    published: list[float] = []
    visible: list[float] = []
    start = time.monotonic()
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=2)
    seen = 0
    for index in range(count):
        due = start + index * interval
        while time.monotonic() < due:
            seen = _note_visible(course, seen, visible)
            time.sleep(0.02)
        process_event_batch.apply_async(args=[parts[index] + probe_events(index + 1, course, now), "live"])
        published.append(time.monotonic())
    deadline = time.monotonic() + timeout
    while seen < count and time.monotonic() < deadline:
        seen = _note_visible(course, seen, visible)
        time.sleep(0.02)
    return [shown - sent for sent, shown in zip(published, visible, strict=False)]


def _note_visible(course: str, seen: int, visible: list[float]) -> int:
    count = users_at_start(course)
    while seen < count:
        visible.append(time.monotonic())
        seen += 1
    return seen


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (nearest rank, rounded), NaN when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> None:
    """Per batch size and worker count: floor, live run and freshness; then the table."""
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # stop cleanly: workers stopped, databases dropped
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    env = configure(args)
    import django

    django.setup()
    from lms_host.celery import app

    log_dir = Path(f"/tmp/{args.prefix}-logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    history, live, fresh = make_streams(args.history, args.events, args.learners, args.freshness_seconds, now)
    print(f"# {len(history):,} history lines, {len(live):,} live events, {len(fresh):,} for freshness; "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)
    fresh_databases(env)
    app.control.purge()
    rows = []
    try:
        for size in args.batch_sizes:
            parts = batches(live, size)
            for count in args.workers:
                empty_analytics()
                store_history(history)
                ingest_s, drain_s = floor(parts)
                empty_analytics()
                store_history(history)
                with Workers(count, env, log_dir) as workers:
                    result = run_live(parts, workers, args.timeout)
                    rate = len(live) / result["current"]
                    lags = run_freshness(fresh, size, rate / 2, args.freshness_seconds, args.timeout) \
                        if args.freshness_seconds > 0 else []
                load = os.getloadavg()[0]
                app.control.purge()
                row = {
                    "workers": count, "batch": size, "events": len(live),
                    "floor_ingest_eps": len(live) / ingest_s, "floor_drain_s": drain_s,
                    "ingest_eps": len(live) / result["ingest"], "live_eps": rate,
                    "per_worker_eps": rate / count, "tasks": result["tasks"], "batches": result["batches"],
                    "fresh_p50": percentile(lags, 0.5), "fresh_p95": percentile(lags, 0.95),
                    "probes": len(lags), "load": load,
                }
                rows.append(row)
                print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}),
                      flush=True)
    finally:
        app.control.purge()
        if not args.keep_databases:
            drop_mysql(args.prefix)
    print()
    print("| workers | batch | live events/s (current) | per worker | ingest events/s | floor: in-process ingest "
          "events/s | ratio live/floor | tasks run (batches) | freshness p50 / p95 s | load 1 min |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['workers']} | {row['batch']} | {row['live_eps']:,.0f} | {row['per_worker_eps']:,.0f} | "
              f"{row['ingest_eps']:,.0f} | {row['floor_ingest_eps']:,.0f} (+ drain {row['floor_drain_s']:.1f} s) | "
              f"{row['live_eps'] / row['floor_ingest_eps']:.2f} | {row['tasks']} ({row['batches']}) | "
              f"{row['fresh_p50']:.2f} / {row['fresh_p95']:.2f} | {row['load']:.1f} |")


if __name__ == "__main__":
    main()
