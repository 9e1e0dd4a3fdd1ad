"""The processes of a load-harness run: Celery workers, gunicorn, load generators; all stopped when the run ends.

Every process started here is registered and stopped (its whole process group: a Celery
worker's pool child too) when the run ends, fails or is interrupted. Each runs from the
repository root with its pair's environment (``DatabasePair.env``): the harness's settings,
the run's databases, broker and queue. The load generators are steered through a control
file and report through stats files (``write_json``/``read_json``: never half a file).
"""
from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.harness import PYTHON, ROOT
from bench.harness.live.databases import DatabasePair
from bench.harness.servers import TEST_HOST_APP, gunicorn_command


class Processes:
    """Every child process of the run; all stopped at exit, on error and on Ctrl-C or SIGTERM."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen]] = []
        atexit.register(self.stop_all)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._interrupted)

    def _interrupted(self, signum: int, _frame: Any) -> None:
        self.stop_all()
        raise SystemExit(128 + signum)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Start ``command`` in a process group of its own, output to ``<log_dir>/<name>.log``."""
        with open(self.log_dir / f"{name}.log", "ab") as log:
            process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.children.append((name, process))
        return process

    def stop(self, process: subprocess.Popen, grace: float = 20.0) -> None:
        """SIGTERM the process's group (a Celery worker finishes its task at hand), SIGKILL after ``grace`` s."""
        self.children = [(n, p) for n, p in self.children if p is not process]
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # a pool child left behind by its parent

    def stop_all(self) -> None:
        """Stop every child still running."""
        for _name, process in list(reversed(self.children)):
            self.stop(process)

    def log_tail(self, name: str, lines: int = 30) -> str:
        """The end of a child's log, to explain a failure."""
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


#: Worker options that keep a run's workers to its tasks: no gossip, mingle or heartbeat traffic.
QUIET_WORKER_OPTIONS = ("--without-gossip", "--without-mingle", "--without-heartbeat")
#: The options a Tutor LMS worker runs with: one message reserved at a time (with the tasks' late
#: acknowledgement, a delayed task held until due takes the slot), a fresh pool process every 100 tasks.
LMS_WORKER_OPTIONS = ("--prefetch-multiplier=1", "--max-tasks-per-child=100")


class Workers:
    """``celery -A lms_host worker`` processes (concurrency 1 each) consuming the analytics queue."""

    def __init__(self, processes: Processes, pair: DatabasePair, queue: str, heap_dir: Path | None = None,
                 as_the_lms: bool = False) -> None:
        self.processes = processes
        self.pair = pair
        self.queue = queue
        self.heap_dir = heap_dir  # set: the workers trace their Python heap and report it there (heap_probe)
        self.as_the_lms = as_the_lms  # the LMS's worker options (LMS_WORKER_OPTIONS) instead of the quiet ones
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, count: int) -> None:
        """Start ``count`` workers (``wait_ready`` waits for them: start the rest of the run meanwhile)."""
        for index in range(count):
            name = f"bench-live-{os.getpid()}-{index + 1}@localhost"
            command = [PYTHON, "-m", "celery", "-A", "lms_host", "worker", "-Q", self.queue, "--concurrency=1",
                       "--pool=prefork", "--loglevel=WARNING", "-n", name,
                       *(LMS_WORKER_OPTIONS if self.as_the_lms else QUIET_WORKER_OPTIONS)]
            env = self.pair.env()
            if self.heap_dir:
                env["OA_BENCH_HEAP_DIR"] = str(self.heap_dir)
            self.running.append((name, self.processes.start(f"worker-{index + 1}", command, env)))

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Wait until every worker answers a ping."""
        from lms_host.celery import app

        deadline = time.monotonic() + timeout
        for name, process in self.running:
            while not app.control.ping(destination=[name], timeout=0.5):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker {name} did not start:\n"
                                       f"{self.processes.log_tail('worker-' + name.split('-')[-1].split('@')[0])}")

    @staticmethod
    def _processes_of(process: subprocess.Popen) -> list[Any]:
        """The ``psutil`` processes of one worker: its main process and its pool child."""
        import psutil

        parent = psutil.Process(process.pid)
        return [parent, *parent.children(recursive=True)]

    def rss_mib(self) -> list[float]:
        """Resident memory of each worker (its main process and its pool child), MiB."""
        import psutil

        sizes = []
        for _name, process in self.running:
            try:
                rss = sum(p.memory_info().rss for p in self._processes_of(process))
            except psutil.Error:
                rss = 0
            sizes.append(rss / 2**20)
        return sizes

    def python_heap_mib(self) -> list[float | None]:
        """Traced Python heap of each worker (main process + pool child) as last reported, MiB.

        None for a worker whose processes have not all reported yet; an empty list when the
        heap is not traced.
        """
        import psutil

        if not self.heap_dir:
            return []
        sizes: list[float | None] = []
        for _name, process in self.running:
            try:
                sizes.append(sum(json.loads((self.heap_dir / f"{p.pid}.json").read_text())["traced_mib"]
                                 for p in self._processes_of(process)))
            except (psutil.Error, OSError, ValueError, KeyError):
                sizes.append(None)
        return sizes

    def stop(self) -> None:
        """Warm shutdown of every worker."""
        for _name, process in self.running:
            self.processes.stop(process)
        self.running = []


def serve_api(processes: Processes, pair: DatabasePair, port: int, timeout: float = 60.0) -> subprocess.Popen:
    """gunicorn (one sync worker) serving the test host, hence the REST API, on 127.0.0.1:``port``."""
    process = processes.start("gunicorn", gunicorn_command(port, TEST_HOST_APP), pair.env())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{processes.log_tail('gunicorn')}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/analytics/v1/courses/")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer")



# ------------------------------------------------------------------ load generators


class Generators:
    """Load-generator processes, steered through a control file (target rate, stop) and read through stats files."""

    def __init__(self, processes: Processes, pair: DatabasePair, work: Path, count: int, learners: int, seed: int,
                 max_seconds: float, tag: str) -> None:
        self.control = work / f"control-{tag}.json"
        self.stats = [work / f"stats-{tag}-{i}.json" for i in range(count)]
        self.logs = [work / f"tracking-{tag}-{i}.log" for i in range(count)]
        for path in (*self.stats, *self.logs):
            path.unlink(missing_ok=True)
        self.set_rate(0)
        self.children = []
        for index in range(count):
            command = [PYTHON, "-m", "bench.harness.live.generator", "--control", str(self.control),
                       "--stats", str(self.stats[index]), "--log", str(self.logs[index]), "--shard", str(index),
                       "--shards", str(count), "--learners", str(learners), "--seed", str(seed),
                       "--max-seconds", str(max_seconds)]
            self.children.append(processes.start(f"generator-{tag}-{index}", command, pair.env()))
        self.processes = processes
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until every generator has set up Django and reported (stats file written)."""
        deadline = time.monotonic() + timeout
        while not all(path.exists() for path in self.stats):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.children):
                raise RuntimeError("a load generator did not start:\n" + self.processes.log_tail(
                    f"generator-{self.control.stem.split('-', 1)[1]}-0"))
            time.sleep(0.1)

    def set_rate(self, rate: float, stop: bool = False) -> None:
        """Target events/s over all generators (``math.inf``: as fast as they can; 0: paused)."""
        shares = len(getattr(self, "stats", [None])) or 1
        write_json(self.control, {"rate": "max" if math.isinf(rate) else rate / shares, "stop": stop})

    def totals(self) -> tuple[int, int]:
        """(events, requests) emitted so far by all generators."""
        events = requests = 0
        for path in self.stats:
            stats = read_json(path) or {}
            events += stats.get("events", 0)
            requests += stats.get("requests", 0)
        return events, requests

    def stop(self, timeout: float = 60.0) -> tuple[int, int]:
        """Stop the generators (they flush their logs and report); the final (events, requests)."""
        self.set_rate(0, stop=True)
        deadline = time.monotonic() + timeout
        for process in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 1))
            self.processes.stop(process)
        return self.totals()


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically (readers never see half a file)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, default=str))
    os.replace(temporary, path)


def read_json(path: Path) -> Any:
    """``path``'s JSON, or None when it is not there yet."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
