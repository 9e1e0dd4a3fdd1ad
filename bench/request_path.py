"""Benchmark what the live doors add to an LMS request: latency over HTTP and our own time in-process.

Starts one gunicorn server (1 sync worker) per variant of the doors, all on the test host's
settings with a bench-only URL (``bench.harness.request_path``: settings, urls, views, wsgi),
Celery not eager, Redis as broker and no worker (messages pile up in a queue of the bench's
own, deleted at the end):

- ``off``: our tracking backend not configured and our receivers disconnected (the baseline);
- ``background``: the doors as shipped (events to the publisher thread);
- ``request_end``: the way before the publisher (each request's events published as one
  message on its own thread at its end, our backend under a RoutingBackend of its own);
- ``background, hung broker`` and ``request_end, hung broker``: the same against a local
  socket that accepts connections and never answers (default timeouts: 1 s + 1 s, 1 retry).

Each request of ``/bench/emit/<n>/`` emits n tracked events (``tracker.emit``, n = 1, 10, 100)
and one openedx-events signal. The client sends the requests one after another, in rounds
that alternate the variants (so the shared machine's load falls on all alike); gunicorn's
sync worker closes the connection after each response, so every request opens one (on
127.0.0.1, the same for every variant). Reported per variant and size: client latency p50
and p95, and from the server (perf_counter sums): the request's own time in the worker (WSGI
call to response close, ``request_finished`` included), the time of the emitting block, and
our code's time (our tracking backend's ``send``, our signal receiver, our
``request_started``/``request_finished`` handlers).

    .venv-lms/bin/pip install -r requirements/bench.txt   # gunicorn
    OA_BROKER_URL=redis://127.0.0.1:6379/12 .venv-lms/bin/python -m bench.request_path

``OA_BENCH_PORT_BASE`` (default 18200) is the first of the 10 ports it uses; ``OA_BENCH_ROUNDS``
(default 10) the rounds.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

from bench.harness import PYTHON, ROOT
from bench.harness.servers import gunicorn_command

SETTINGS = "bench.harness.request_path.settings"
APP = "bench.harness.request_path.wsgi:application"
BROKER = os.environ.get("OA_BROKER_URL", "redis://127.0.0.1:6379/12")
PORT_BASE = int(os.environ.get("OA_BENCH_PORT_BASE", "18200"))
ROUNDS = int(os.environ.get("OA_BENCH_ROUNDS", "10"))
SIZES = (1, 10, 100)
#: Requests per variant and size in each round.
BLOCK = {1: 150, 10: 150, 100: 50}
WARMUP = 30
HUNG_REQUESTS = {1: 300, 10: 300, 100: 100}
HUNG_REQUEST_END_REQUESTS = 3
QUEUE_PREFIX = "oa-bench-request-path"
SERVER_START_SECONDS = 60
HUNG_SERVER_SECONDS = 900


class Server:
    """One gunicorn (1 sync worker) serving the bench view with one variant of the doors."""

    def __init__(self, label: str, doors: str, port: int, broker: str, workdir: Path) -> None:
        self.label, self.doors, self.port = label, doors, port
        self.queue = f"{QUEUE_PREFIX}-{doors}-{port}"
        self.log = workdir / f"gunicorn-{port}.log"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "OA_BENCH_DOORS": doors,
               "OA_BENCH_QUEUE": self.queue, "OA_BROKER_URL": broker, "OA_RESULT_BACKEND": BROKER,
               "OA_CELERY_EAGER": "0", "OA_TEST_DB": "sqlite", "OA_SQLITE_DIR": str(workdir)}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(gunicorn_command(port, APP, "--worker-class", "sync"),
                                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def wait_ready(self) -> None:
        """Wait until the server answers (its timings read, hence reset), or fail with its log."""
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label}: gunicorn exited\n{self.log.read_text()[-2000:]}")
            try:
                self.stats()
                return
            except OSError:
                self.connection.close()
                time.sleep(0.2)
        raise RuntimeError(f"{self.label}: gunicorn did not start")

    def get(self, path: str) -> bytes:
        """GET ``path``; the body (anything but 200 fails the run)."""
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{self.label} {path}: HTTP {response.status}")
        return body

    def emit(self, count: int) -> float:
        """One request emitting ``count`` events; its latency in seconds as the client sees it."""
        started = time.perf_counter()
        self.get(f"/bench/emit/{count}/")
        return time.perf_counter() - started

    def stats(self) -> dict[str, float]:
        """The server's timing sums since the last call (which it then resets)."""
        return json.loads(self.get("/bench/stats/"))

    def log_count(self, word: str) -> int:
        """Lines of the server's log holding ``word``."""
        return sum(word in line for line in self.log.read_text(errors="replace").splitlines())

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 30 s)."""
        self.connection.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def hung_broker(port: int) -> tuple[socket.socket, threading.Event]:
    """A socket on ``port`` that accepts connections and never answers (until stopped, or for 15 minutes)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    server.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []
    deadline = time.monotonic() + HUNG_SERVER_SECONDS

    def serve() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                held.append(server.accept()[0])
            except (TimeoutError, OSError):
                continue
        for connection in held:
            connection.close()
        server.close()

    threading.Thread(target=serve, name="hung-broker", daemon=True).start()
    return server, stop


def migrate(workdir: Path) -> None:
    """The LMS tables the request may read (waffle's switches, for the pause switch) in a fresh SQLite file."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "OA_TEST_DB": "sqlite", "OA_SQLITE_DIR": str(workdir)}
    subprocess.run([PYTHON, "-c", "import django; django.setup(); from django.core.management import "
                    "call_command; call_command('migrate', database='default', verbosity=0)"],
                   cwd=ROOT, env=env, check=True)


def p95(samples: list[float]) -> float:
    """The 95th percentile of ``samples`` (nearest rank, rounding down)."""
    ordered = sorted(samples)
    return ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def per_request(stats: dict[str, float], key: str) -> float:
    """Microseconds of ``key`` per timed request."""
    return stats.get(key, 0.0) / max(stats.get("requests", 0.0), 1.0) * 1e6


def measure(servers: list[Server], count: int, rounds: int, block: int) -> dict[str, tuple[list[float], dict]]:
    """Latencies and server sums of ``rounds`` x ``block`` requests per server, the servers alternating."""
    for server in servers:
        for _ in range(WARMUP):
            server.emit(count)
        server.stats()  # reset
    latencies: dict[str, list[float]] = {s.label: [] for s in servers}
    for _ in range(rounds):
        for server in servers:
            latencies[server.label].extend(server.emit(count) for _ in range(block))
    return {s.label: (latencies[s.label], s.stats()) for s in servers}


def healthy_rows(healthy: list[Server], count: int, broker: redis.Redis) -> dict[str, dict[str, float]]:
    """Measure the healthy variants at ``count`` events a request; print and return a row per variant."""
    results = measure(healthy, count, ROUNDS, BLOCK[count])
    base_latency, base_stats = results[healthy[0].label]
    rows = {}
    for server in healthy:
        latency, stats = results[server.label]
        ours_doors = per_request(stats, "ours_tracking") + per_request(stats, "ours_signal")
        hooks = per_request(stats, "ours_hooks")
        row = {
            "p50": statistics.median(latency) * 1e3, "p95": p95(latency) * 1e3,
            "request": per_request(stats, "request"), "emit": per_request(stats, "emit"),
            "doors": ours_doors, "hooks": hooks,
        }
        row["d_p50"] = row["p50"] - statistics.median(base_latency) * 1e3
        row["d_p95"] = row["p95"] - p95(base_latency) * 1e3
        row["d_emit"] = row["emit"] - per_request(base_stats, "emit")
        rows[server.doors] = row
        ours = ours_doors + hooks
        print(f"{count:>4} {server.label:26} {row['p50']:7.2f} {row['p95']:7.2f} {row['d_p50']:8.3f} "
              f"{row['d_p95']:8.3f} {row['request']:8.0f} {row['emit']:8.0f} {row['d_emit']:9.1f} "
              f"{ours:8.1f} {hooks:9.1f} {ours_doors / (count + 1):9.2f} "
              f"{ours / row['request'] if server.doors != 'off' else 0:9.2%}", flush=True)
    for server in healthy:
        broker.delete(server.queue)
    return rows


def report_healthy(healthy: list[Server], broker: redis.Redis) -> None:
    """The healthy variants, each size, beside the doors-off baseline; then the fit of fixed and per-event cost."""
    print(f"{ROUNDS} rounds x {BLOCK} requests per variant and size, after {WARMUP} warm-up requests; "
          "each request: n tracker.emit + 1 openedx-events signal\n")
    header = (f"{'n':>4} {'variant':26} {'p50 ms':>7} {'p95 ms':>7} {'Δp50 ms':>8} {'Δp95 ms':>8} "
              f"{'req µs':>8} {'emit µs':>8} {'Δemit µs':>9} {'ours µs':>8} {'hooks µs':>9} "
              f"{'µs/event':>9} {'ours/req':>9}")
    print(header)
    summary: dict[tuple[str, int], dict[str, float]] = {}
    for count in SIZES:
        for doors, row in healthy_rows(healthy, count, broker).items():
            summary[(doors, count)] = row
    for doors in ("background", "request_end"):
        small, large = summary[(doors, 1)], summary[(doors, 100)]
        per_event = (large["doors"] - small["doors"]) / 99
        hooks = statistics.mean(summary[(doors, n)]["hooks"] for n in SIZES)
        print(f"\n{doors}: per tracked event (n=1 -> 100 slope of our doors' time) {per_event:.2f} µs; "
              f"fixed per request (our request hooks) {hooks:.1f} µs; "
              f"n=1 (1 tracker event + 1 signal + hooks) {small['doors'] + small['hooks']:.1f} µs")


def report_hung(hung_background: Server, hung_request_end: Server) -> None:
    """Both variants against the broker that never answers: latencies, and what the publisher logged."""
    print("\nhung broker (a socket that accepts and never answers; timeouts 1 s connect, 1 s send, 1 retry):")
    print(f"{'n':>4} {'variant':26} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req µs':>8}")
    for count in SIZES:
        latency, stats = measure([hung_background], count, 1, HUNG_REQUESTS[count])[hung_background.label]
        print(f"{count:>4} {hung_background.label:26} {len(latency):8} {statistics.median(latency) * 1e3:8.2f} "
              f"{p95(latency) * 1e3:8.2f} {max(latency) * 1e3:8.2f} {per_request(stats, 'request'):8.0f}")
    latency = [hung_request_end.emit(1) for _ in range(HUNG_REQUEST_END_REQUESTS)]
    time.sleep(0.5)
    print(f"{1:>4} {hung_request_end.label:26} {len(latency):8} {statistics.median(latency) * 1e3:8.2f} "
          f"{'':8} {max(latency) * 1e3:8.2f}")
    print(f"hung broker, background: the publisher logged {hung_background.log_count('LOST')} LOST and "
          f"{hung_background.log_count('DROPPED')} DROPPED lines (ERROR, with the backfill command)")


def main() -> None:
    """Start the five servers and the hung broker, measure, and stop everything whatever happens."""
    argparse.ArgumentParser(prog="python -m bench.request_path", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="oa-bench-request-path-"))
    hung_port = PORT_BASE + 9
    _hung_socket, hung_stop = hung_broker(hung_port)
    hung_url = f"redis://127.0.0.1:{hung_port}/0"
    servers: list[Server] = []
    broker = redis.Redis.from_url(BROKER)
    try:
        migrate(workdir)
        servers = [
            Server("off (no doors)", "off", PORT_BASE, BROKER, workdir),
            Server("background", "background", PORT_BASE + 1, BROKER, workdir),
            Server("request_end (before)", "request_end", PORT_BASE + 2, BROKER, workdir),
            Server("background, hung broker", "background", PORT_BASE + 3, hung_url, workdir),
            Server("request_end, hung broker", "request_end", PORT_BASE + 4, hung_url, workdir),
        ]
        for server in servers:
            server.wait_ready()
        print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; broker {BROKER}")
        report_healthy(servers[:3], broker)
        report_hung(servers[3], servers[4])
        print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        for server in servers:
            server.stop()
        for server in servers:
            broker.delete(server.queue, *broker.keys(f"_kombu.binding*.{server.queue}"))
        hung_stop.set()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
