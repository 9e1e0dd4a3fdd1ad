"""The live path under load: sustained rate (ramp), emit-to-visible freshness, and an hour's soak.

Drives the plugin only through its real doors (event-tracking ``tracker.emit`` and
openedx-events ``send_event`` inside simulated LMS requests, ``live_lms.py``), with real
``celery -A lms_host worker`` processes (concurrency 1 each) on Redis, and reads results only
through the REST API (gunicorn) and the databases. Fresh databases per run (MariaDB
``<prefix>_live_lms``/``_analytics`` and ``<prefix>_back_*``, or SQLite files), dropped at the end.

    ramp       rates rise in steps; per step: offered and achieved events/s, the backlog (queued
               messages + dirty scopes) over time and whether it grew; the highest rate held.
               Baseline: what the load generators emit with no worker at all (what this machine offers).
    freshness  at a rate, a probe enrolls a fresh learner (signal) and has a fresh learner play a fresh
               video, and polls the REST API until each shows; p50/p95/p99. Baseline: the same probes
               with no load.
    rowsizes   (MariaDB) bytes per fact and aggregate row, and rows per log line, from a backfill of a
               generated tracking log: what storage a day of events costs.
    soak       at a rate for a long time: workers' memory, dirty scopes and backlog sampled; then the
               backlog drained, verify_analytics, and the live aggregates compared row by row with a
               backfill (tracking logs + --from-lms) of the same events into fresh databases.

    OA_TEST_DB=mysql OA_MYSQL_PREFIX=oa_ld OA_BROKER_URL=redis://127.0.0.1:6379/15 \\
        .venv-lms/bin/python bench/bench_live.py ramp --workers 1 2 --rates 50 100 200 400 --step-seconds 300
    ... bench_live.py freshness --rate 100 --probes 120
    ... bench_live.py soak --rate 100 --seconds 3600

Everything is bounded in time and count, on 127.0.0.1 only; workers, gunicorn and generators
are stopped on exit and on Ctrl-C. ``--json FILE`` writes every figure.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import live_harness as h  # noqa: E402

PROBE_MODE = "probe"
STAFF = "bench_live_staff"


# ================================================================== child processes


def setup_django() -> None:
    """Django for a child process (its environment names the databases, broker and queue)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", h.SETTINGS)
    import django

    django.setup()


def generate_main(args: argparse.Namespace) -> None:
    """A load generator: simulated LMS requests at the control file's rate until told to stop."""
    setup_django()
    from live_lms import SimulatedLms, log_tracking_events_to

    handler = log_tracking_events_to(Path(args.log))
    lms = SimulatedLms(args.seed, args.learners, args.shard, args.shards)
    control, stats = Path(args.control), Path(args.stats)
    events = requests = 0
    rate: float = 0.0
    due = time.monotonic()
    deadline = time.monotonic() + args.max_seconds
    checked = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now - checked >= 0.2:
            checked = now
            wanted = h.read_json(control) or {"rate": 0, "stop": False}
            h.write_json(stats, {"events": events, "requests": requests})
            if wanted.get("stop"):
                break
            new_rate = math.inf if wanted["rate"] == "max" else float(wanted["rate"])
            if new_rate != rate:
                rate, due = new_rate, now
        if rate <= 0:
            time.sleep(0.05)
            continue
        if now < due:
            time.sleep(min(due - now, 0.05))
            continue
        emitted = lms.request()
        events += emitted
        requests += 1
        if not math.isinf(rate):
            due = max(due, now - 1.0) + emitted / rate  # at most one second of catching up
    handler.flush()
    h.write_json(stats, {"events": events, "requests": requests})


def probe_main(args: argparse.Namespace) -> None:
    """Freshness probe: emit distinguishable events, poll the REST API until each shows; write the delays."""
    setup_django()
    from django.contrib.auth import get_user_model
    from live_lms import SimulatedLms, emit, in_request, log_tracking_events_to, server_context

    from bench.harness.tracking_log import COURSES

    handler = log_tracking_events_to(Path(args.log))
    course = COURSES[0]
    api = ApiClient(args.port, args.session)
    lms = SimulatedLms(args.seed, 1)
    base = api.probe_enrollments(course)
    first_user = args.first_user
    pending: dict[int, tuple[str, float, Any]] = {}  # probe -> (kind, emitted at, what shows it)
    results: list[dict[str, Any]] = []
    enrolled = 0
    next_probe = time.monotonic()
    index = 0
    deadline = time.monotonic() + args.probes * args.interval + args.timeout + 30
    while (index < args.probes or pending) and time.monotonic() < deadline:
        now = time.monotonic()
        if index < args.probes and now >= next_probe:
            user = first_user + index
            get_user_model().objects.using("default").create(id=user, username=f"probe{user}")
            start = time.monotonic()
            if index % 2 == 0:
                in_request(lambda u=user: lms.enroll(u, course, PROBE_MODE))
                enrolled += 1
                pending[index] = ("enrollment", start, base + enrolled)
            else:
                video = f"probe{args.tag}v{index}"
                context = {**server_context(user, course, "/event"), "event_source": "browser",
                           "page": f"https://lms.example.org/courses/{course}/courseware/w1/s1/"}
                payload = {"id": video, "code": "html5", "duration": 60.0}

                def play(c: dict = context, p: dict = payload) -> int:
                    emit("play_video", {**p, "currentTime": 0.0}, c)
                    emit("pause_video", {**p, "currentTime": 12.0}, c)
                    return 2

                in_request(play)
                pending[index] = ("video", start, video)
            index += 1
            next_probe = start + args.interval
        if pending:
            count, videos = api.probe_enrollments(course), None
            seen = time.monotonic()
            for probe, (kind, start, expected) in list(pending.items()):
                if kind == "video":
                    videos = api.video_ids(course) if videos is None else videos
                    visible = any(v == expected or v.endswith("@" + expected) for v in videos)
                else:
                    visible = count >= expected
                if visible or seen - start > args.timeout:
                    results.append({"kind": kind, "seconds": seen - start, "visible": visible})
                    del pending[probe]
        time.sleep(args.poll)
    handler.flush()
    h.write_json(Path(args.out), {"probes": results, "poll_ms": api.round_trips_ms})


class ApiClient:
    """Keep-alive HTTP client of the REST API with a course-staff session, as the page's browser would be."""

    def __init__(self, port: int, session_key: str) -> None:
        self.port = port
        self.headers = {"Cookie": f"sessionid={session_key}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.round_trips_ms: list[float] = []

    def get(self, path: str) -> Any:
        """GET ``path`` (JSON), timing the round trip."""
        start = time.perf_counter()
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
        except (OSError, http.client.HTTPException):
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
        body = response.read()
        self.round_trips_ms.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        return json.loads(body)

    def probe_enrollments(self, course: str) -> int:
        """Learners enrolled in the probe's mode, as ``summary/`` says."""
        summary = self.get(f"/api/analytics/v1/courses/{course}/summary/")
        return int((summary.get("enrollment_modes") or {}).get(PROBE_MODE, {}).get("count", 0))

    def video_ids(self, course: str) -> list[str]:
        """The course's video ids, as ``videos/`` lists them."""
        return [row["video_id"] for row in self.get(f"/api/analytics/v1/courses/{course}/videos/")]


# ================================================================== the run


class Run:
    """One invocation: its databases, broker queue, work directory and child processes."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.vendor = os.environ.get("OA_TEST_DB", "sqlite")
        self.broker = h.local_only(os.environ.get("OA_BROKER_URL", "redis://127.0.0.1:6379/15"))
        os.environ["OA_BROKER_URL"] = self.broker
        os.environ["OA_LIVE_QUEUE"] = args.queue
        self.own_work = not args.workdir  # a temporary directory of ours: removed after a run that succeeded
        self.work = Path(args.workdir or tempfile.mkdtemp(prefix="oa-bench-live-"))
        self.work.mkdir(parents=True, exist_ok=True)
        prefix = args.prefix or os.environ.get("OA_MYSQL_PREFIX", "oa_bench_live")
        if self.vendor == "mysql":
            self.live = h.DatabasePair("mysql", f"{prefix}_live")
            self.back = h.DatabasePair("mysql", f"{prefix}_back")
        else:
            self.live = h.DatabasePair("sqlite", str(self.work / "live"))
            self.back = h.DatabasePair("sqlite", str(self.work / "back"))
        os.environ.update(self.live.env())
        sys.path[:0] = [str(h.ROOT), str(h.BENCH)]
        setup_django()
        self.processes = h.Processes(self.work)
        self.backlog = h.Backlog(self.broker, args.queue)
        self.report: dict[str, Any] = {"mode": args.mode, "database": self.vendor, "load_average": [],
                                       "workdir": str(self.work)}
        self.note_load("start")

    def note_load(self, when: str) -> None:
        """Record (and print) the load average: the machine is shared."""
        one, five, fifteen = os.getloadavg()
        self.report["load_average"].append({"when": when, "1m": one, "5m": five, "15m": fifteen})
        print(f"[{when}] load average {one:.2f} {five:.2f} {fifteen:.2f}", flush=True)

    def fresh_live(self) -> str:
        """Fresh live databases with the LMS's learners, courses, a course-staff user and the rollout on.
        Returns the staff user's session key."""
        from django.db import connections

        connections.close_all()
        self.backlog.purge()
        self.live.create()
        return seed_lms(self.args.learners)

    def generators(self, tag: str, max_seconds: float) -> h.Generators:
        """Start the load generators (paused)."""
        return h.Generators(self.processes, self.live, self.work, self.args.generators, self.args.learners,
                            self.args.seed, max_seconds, tag)

    def offered_baseline(self) -> float:
        """Events/s the generators emit through the doors with no worker (what the load machine can offer)."""
        self.fresh_live()
        generators = self.generators("baseline", self.args.baseline_seconds + 120)
        start_events, _ = generators.totals()
        generators.set_rate(math.inf)
        start = time.monotonic()
        time.sleep(self.args.baseline_seconds)
        events, _ = generators.totals()
        elapsed = time.monotonic() - start
        generators.stop()
        self.backlog.purge()
        for path in generators.logs:
            path.unlink(missing_ok=True)
        rate = (events - start_events) / elapsed
        print(f"baseline: the generators emit {rate:,.0f} events/s through the doors with no worker", flush=True)
        self.report["baseline_max_emit_events_per_s"] = rate
        return rate

    def finish(self, succeeded: bool) -> None:
        """Stop everything, drop the databases, write the report; remove our work directory unless it can
        explain a failure."""
        self.processes.stop_all()
        try:
            self.backlog.purge()
        except Exception as exc:  # noqa: BLE001 - cleanup goes on
            print(f"could not purge the queue: {exc}", file=sys.stderr)
        from django.db import connections

        connections.close_all()
        if not self.args.keep:
            self.live.drop()
            self.back.drop()
        self.note_load("end")
        if self.args.json:
            h.write_json(Path(self.args.json), self.report)
        if self.own_work and succeeded and not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        elif not succeeded:
            print(f"logs of the run: {self.work}", file=sys.stderr)


def seed_lms(learners: int) -> str:
    """The LMS's side: learners 1..``learners``, the courses, a staff user of every course; the rollout flag on
    for everyone and the API throttle out of the way. Returns the staff user's session key."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from opaque_keys.edx.keys import CourseKey
    from waffle.models import Flag

    from bench.harness.tracking_log import COURSES
    from lms_host.stub.models import CourseAccessRole, CourseOverview
    from openedx_analytics.lms.rollout import FLAG_NAME
    from openedx_analytics.models import AnalyticsConfiguration

    user_model = get_user_model()
    user_model.objects.using("default").bulk_create(
        [user_model(id=i, username=f"learner{i}") for i in range(1, learners + 1)], batch_size=2000)
    staff = user_model.objects.db_manager("default").create_user(STAFF, id=learners + 1)
    for course in COURSES:
        key = CourseKey.from_string(course)
        CourseOverview.objects.using("default").create(id=key, display_name=course, org=key.org)
        CourseAccessRole.objects.using("default").create(user=staff, org=key.org, course_id=key, role="staff")
    Flag.objects.using("default").create(name=FLAG_NAME, everyone=True)
    AnalyticsConfiguration.objects.using("default").create(enabled=True, api_throttle_rate="1000000/minute")
    store = SessionStore()
    store["_auth_user_id"] = str(staff.pk)
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store["_auth_user_hash"] = staff.get_session_auth_hash()
    store.create()
    return store.session_key


# ================================================================== ramp


def ramp(run: Run) -> None:
    """Rates rise in steps, per worker count; each step starts from an empty backlog."""
    args = run.args
    offered_max = run.offered_baseline()
    run.report["ramp"] = {}
    for count in args.workers:
        run.fresh_live()
        workers = h.Workers(run.processes, run.live, args.queue)
        workers.start(count)
        budget = len(args.rates) * (args.step_seconds + args.drain_seconds) + 300
        generators = run.generators(f"ramp{count}", budget)
        workers.wait_ready()
        steps = []
        with h.Sampler(run.backlog, None, args.sample_seconds) as sampler:
            for rate in args.rates:
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
                line = h.trend([(s.t - start, s.backlog) for s in samples])
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
    workers = h.Workers(run.processes, run.live, args.queue)
    workers.start(args.workers[0])
    generators = run.generators("freshness", args.probes * args.probe_interval + args.baseline_probes * 5 + 600)
    h.serve_api(run.processes, run.live, args.port)
    workers.wait_ready()
    first_user = args.learners + 1000
    idle = probe(run, session, args.baseline_probes, first_user, "idle")
    generators.set_rate(args.rate)
    time.sleep(min(10.0, args.probe_interval * 5))
    with h.Sampler(run.backlog, None, args.sample_seconds) as sampler:
        start = time.monotonic()
        loaded = probe(run, session, args.probes, first_user + args.baseline_probes, "load")
    events, _ = generators.stop()
    workers.stop()
    line = h.trend([(s.t - start, s.backlog) for s in sampler.samples if s.t >= start])
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


def probe(run: Run, session: str, probes: int, first_user: int, tag: str) -> dict[str, Any]:
    """Run the probe process for ``probes`` probes; summarize its delays per kind and overall."""
    args = run.args
    out = run.work / f"probe-{tag}.json"
    command = [h.PYTHON, str(h.BENCH / "bench_live.py"), "_probe", "--port", str(args.port), "--session", session,
               "--probes", str(probes), "--interval", str(args.probe_interval), "--poll", str(args.poll_seconds),
               "--timeout", str(args.probe_timeout), "--first-user", str(first_user), "--tag", tag,
               "--log", str(run.work / f"tracking-probe-{tag}.log"), "--out", str(out), "--seed", str(args.seed)]
    process = run.processes.start(f"probe-{tag}", command, run.live.env())
    process.wait(timeout=probes * args.probe_interval + args.probe_timeout + 120)
    data = h.read_json(out)
    if process.returncode != 0 or data is None:
        raise RuntimeError(f"the probe failed:\n{run.processes.log_tail('probe-' + tag)}")
    kinds: dict[str, Any] = {}
    for kind in ("enrollment", "video", "all"):
        rows = [p for p in data["probes"] if kind in ("all", p["kind"])]
        seconds = [p["seconds"] for p in rows if p["visible"]]
        kinds[kind] = {"n": len(rows), "not_visible": sum(not p["visible"] for p in rows),
                       "p50": h.percentile(seconds, 50), "p95": h.percentile(seconds, 95),
                       "p99": h.percentile(seconds, 99), "max": max(seconds, default=math.nan)}
    return {"kinds": kinds, "poll_ms_p50": h.percentile(data["poll_ms"], 50)}


# ================================================================== soak


def soak(run: Run) -> None:
    """A long run at one rate; memory, dirty scopes and backlog over time; then verify and compare with a backfill."""
    args = run.args
    run.fresh_live()
    workers = h.Workers(run.processes, run.live, args.queue,
                        heap_dir=run.work / "python-heap" if args.trace_python_heap else None)
    workers.start(args.workers[0])
    generators = run.generators("soak", args.seconds + 300)
    workers.wait_ready()
    idle_rss = workers.rss_mib()
    with h.Sampler(run.backlog, workers, args.sample_seconds) as sampler:
        generators.set_rate(args.rate)
        start = time.monotonic()
        time.sleep(args.seconds)
        end = time.monotonic()
        events, requests = generators.stop()
        drained = run.backlog.wait_drained(args.drain_seconds)
    samples = sampler.between(start + min(60.0, args.seconds * 0.1), end)
    hours = [(s.t - start) / 3600 for s in samples]
    memory = [h.trend(list(zip(hours, [s.rss_mib[i] for s in samples], strict=True))).slope
              for i in range(len(idle_rss))]
    heap = [python_heap_trend(hours, [s.heap_mib[i] if s.heap_mib else None for s in samples])
            for i in range(len(idle_rss))] if args.trace_python_heap else []
    dirty = h.trend(list(zip(hours, [s.dirty for s in samples], strict=True)))
    backlog = h.trend(list(zip(hours, [s.backlog for s in samples], strict=True)))
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
    print(f"soak: {events:,} events in {end - start:.0f} s ({result['achieved']:.1f}/s of {args.rate:g} offered); "
          f"backlog drained in {drained if drained is None else round(drained, 1)} s", flush=True)
    print("  worker RSS MiB idle " + ", ".join(f"{r:.0f}" for r in idle_rss) + "; at the end " +
          ", ".join(f"{r:.0f}" for r in result["end_rss_mib"]) + "; slope " +
          ", ".join(f"{m:+.1f}" for m in memory) + " MiB/hour", flush=True)
    for index, traced in enumerate(heap):
        print(f"  worker {index + 1} traced Python heap MiB: first {traced['first_mib']}, last {traced['last_mib']}, "
              f"slope {traced['slope_mib_per_hour']:+.2f} MiB/hour over {traced['samples']} samples "
              f"(RSS slope {memory[index]:+.1f} MiB/hour in the same run)", flush=True)
    print(f"  dirty scopes: max {result['dirty_max']}, slope {dirty.slope:+.1f}/hour; backlog slope "
          f"{backlog.slope:+.1f}/hour ({'GROWING' if result['backlog_growing'] else 'not growing'})", flush=True)
    verify = h.run_command(run.live, ["verify_analytics", "--all"], timeout=1800)
    result["verify_clean"] = verify.returncode == 0
    result["verify_output"] = verify.stdout[-4000:] + verify.stderr[-2000:]
    print(f"  verify_analytics --all: {'clean' if verify.returncode == 0 else 'DIFFERENCES'}", flush=True)
    if verify.returncode != 0:
        print(result["verify_output"], flush=True)
    compare_with_backfill(run, result, generators.logs)
    if run.vendor == "mysql":
        result["row_sizes"] = h.table_sizes(run.live, FACT_TABLES)
        for table, size in result["row_sizes"].items():
            print(f"  {table}: {size['rows']:,} rows, {size['bytes_per_row']:.0f} bytes/row (data + indexes)")


def python_heap_trend(hours: list[float], sizes: list[float | None]) -> dict[str, Any]:
    """First, last and fitted slope of one worker's traced Python heap (samples it had not reported yet left out)."""
    points = [(t, size) for t, size in zip(hours, sizes, strict=True) if size is not None]
    return {"samples": len(points), "first_mib": round(points[0][1], 2) if points else None,
            "last_mib": round(points[-1][1], 2) if points else None,
            "slope_mib_per_hour": h.trend(points).slope if len(points) >= 2 else math.nan}


def compare_with_backfill(run: Run, result: dict[str, Any], logs: list[Path]) -> None:
    """Backfill the generators' tracking logs and the LMS tables into fresh databases; compare every aggregate."""
    run.back.create()
    run.back.copy_lms_tables_from(run.live)
    inputs = [str(p) for p in logs if p.exists() and p.stat().st_size]
    with h.timed() as took:
        backfill = h.run_command(run.back, ["backfill_analytics", "--skip-checks", "--no-progress", "--from-lms",
                                            "--all", "--tracking-logs", *inputs], timeout=3600)
    result["backfill_seconds"] = took[0]
    if backfill.returncode != 0:
        raise RuntimeError(f"backfill_analytics failed:\n{backfill.stdout[-3000:]}\n{backfill.stderr[-3000:]}")
    comparison = h.compare_aggregates(run.live, run.back)
    result["comparison"] = comparison
    result["comparison_equal"] = all(not t["only_live"] and not t["only_backfill"] for t in comparison.values())
    print(f"  live aggregates vs a backfill of the same events (logs + --from-lms, {took[0]:.1f} s): "
          f"{'IDENTICAL' if result['comparison_equal'] else 'DIFFERENT'}", flush=True)
    for table, row in comparison.items():
        flag = "" if not row["only_live"] and not row["only_backfill"] else \
            f"  only live {row['only_live']}, only backfill {row['only_backfill']}: {row['examples']}"
        print(f"    {table}: {row['live']} rows live, {row['backfill']} from the backfill{flag}")


# ================================================================== row sizes


FACT_TABLES = ["openedx_analytics_" + name for name in (
    "videoeventfact", "activityfact", "problemsubmissionfact", "enrollmentfact", "gradefact", "passingfact",
    "certificatefact", "videoviewer", "problemlearner", "gradelearner")]


def rowsizes(run: Run) -> None:
    """MariaDB only: bytes per fact row and fact rows per event, from a backfill of a generated tracking log."""
    if run.vendor != "mysql":
        raise SystemExit("rowsizes measures InnoDB tables: run it with OA_TEST_DB=mysql")
    from bench.harness.tracking_log import Generator

    log = run.work / f"tracking-{run.args.lines}.log"
    with open(log, "w", encoding="utf-8") as out:
        Generator(run.args.lines, run.args.seed, run.args.learners, run.args.days).run(out)
    run.live.create()
    with h.timed() as took:
        result = h.run_command(run.live, ["backfill_analytics", "--skip-checks", "--no-progress",
                                          "--tracking-logs", str(log)], timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"backfill_analytics failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    aggregates = [model._meta.db_table for model in h.aggregate_models()]
    sizes = h.table_sizes(run.live, FACT_TABLES + aggregates)
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
    """The command line: three modes and two internal child roles."""
    main = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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

    generate = modes.add_parser("_generate")
    for name in ("--control", "--stats", "--log"):
        generate.add_argument(name, required=True)
    for name in ("--shard", "--shards", "--learners", "--seed"):
        generate.add_argument(name, type=int, required=True)
    generate.add_argument("--max-seconds", type=float, required=True)

    probe_role = modes.add_parser("_probe")
    for name in ("--session", "--tag", "--log", "--out"):
        probe_role.add_argument(name, required=True)
    for name in ("--port", "--probes", "--first-user", "--seed"):
        probe_role.add_argument(name, type=int, required=True)
    for name in ("--interval", "--poll", "--timeout"):
        probe_role.add_argument(name, type=float, required=True)
    return main


def main(argv: list[str] | None = None) -> int:
    """Run one mode; exit status 1 when a soak's verify or comparison fails."""
    args = parser().parse_args(argv)
    if args.mode == "_generate":
        generate_main(args)
        return 0
    if args.mode == "_probe":
        probe_main(args)
        return 0
    if args.sample_seconds is None:
        args.sample_seconds = 10.0 if args.mode == "soak" else 1.0
    run = Run(args)
    succeeded = False
    try:
        {"ramp": ramp, "freshness": freshness, "soak": soak, "rowsizes": rowsizes}[args.mode](run)
        succeeded = True
    finally:
        run.finish(succeeded)
    soaked = run.report.get("soak")
    return 1 if soaked and not (soaked["verify_clean"] and soaked["comparison_equal"]) else 0


if __name__ == "__main__":
    sys.exit(main())
