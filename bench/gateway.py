"""The ingest gateway under a sustained sender: items accepted per second per LMS process and the request's p95,
beside the same events through the tracking door.

Usage: python -m bench.gateway [--database mysql|sqlite] [--rates 250 500 1000 0] [--batch 100] [--seconds 10]

One LMS process (this one) answers ``POST /api/analytics/v1/events/`` through Django's own
request handler and middleware, one request at a time, as a sync gunicorn worker does; the
sender offers batches of ``--batch`` items at each rate in items per second (0: as fast as
the process answers), open loop (a late request is followed at once by the next, never
skipped). The items are a mobile backend's: video plays and pauses and graded problem
attempts of 5,000 learners in 20 courses, each with its own ``id``. Per rate: items offered
and accepted per second, request p50/p95/max. The recompute after each batch is sent to the
broker (``OA_BROKER_URL``, which nobody consumes here: its queue is emptied at the end), as
in production.

Beside it, in the same run and process, the same events through the tracking door: what
``AnalyticsTrackingBackend.send`` costs the LMS process per event (it only hands the event
to the publisher), and what storing them costs a worker: ``process_event_batch`` of 500
events in process (normalize, facts, markers; the recompute of a course it opens). The
gateway does the worker's storing inside the request; the aggregates are recomputed by a
worker after it, as for tracking events.

Databases: MariaDB ``<OA_MYSQL_PREFIX or oa_bench_gateway>_lms``/``_analytics``, or SQLite
files in ``--workdir``; fresh, dropped at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness.databases import drop_databases, fresh_databases, lms_courses_in_child, test_host_env

COURSES = [f"course-v1:Bench+Gw{n:02d}+2026" for n in range(20)]
LEARNERS = 5000


def events(count: int, start_id: int, now: dt.datetime, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` items as a mobile backend sends them: plays, pauses and graded attempts, each with an id."""
    items = []
    for n in range(count):
        course = rng.choice(COURSES)
        run = course.split(":")[1]
        user = rng.randrange(1, LEARNERS + 1)
        when = (now - dt.timedelta(seconds=rng.randrange(0, 3600))).isoformat()
        context = {"course_id": course, "user_id": user}
        kind = n % 3
        if kind == 2:
            item = {"name": "problem_check", "time": when, "context": context,
                    "data": {"problem_id": f"block-v1:{run}+type@problem+block@p{rng.randrange(10)}",
                             "attempts": 1, "grade": rng.randrange(2), "max_grade": 1}}
        else:
            item = {"event_type": "play_video" if kind == 0 else "pause_video", "time": when, "context": context,
                    "event": {"id": f"block-v1:{run}+type@video+block@v{rng.randrange(10)}",
                              "currentTime": rng.randrange(600), "duration": 600}}
        item["id"] = f"bench-{start_id + n}"
        items.append(item)
    return items


def percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def sender(user: Any) -> tuple[Any, str]:
    """A test client (Django's request handler, full middleware) and the sender's ingest key."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    from openedx_analytics import service_keys
    from openedx_analytics.models import GatewayCaller
    from openedx_analytics.models.gateway import SEND_PERMISSION

    user.user_permissions.add(Permission.objects.get(codename=SEND_PERMISSION))
    GatewayCaller.objects.using("default").create(user=user, organizations="Bench", throttle_rate="1000000/minute")
    return Client(), service_keys.issue_key(user, "ingest")


def gateway_run(client: Any, key: str, rate: float, batch: int, seconds: float, next_id: int,
                rng: random.Random) -> tuple[dict[str, Any], int]:
    """Offer batches at ``rate`` items/s for ``seconds``; the figures and the next free item id."""
    now = dt.datetime.now(dt.timezone.utc)
    interval = batch / rate if rate else 0.0
    latencies: list[float] = []
    accepted = offered = busy = 0
    started = time.perf_counter()
    due = started
    while time.perf_counter() - started < seconds:
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        body = json.dumps(events(batch, next_id, now, rng))
        next_id += batch
        while True:  # a sender resends a batch the gateway answered 503 (busy database), unchanged
            began = time.perf_counter()
            response = client.generic("POST", "/api/analytics/v1/events/", body, content_type="application/json",
                                      HTTP_AUTHORIZATION=f"Token {key}")
            latencies.append(time.perf_counter() - began)
            if response.status_code != 503:
                break
            busy += 1
        if response.status_code != 200:
            raise SystemExit(f"gateway answered {response.status_code}: {response.content[:300]!r}")
        accepted += response.json()["accepted"]
        offered += batch
        due += interval
    elapsed = time.perf_counter() - started
    return {"rate": rate, "requests": len(latencies), "busy": busy, "offered_per_s": offered / elapsed,
            "accepted_per_s": accepted / elapsed, "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000, "max_ms": max(latencies) * 1000}, next_id


def tracking_door(count: int, next_id: int, rng: random.Random) -> dict[str, float]:
    """The same events through the tracking door: the LMS process's cost per event, and a worker's store rate."""
    from openedx_analytics.live import dispatch
    from openedx_analytics.live.tracking import AnalyticsTrackingBackend
    from openedx_analytics.worker.tasks import process_event_batch

    now = dt.datetime.now(dt.timezone.utc)
    items = events(count, next_id, now, rng)
    door = AnalyticsTrackingBackend()
    shaped = [{"name": item.get("name") or item["event_type"], "timestamp": item["time"], "context": item["context"],
               "data": item.get("data") or item.get("event"), "event_source": "server"} for item in items]
    began = time.perf_counter()
    for event in shaped:
        door.send(event)
    emit = time.perf_counter() - began
    dispatch.wait_for_publisher(30)
    worker_events = [{**event, "context": {**event["context"], "event_source": "server"}} for event in shaped]
    began = time.perf_counter()
    stored = 0
    for start in range(0, len(worker_events), 500):
        result = process_event_batch.apply(args=[worker_events[start:start + 500], "live"]).get()
        stored += result["accepted"]
    store = time.perf_counter() - began
    return {"events": count, "emit_us_per_event": emit / count * 1e6, "emit_per_s": count / emit,
            "worker_stored_per_s": stored / store, "stored": stored}


def main() -> None:
    """Fresh databases, the sender's rates, then the tracking door; the figures as a table."""
    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["mysql", "sqlite"], default="mysql")
    parser.add_argument("--rates", type=float, nargs="+", default=[250, 500, 1000, 0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--door-events", type=int, default=3000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/oa-bench-gateway"))
    args = parser.parse_args()
    if not os.environ.get("OA_BROKER_URL"):
        raise SystemExit("Set OA_BROKER_URL to a Redis database of this run's own: it is emptied at the end.")
    env = test_host_env(args.database, args.workdir / "sqlite", os.environ.get("OA_MYSQL_PREFIX", "oa_bench_gateway"),
                        eager=False)
    fresh_databases(env)
    lms_courses_in_child(env, COURSES)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections

    try:
        client, key = sender(get_user_model().objects.create_user("bench_sender", "bs@example.com"))
        rng = random.Random(7)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.database}, batches of {args.batch}, "
              f"{args.seconds:g} s per rate, one LMS process (Django's handler, one request at a time)", flush=True)
        print("| door | offered items/s | accepted items/s | requests | p50 ms | p95 ms | max ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        _row, next_id = gateway_run(client, key, 0, args.batch, 0.5, 0, rng)  # warm-up: imports, caches, connections
        for rate in args.rates:
            row, next_id = gateway_run(client, key, rate, args.batch, args.seconds, next_id, rng)
            label = f"{rate:g}/s" if rate else "as fast as answered"
            busy = f" ({row['busy']} answered 503, resent)" if row["busy"] else ""
            print(f"| gateway, {label} | {row['offered_per_s']:,.0f} | {row['accepted_per_s']:,.0f} | "
                  f"{row['requests']}{busy} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['max_ms']:.0f} |",
                  flush=True)
        door = tracking_door(args.door_events, next_id, rng)
        print(f"| tracking door, LMS process: hand-off per event | {door['emit_per_s']:,.0f} events/s "
              f"({door['emit_us_per_event']:.0f} µs each) | | | | | |")
        print(f"| tracking door, worker: process_event_batch (500 per batch) | | {door['worker_stored_per_s']:,.0f} "
              f"stored/s | | | | |")
    finally:
        for connection in connections.all():
            connection.close()
        _empty_broker()
        drop_databases(env)


def _empty_broker() -> None:
    """Drop the recompute messages nobody consumed here (this run's broker database only)."""
    try:
        from celery import current_app

        with current_app.connection_for_write() as connection:
            connection.default_channel.client.flushdb()
    except Exception as exc:  # noqa: BLE001 - a benchmark's cleanup: say so and go on
        print(f"could not empty the broker: {exc}", file=sys.stderr)


if __name__ == "__main__":
    main()
