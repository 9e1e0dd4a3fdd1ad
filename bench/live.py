"""The live path under load: sustained rate (ramp), emit-to-visible freshness, and an hour's soak.

Drives the plugin only through its real doors (event-tracking ``tracker.emit`` and
openedx-events ``send_event`` inside simulated LMS requests, ``bench.harness.live.lms``), with real
``celery -A lms_host worker`` processes (concurrency 1 each) on Redis, and reads results only
through the REST API (gunicorn) and the databases. Fresh databases per run (MariaDB
``<prefix>_live_lms``/``_analytics`` and ``<prefix>_back_*``, or SQLite files), dropped at the end.

    ramp       rates rise in steps; per step: offered and achieved events/s, the backlog (queued
               messages + dirty scopes) over time and whether it grew; the highest rate held.
               Baseline: what the load generators emit with no worker at all (what this machine offers).
    quiet      a quiet site: one enrollment at a time, the REST API polled until it shows, the next
               once it does; p50/p95/max. Floor: the same probes published on the request's own thread
               (no publishing buffer), in the same run. Then the same through HTTP: each enrollment a
               request to the served LMS process (gunicorn), whose publisher sits idle in between.
               ``--lms-worker``: the worker runs with a Tutor LMS worker's options (one message
               reserved at a time, ``--prefetch-multiplier=1``).
    freshness  at a rate, a probe enrolls a fresh learner (signal) and has a fresh learner play a fresh
               video, and polls the REST API until each shows; p50/p95/p99. Baseline: the same probes
               with no load.
    rowsizes   (MariaDB) bytes per fact and aggregate row, and rows per log line, from a backfill of a
               generated tracking log: what storage a day of events costs.
    soak       at a rate for a long time: workers' memory, dirty scopes and backlog sampled; then the
               backlog drained, verify_analytics, and the live aggregates compared row by row with a
               backfill (tracking logs + --from-lms) of the same events into fresh databases.

    OA_TEST_DB=mysql OA_MYSQL_PREFIX=oa_ld OA_BROKER_URL=redis://127.0.0.1:6379/15 \\
        .venv-lms/bin/python -m bench.live ramp --workers 1 2 --rates 50 100 200 400 --step-seconds 300
    ... -m bench.live quiet --probes 30 --lms-worker
    ... -m bench.live freshness --rate 100 --probes 120
    ... -m bench.live soak --rate 100 --seconds 3600

Everything is bounded in time and count, on 127.0.0.1 only; workers, gunicorn and generators
are stopped on exit and on Ctrl-C. ``--json FILE`` writes every figure. The harness (a run's
databases, processes and backlog; the load generator and the probe, child processes of
their own) is ``bench.harness.live``.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness.databases import lms_courses_in_child
from bench.harness.live.backlog import Sampler, python_heap_trend, timed, trend
from bench.harness.live.databases import FACT_TABLES, aggregate_models, compare_aggregates, run_command, table_sizes
from bench.harness.live.freshness import probe
from bench.harness.live.processes import Generators, Workers, serve_api
from bench.harness.live.run import Run

# ================================================================== ramp


def ramp(run: Run) -> None:
    """Rates rise in steps, per worker count; each step starts from an empty backlog."""
    args = run.args
    offered_max = run.offered_baseline()
    run.report["ramp"] = {}
    for count in args.workers:
        run.fresh_live()
        workers = Workers(run.processes, run.live, args.queue)
        workers.start(count)
        budget = len(args.rates) * (args.step_seconds + args.drain_seconds) + 300
        generators = run.generators(f"ramp{count}", budget)
        workers.wait_ready()
        steps = []
        with Sampler(run.backlog, None, args.sample_seconds) as sampler:
            for rate in args.rates:
                step = ramp_step(run, generators, sampler, count, rate)
                steps.append(step)
                print_step(step, offered_max)
                if step["growing"] and not args.keep_going:
                    break
        generators.stop()
        workers.stop()
        held = [s for s in steps if not s["growing"]]
        best = max(held, key=lambda s: s["achieved"], default=None)
        run.report["ramp"][str(count)] = {"steps": steps, "held_events_per_s": best["achieved"] if best else 0.0}
        print(f"{count} worker(s): highest rate held with the backlog not growing: "
              f"{(best['achieved'] if best else 0):,.1f} events/s (offered max {offered_max:,.0f})", flush=True)
        run.note_load(f"after ramp with {count} worker(s)")
    held = {c: run.report["ramp"][str(c)]["held_events_per_s"] for c in args.workers}
    if 1 in held and held[1] and len(held) > 1:
        for count, rate in held.items():
            print(f"  {count} worker(s): {rate:,.1f} events/s = {rate / held[1]:.2f}x one worker")


def ramp_step(run: Run, generators: Generators, sampler: Sampler, count: int, rate: float) -> dict[str, Any]:
    """One step, from an empty backlog: ``rate`` events/s offered for ``--step-seconds``; what came of it."""
    args = run.args
    run.backlog.wait_drained(args.drain_seconds)
    events_before, requests_before = generators.totals()
    generators.set_rate(rate)
    start = time.monotonic()
    time.sleep(args.step_seconds)
    end = time.monotonic()
    generators.set_rate(0)
    time.sleep(0.5)  # the generators see the pause and report their counts
    events_after, requests_after = generators.totals()
    warm = start + min(10.0, args.step_seconds * 0.1)
    samples = sampler.between(warm, end)
    line = trend([(s.t - start, s.backlog) for s in samples])
    drained = run.backlog.wait_drained(args.drain_seconds)
    step = {
        "workers": count, "offered": rate,
        "achieved": (events_after - events_before) / (end - start),
        "requests_per_s": (requests_after - requests_before) / (end - start),
        "backlog_start": samples[0].backlog if samples else None,
        "backlog_end": samples[-1].backlog if samples else None,
        "backlog_max": max((s.backlog for s in samples), default=None),
        "dirty_max": max((s.dirty for s in samples), default=None),
        "messages_max": max((s.messages for s in samples), default=None),
        "slope_per_s": line.slope, "growing": line.growing(),
        # Past saturation the backlog grows by what the workers do not take: what they take is
        # the offered rate less the growth (in messages, one per request) times events a request.
        "taken_estimate": ((events_after - events_before) / (end - start)) - max(line.slope, 0.0) * (
            (events_after - events_before) / max(requests_after - requests_before, 1)),
        "drain_seconds": drained,
        "backlog_series": [(round(s.t - start, 1), s.messages, s.dirty) for s in samples],
    }
    return step


def print_step(step: dict[str, Any], offered_max: float) -> None:
    """One line per ramp step."""
    drained = "-" if step["drain_seconds"] is None else f"{step['drain_seconds']:.1f}"
    print(f"  {step['workers']}w offered {step['offered']:>7.1f}/s achieved {step['achieved']:>7.1f}/s "
          f"({step['achieved'] / offered_max:.0%} of the generators' max) backlog start {step['backlog_start']} "
          f"end {step['backlog_end']} max {step['backlog_max']} (dirty max {step['dirty_max']}, messages max "
          f"{step['messages_max']}) slope {step['slope_per_s']:+.2f}/s "
          f"{'GROWING' if step['growing'] else 'steady'}; drained in {drained} s"
          + (f"; the workers took about {step['taken_estimate']:.1f} events/s" if step["growing"] else ""), flush=True)


# ================================================================== freshness


def freshness(run: Run) -> None:
    """Emit-to-visible delays of probes, with no load (baseline) and under load."""
    args = run.args
    session = run.fresh_live()
    workers = Workers(run.processes, run.live, args.queue)
    workers.start(args.workers[0])
    generators = run.generators("freshness", args.probes * args.probe_interval + args.baseline_probes * 5 + 600)
    serve_api(run.processes, run.live, args.port)
    workers.wait_ready()
    first_user = args.learners + 1000
    idle = probe(run, session, args.baseline_probes, first_user, "idle")
    generators.set_rate(args.rate)
    time.sleep(min(10.0, args.probe_interval * 5))
    with Sampler(run.backlog, None, args.sample_seconds) as sampler:
        start = time.monotonic()
        loaded = probe(run, session, args.probes, first_user + args.baseline_probes, "load")
    events, _ = generators.stop()
    workers.stop()
    line = trend([(s.t - start, s.backlog) for s in sampler.samples if s.t >= start])
    loaded["backlog_max"] = max((s.backlog for s in sampler.samples), default=0)
    loaded["backlog_growing"] = line.growing()
    run.report["freshness"] = {"rate": args.rate, "workers": args.workers[0], "idle": idle, "load": loaded,
                               "generated_events": events}
    for label, result in (("no load (baseline)", idle), (f"at {args.rate:g} events/s", loaded)):
        parts = []
        for kind, r in result["kinds"].items():
            missing = f" ({r['not_visible']} never shown)" if r["not_visible"] else ""
            parts.append(f"{kind} n={r['n']} p50 {r['p50']:.2f} s p95 {r['p95']:.2f} s p99 {r['p99']:.2f} s{missing}")
        backlog = (f"; backlog max {result['backlog_max']}, "
                   f"{'GROWING' if result['backlog_growing'] else 'not growing'}") if "backlog_max" in result else ""
        print(f"freshness {label}: " + "; ".join(parts) + f"; API poll p50 {result['poll_ms_p50']:.1f} ms{backlog}",
              flush=True)


def quiet(run: Run) -> None:
    """A quiet site: enrollments one at a time, each waited for; beside the same probes without the buffer."""
    args = run.args
    session = run.fresh_live()
    workers = Workers(run.processes, run.live, args.queue, as_the_lms=args.lms_worker)
    workers.start(1)
    serve_api(run.processes, run.live, args.port)
    workers.wait_ready()
    first_user = args.learners + 1000
    floor = probe(run, session, args.probes, first_user, "floor", sequential=True,
                  env={"OA_BENCH_PUBLISH_ON_THREAD": "1"})
    buffered = probe(run, session, args.probes, first_user + args.probes, "quiet", sequential=True)
    served = probe(run, session, args.probes, first_user + 2 * args.probes, "http", sequential=True, over_http=True)
    workers.stop()
    run.report["quiet"] = {"probes": args.probes, "floor": floor, "quiet": buffered, "over_http": served}
    for label, result in (("published on the request thread (floor)", floor), ("through the publisher", buffered),
                          ("HTTP requests to the served LMS process (its publisher)", served)):
        r = result["kinds"]["enrollment"]
        missing = f" ({r['not_visible']} never shown)" if r["not_visible"] else ""
        print(f"quiet site, {label}: n={r['n']} p50 {r['p50']:.2f} s p95 {r['p95']:.2f} s max {r['max']:.2f} s"
              f"{missing}; API poll p50 {result['poll_ms_p50']:.1f} ms; each: "
              + " ".join(f"{s:.2f}" for s in result["seconds"]), flush=True)


# ================================================================== soak


def soak(run: Run) -> None:
    """A long run at one rate; memory, dirty scopes and backlog over time; then verify and compare with a backfill."""
    args = run.args
    run.fresh_live()
    workers = Workers(run.processes, run.live, args.queue,
                      heap_dir=run.work / "python-heap" if args.trace_python_heap else None)
    workers.start(args.workers[0])
    generators = run.generators("soak", args.seconds + 300)
    workers.wait_ready()
    idle_rss = workers.rss_mib()
    with Sampler(run.backlog, workers, args.sample_seconds) as sampler:
        generators.set_rate(args.rate)
        start = time.monotonic()
        time.sleep(args.seconds)
        end = time.monotonic()
        events, requests = generators.stop()
        drained = run.backlog.wait_drained(args.drain_seconds)
    samples = sampler.between(start + min(60.0, args.seconds * 0.1), end)
    hours = [(s.t - start) / 3600 for s in samples]
    memory = [trend(list(zip(hours, [s.rss_mib[i] for s in samples], strict=True))).slope
              for i in range(len(idle_rss))]
    heap = [python_heap_trend(hours, [s.heap_mib[i] if s.heap_mib else None for s in samples])
            for i in range(len(idle_rss))] if args.trace_python_heap else []
    dirty = trend(list(zip(hours, [s.dirty for s in samples], strict=True)))
    backlog = trend(list(zip(hours, [s.backlog for s in samples], strict=True)))
    workers.stop()
    result: dict[str, Any] = {
        "rate": args.rate, "seconds": args.seconds, "workers": args.workers[0], "events": events,
        "achieved": events / (end - start), "requests": requests, "drain_seconds": drained,
        "idle_rss_mib": idle_rss, "end_rss_mib": samples[-1].rss_mib if samples else [],
        "memory_slope_mib_per_hour": memory, "dirty_slope_per_hour": dirty.slope,
        "backlog_slope_per_hour": backlog.slope, "backlog_growing": backlog.growing(),
        "dirty_max": max((s.dirty for s in samples), default=0),
        "series": [(round(s.t - start, 1), s.messages, s.dirty, [round(r, 1) for r in s.rss_mib]) for s in samples],
        "python_heap": heap,
        "python_heap_series": [(round(s.t - start, 1), [None if m is None else round(m, 2) for m in s.heap_mib])
                               for s in samples] if args.trace_python_heap else [],
    }
    run.report["soak"] = result
    print_soak(result, end - start)
    verify_soak(run, result, generators.logs)


def print_soak(result: dict[str, Any], elapsed: float) -> None:
    """The soak's rate, the workers' memory (and traced heap), dirty scopes and backlog, as measured."""
    memory = result["memory_slope_mib_per_hour"]
    drained = result["drain_seconds"]
    print(f"soak: {result['events']:,} events in {elapsed:.0f} s ({result['achieved']:.1f}/s of "
          f"{result['rate']:g} offered); backlog drained in {drained if drained is None else round(drained, 1)} s",
          flush=True)
    print("  worker RSS MiB idle " + ", ".join(f"{r:.0f}" for r in result["idle_rss_mib"]) + "; at the end " +
          ", ".join(f"{r:.0f}" for r in result["end_rss_mib"]) + "; slope " +
          ", ".join(f"{m:+.1f}" for m in memory) + " MiB/hour", flush=True)
    for index, traced in enumerate(result["python_heap"]):
        print(f"  worker {index + 1} traced Python heap MiB: first {traced['first_mib']}, last {traced['last_mib']}, "
              f"slope {traced['slope_mib_per_hour']:+.2f} MiB/hour over {traced['samples']} samples "
              f"(RSS slope {memory[index]:+.1f} MiB/hour in the same run)", flush=True)
    print(f"  dirty scopes: max {result['dirty_max']}, slope {result['dirty_slope_per_hour']:+.1f}/hour; backlog "
          f"slope {result['backlog_slope_per_hour']:+.1f}/hour "
          f"({'GROWING' if result['backlog_growing'] else 'not growing'})", flush=True)


def verify_soak(run: Run, result: dict[str, Any], logs: list[Path]) -> None:
    """After the soak: ``verify_analytics --all``, the comparison with a backfill, and (MariaDB) the row sizes."""
    verify = run_command(run.live, ["verify_analytics", "--all"], timeout=1800)
    result["verify_clean"] = verify.returncode == 0
    result["verify_output"] = verify.stdout[-4000:] + verify.stderr[-2000:]
    print(f"  verify_analytics --all: {'clean' if verify.returncode == 0 else 'DIFFERENCES'}", flush=True)
    if verify.returncode != 0:
        print(result["verify_output"], flush=True)
    compare_with_backfill(run, result, logs)
    if run.vendor == "mysql":
        result["row_sizes"] = table_sizes(run.live, FACT_TABLES)
        for table, size in result["row_sizes"].items():
            print(f"  {table}: {size['rows']:,} rows, {size['bytes_per_row']:.0f} bytes/row (data + indexes)")


def compare_with_backfill(run: Run, result: dict[str, Any], logs: list[Path]) -> None:
    """Backfill the generators' tracking logs and the LMS tables into fresh databases; compare every aggregate."""
    run.back.create()
    run.back.copy_lms_tables_from(run.live)
    inputs = [str(p) for p in logs if p.exists() and p.stat().st_size]
    with timed() as took:
        backfill = run_command(run.back, ["backfill_analytics", "--skip-checks", "--no-progress", "--from-lms",
                                          "--all", "--tracking-logs", *inputs], timeout=3600)
    result["backfill_seconds"] = took[0]
    if backfill.returncode != 0:
        raise RuntimeError(f"backfill_analytics failed:\n{backfill.stdout[-3000:]}\n{backfill.stderr[-3000:]}")
    comparison = compare_aggregates(run.live, run.back)
    result["comparison"] = comparison
    result["comparison_equal"] = all(not t["only_live"] and not t["only_backfill"] for t in comparison.values())
    print(f"  live aggregates vs a backfill of the same events (logs + --from-lms, {took[0]:.1f} s): "
          f"{'IDENTICAL' if result['comparison_equal'] else 'DIFFERENT'}", flush=True)
    for table, row in comparison.items():
        flag = "" if not row["only_live"] and not row["only_backfill"] else \
            f"  only live {row['only_live']}, only backfill {row['only_backfill']}: {row['examples']}"
        print(f"    {table}: {row['live']} rows live, {row['backfill']} from the backfill{flag}")


# ================================================================== row sizes


def rowsizes(run: Run) -> None:
    """MariaDB only: bytes per fact row and fact rows per event, from a backfill of a generated tracking log."""
    if run.vendor != "mysql":
        raise SystemExit("rowsizes measures InnoDB tables: run it with OA_TEST_DB=mysql")
    from bench.harness.tracking_log import COURSES, Generator

    log = run.work / f"tracking-{run.args.lines}.log"
    with open(log, "w", encoding="utf-8") as out:
        Generator(run.args.lines, run.args.seed, run.args.learners, run.args.days).run(out)
    run.live.create()
    lms_courses_in_child({**os.environ, **run.live.env()}, COURSES)
    with timed() as took:
        result = run_command(run.live, ["backfill_analytics", "--skip-checks", "--no-progress",
                                        "--tracking-logs", str(log)], timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"backfill_analytics failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    aggregates = [model._meta.db_table for model in aggregate_models()]
    sizes = table_sizes(run.live, FACT_TABLES + aggregates)
    bytes_total = sum(size["data_bytes"] + size["index_bytes"] for size in sizes.values())
    run.report["rowsizes"] = {"lines": run.args.lines, "log_bytes": log.stat().st_size, "backfill_seconds": took[0],
                              "tables": sizes, "bytes_per_line": bytes_total / run.args.lines}
    print(f"{run.args.lines:,} log lines ({log.stat().st_size / run.args.lines:.0f} bytes a line) backfilled in "
          f"{took[0]:.1f} s; analytics tables and indexes: {bytes_total / 2**20:.1f} MiB "
          f"= {bytes_total / run.args.lines:.0f} bytes per log line", flush=True)
    for table, size in sizes.items():
        per = size["bytes_per_row"]
        print(f"  {table}: {size['rows']:,} rows ({size['rows'] / run.args.lines:.3f} per line), "
              f"{'-' if math.isnan(per) else f'{per:.0f}'} bytes/row (data + indexes)", flush=True)


# ================================================================== command line


def parser() -> argparse.ArgumentParser:
    """The command line: five modes, their common options and their own."""
    main = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.splitlines()[0])
    modes = main.add_subparsers(dest="mode", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workers", type=int, nargs="+", default=[1], help="worker process counts (ramp: each)")
    common.add_argument("--generators", type=int, default=1, help="load generator processes")
    common.add_argument("--learners", type=int, default=5000)
    common.add_argument("--seed", type=int, default=42)
    common.add_argument("--queue", default="openedx_analytics_bench", help="OPENEDX_ANALYTICS_CELERY_QUEUE")
    common.add_argument("--prefix", help="MariaDB database prefix (default: $OA_MYSQL_PREFIX or oa_bench_live)")
    common.add_argument("--workdir", help="logs and files of the run (default: a new temporary directory)")
    common.add_argument("--drain-seconds", type=float, default=120.0, help="longest wait for the backlog to empty")
    common.add_argument("--sample-seconds", type=float, help="backlog sampling interval (default: 1 s, soak 10 s)")
    common.add_argument("--baseline-seconds", type=float, default=10.0, help="ramp: the generators' max-rate run")
    common.add_argument("--keep", action="store_true", help="keep the databases")
    common.add_argument("--json", help="write every figure to this file")

    ramp_mode = modes.add_parser("ramp", parents=[common], help="sustained rate per worker count")
    ramp_mode.add_argument("--rates", type=float, nargs="+", default=[25, 50, 100, 200, 400])
    ramp_mode.add_argument("--step-seconds", type=float, default=300.0)
    ramp_mode.add_argument("--keep-going", action="store_true", help="run every rate even after one grew")

    quiet_mode = modes.add_parser("quiet", parents=[common], help="emit-to-visible delay, one event at a time")
    quiet_mode.add_argument("--probes", type=int, default=30)
    quiet_mode.add_argument("--probe-interval", type=float, default=1.0, help="pause once a probe shows")
    quiet_mode.add_argument("--poll-seconds", type=float, default=0.05)
    quiet_mode.add_argument("--probe-timeout", type=float, default=120.0)
    quiet_mode.add_argument("--port", type=int, default=18510)
    quiet_mode.add_argument("--lms-worker", action="store_true",
                            help="run the worker with a Tutor LMS worker's options (--prefetch-multiplier=1 ...)")

    fresh_mode = modes.add_parser("freshness", parents=[common], help="emit-to-visible delay")
    fresh_mode.add_argument("--rate", type=float, default=50.0, help="events/s (half the sustained rate)")
    fresh_mode.add_argument("--probes", type=int, default=120)
    fresh_mode.add_argument("--baseline-probes", type=int, default=20)
    fresh_mode.add_argument("--probe-interval", type=float, default=1.0)
    fresh_mode.add_argument("--poll-seconds", type=float, default=0.2)
    fresh_mode.add_argument("--probe-timeout", type=float, default=120.0)
    fresh_mode.add_argument("--port", type=int, default=18510)

    soak_mode = modes.add_parser("soak", parents=[common], help="memory and backlog over a long run, then compare")
    soak_mode.add_argument("--rate", type=float, default=50.0)
    soak_mode.add_argument("--seconds", type=float, default=3600.0)
    soak_mode.add_argument("--trace-python-heap", action="store_true",
                           help="workers trace their Python heap (tracemalloc: slower) to tell a leak from RSS warm-up")

    sizes_mode = modes.add_parser("rowsizes", parents=[common], help="bytes per fact row (MariaDB)")
    sizes_mode.add_argument("--lines", type=int, default=200_000)
    sizes_mode.add_argument("--days", type=int, default=30, help="days the generated log spans")
    return main


def main(argv: list[str] | None = None) -> int:
    """Run one mode; exit status 1 when a soak's verify or comparison fails."""
    args = parser().parse_args(argv)
    if args.sample_seconds is None:
        args.sample_seconds = 10.0 if args.mode == "soak" else 1.0
    run = Run(args)
    succeeded = False
    try:
        {"ramp": ramp, "quiet": quiet, "freshness": freshness, "soak": soak, "rowsizes": rowsizes}[args.mode](run)
        succeeded = True
    finally:
        run.finish(succeeded)
    soaked = run.report.get("soak")
    return 1 if soaked and not (soaked["verify_clean"] and soaked["comparison_equal"]) else 0


if __name__ == "__main__":
    sys.exit(main())
