"""What bench_live.py runs on: fresh databases, the processes of a run, backlog samples, trends, table comparison.

Every process started here is registered and stopped (its whole process group: a Celery
worker's pool child too) when the run ends, fails or is interrupted. Only 127.0.0.1 is used.
"""
from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
SETTINGS = "live_settings"
#: The LMS tables ``backfill_analytics --from-lms`` reads (and the users and courses they point at).
LMS_TABLES = ("auth_user", "lms_stub_courseoverview", "lms_stub_courseenrollment",
              "lms_stub_historicalcourseenrollment", "lms_stub_persistentcoursegrade",
              "lms_stub_generatedcertificate")
#: kombu's Redis transport keeps a queue's messages in a list per priority band.
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def local_only(url: str) -> str:
    """``url`` itself, if it points at 127.0.0.1 (or localhost); the harness talks to nothing else."""
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"bench_live: {url} is not on 127.0.0.1; refusing to run")
    return url


# ------------------------------------------------------------------ databases


@dataclass
class DatabasePair:
    """The two databases of one LMS + analytics pair (MariaDB ``<prefix>_lms``/``_analytics``, or SQLite files)."""

    vendor: str  # "mysql" or "sqlite"
    prefix: str  # MariaDB: database name prefix; SQLite: a directory
    host: str = "127.0.0.1"

    def env(self) -> dict[str, str]:
        """Environment of a process that should open this pair with ``live_settings``."""
        env = {"DJANGO_SETTINGS_MODULE": SETTINGS, "OA_TEST_DB": self.vendor, "OA_CELERY_EAGER": "0",
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)])}
        env.pop("OA_USE_TEST_DB_NAMES", None)
        if self.vendor == "mysql":
            env["OA_MYSQL_PREFIX"] = self.prefix
        else:
            env["OA_SQLITE_DIR"] = self.prefix
        return env

    def names(self) -> tuple[str, str]:
        """MariaDB database names, or SQLite file paths, of (lms, analytics)."""
        if self.vendor == "mysql":
            return f"{self.prefix}_lms", f"{self.prefix}_analytics"
        return str(Path(self.prefix) / "lms.sqlite3"), str(Path(self.prefix) / "analytics.sqlite3")

    def connect(self, which: int) -> Any:
        """A DB-API connection to the lms (0) or analytics (1) database, outside Django."""
        name = self.names()[which]
        if self.vendor == "mysql":
            import MySQLdb

            return MySQLdb.connect(host=self.host, user=os.environ.get("OA_MYSQL_USER", "root"),
                                   passwd=os.environ.get("OA_MYSQL_PASSWORD", ""), db=name, charset="utf8mb4")
        import sqlite3

        return sqlite3.connect(name, timeout=30)

    def _server(self) -> Any:
        """A connection to the MariaDB server itself (no database), to create and drop this run's."""
        import MySQLdb

        return MySQLdb.connect(host=self.host, user=os.environ.get("OA_MYSQL_USER", "root"),
                               passwd=os.environ.get("OA_MYSQL_PASSWORD", ""))

    def drop(self) -> None:
        """Remove both databases (only names this run made)."""
        if self.vendor == "mysql":
            conn = self._server()
            for name in self.names():
                conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
            conn.close()
        else:
            shutil.rmtree(self.prefix, ignore_errors=True)

    def create(self) -> None:
        """Fresh, empty, migrated databases."""
        self.drop()
        if self.vendor == "mysql":
            conn = self._server()
            for name in self.names():
                conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            conn.close()
        else:
            Path(self.prefix).mkdir(parents=True)
        migrate = ("import django; django.setup(); from django.core.management import call_command\n"
                   "for alias in ('default', 'analytics'):\n"
                   "    call_command('migrate', database=alias, verbosity=0, skip_checks=True)")
        subprocess.run([PYTHON, "-c", migrate], cwd=ROOT, env={**os.environ, **self.env()}, timeout=300, check=True)

    def copy_lms_tables_from(self, source: DatabasePair) -> None:
        """Copy the LMS tables ``--from-lms`` reads from ``source``'s LMS database into this one's."""
        conn = self.connect(0)
        cursor = conn.cursor()
        if self.vendor == "mysql":
            for table in LMS_TABLES:
                cursor.execute(f"INSERT INTO `{table}` SELECT * FROM `{source.names()[0]}`.`{table}`")
        else:
            cursor.execute("ATTACH DATABASE ? AS source", (source.names()[0],))
            for table in LMS_TABLES:
                cursor.execute(f'INSERT INTO "{table}" SELECT * FROM source."{table}"')
        conn.commit()
        conn.close()


def run_command(pair: DatabasePair, arguments: list[str], timeout: float) -> subprocess.CompletedProcess:
    """``python -m django <arguments>`` on ``pair`` (a bounded child process); its output captured."""
    return subprocess.run([PYTHON, "-m", "django", *arguments], cwd=ROOT, env={**os.environ, **pair.env()},
                          capture_output=True, text=True, timeout=timeout, check=False)


# ------------------------------------------------------------------ processes


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


class Workers:
    """``celery -A lms_host worker`` processes (concurrency 1 each) consuming the analytics queue."""

    def __init__(self, processes: Processes, pair: DatabasePair, queue: str, heap_dir: Path | None = None) -> None:
        self.processes = processes
        self.pair = pair
        self.queue = queue
        self.heap_dir = heap_dir  # set: the workers trace their Python heap and report it there (heap_probe)
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, count: int) -> None:
        """Start ``count`` workers (``wait_ready`` waits for them: start the rest of the run meanwhile)."""
        for index in range(count):
            name = f"bench-live-{os.getpid()}-{index + 1}@localhost"
            command = [PYTHON, "-m", "celery", "-A", "lms_host", "worker", "-Q", self.queue, "--concurrency=1",
                       "--pool=prefork", "--loglevel=WARNING", "-n", name, "--without-gossip", "--without-mingle",
                       "--without-heartbeat"]
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
    gunicorn = str(Path(PYTHON).parent / "gunicorn")
    process = processes.start("gunicorn", [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                           "--log-level", "warning", "django.core.wsgi:get_wsgi_application()"],
                              pair.env())
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
            command = [PYTHON, str(BENCH / "bench_live.py"), "_generate", "--control", str(self.control),
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


# ------------------------------------------------------------------ backlog


class Backlog:
    """The live path's backlog: messages waiting in (or reserved from) the analytics queue, and dirty scopes."""

    def __init__(self, broker_url: str, queue: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(broker_url, socket_connect_timeout=5, socket_timeout=10)
        self.queue = queue

    def messages(self) -> int:
        """Messages in the queue's lists, plus those workers reserved and have not acknowledged yet."""
        waiting = sum(self.redis.llen(self.queue + suffix) for suffix in PRIORITY_SUFFIXES)
        reserved = 0
        for raw in self.redis.hvals("unacked"):
            with contextlib.suppress(ValueError, IndexError, TypeError):
                reserved += json.loads(raw)[2] == self.queue
        return waiting + reserved

    def purge(self) -> None:
        """Delete the queue's waiting messages (only this queue's keys)."""
        self.redis.delete(*(self.queue + suffix for suffix in PRIORITY_SUFFIXES))

    @staticmethod
    def dirty_scopes() -> int:
        """DirtyScope rows in the analytics database."""
        from openedx_analytics import conf
        from openedx_analytics.models import DirtyScope

        return DirtyScope.objects.using(conf.analytics_db()).count()

    def sample(self) -> tuple[int, int]:
        """(messages, dirty scopes) now."""
        return self.messages(), self.dirty_scopes()

    def wait_drained(self, timeout: float, settle: float = 1.0) -> float | None:
        """Seconds until messages and dirty scopes are both 0 (for ``settle`` s), or None after ``timeout``."""
        start = time.monotonic()
        empty_since = None
        while time.monotonic() - start < timeout:
            if sum(self.sample()) == 0:
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since >= settle:
                    return empty_since - start
            else:
                empty_since = None
            time.sleep(0.25)
        return None


@dataclass
class Sample:
    """One observation of the running system."""

    t: float
    messages: int
    dirty: int
    rss_mib: list[float] = field(default_factory=list)
    heap_mib: list[float | None] = field(default_factory=list)  # traced Python heap (soak --trace-python-heap)

    @property
    def backlog(self) -> int:
        """Messages plus dirty scopes."""
        return self.messages + self.dirty


class Sampler:
    """A thread sampling the backlog (and the workers' memory) every ``every`` seconds."""

    def __init__(self, backlog: Backlog, workers: Workers | None, every: float) -> None:
        self.backlog = backlog
        self.workers = workers
        self.every = every
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        from django.db import connections

        try:
            while True:
                messages, dirty = self.backlog.sample()
                rss = self.workers.rss_mib() if self.workers else []
                heap = self.workers.python_heap_mib() if self.workers else []
                self.samples.append(Sample(time.monotonic(), messages, dirty, rss, heap))
                if self._stop.wait(self.every):
                    break
        finally:
            connections.close_all()

    def between(self, start: float, end: float) -> list[Sample]:
        """The samples taken from ``start`` to ``end`` (monotonic seconds)."""
        return [s for s in self.samples if start <= s.t <= end]


# ------------------------------------------------------------------ statistics


@dataclass
class Trend:
    """A least-squares line through (seconds, value) points."""

    slope: float  # per second
    stderr: float
    first: float  # fitted value at the first point
    last: float  # fitted value at the last point
    points: int

    def growing(self, floor: float = 20.0) -> bool:
        """Growing: slope positive at 3 standard errors, and the fitted rise over the span above ``floor`` and
        above half the fitted start (a backlog that keeps a steady level, however high, is not growing)."""
        rise = self.last - self.first
        return self.points >= 3 and self.slope > 3 * self.stderr and rise > max(floor, 0.5 * max(self.first, 0))


def trend(points: list[tuple[float, float]]) -> Trend:
    """The least-squares line through ``points``."""
    n = len(points)
    if n < 2:
        value = points[0][1] if points else 0.0
        return Trend(0.0, math.inf, value, value, n)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return Trend(0.0, math.inf, mean_y, mean_y, n)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - intercept - slope * x) ** 2 for x, y in points)
    stderr = math.sqrt(residual / (n - 2) / sxx) if n > 2 else math.inf
    xs = [x for x, _ in points]
    return Trend(slope, stderr, intercept + slope * min(xs), intercept + slope * max(xs), n)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` percentile (0-100) of ``values``, nearest rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


# ------------------------------------------------------------------ aggregate comparison


def aggregate_models() -> list[Any]:
    """Every aggregate model (``models/aggregates.py``): what the API and the page read."""
    from django.apps import apps

    return [model for model in apps.get_app_config("openedx_analytics").get_models()
            if model.__module__.endswith(".aggregates")]


def _normalized(value: Any, is_json: bool) -> Any:
    if is_json and isinstance(value, (str, bytes)):
        value = json.loads(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return int(value)
    return str(value) if value is not None and not isinstance(value, (int, str)) else value


def table_rows(pair: DatabasePair, model: Any) -> Counter:
    """Every row of ``model``'s table in ``pair``'s analytics database, without ids and recompute times."""
    from django.db import models

    fields = [f for f in model._meta.concrete_fields
              if not f.primary_key and not isinstance(f, models.DateTimeField)]
    conn = pair.connect(1)
    cursor = conn.cursor()
    quote = "`" if pair.vendor == "mysql" else '"'
    columns = ", ".join(f"{quote}{f.column}{quote}" for f in fields)
    cursor.execute(f"SELECT {columns} FROM {quote}{model._meta.db_table}{quote}")
    json_fields = [isinstance(f, models.JSONField) for f in fields]
    rows = Counter(tuple(_normalized(v, j) for v, j in zip(row, json_fields, strict=True))
                   for row in cursor.fetchall())
    conn.close()
    return rows


def compare_aggregates(live: DatabasePair, backfill: DatabasePair) -> dict[str, dict[str, Any]]:
    """Per aggregate table: rows live, rows from the backfill, rows only in one of them (with two examples)."""
    report = {}
    for model in aggregate_models():
        left, right = table_rows(live, model), table_rows(backfill, model)
        only_live, only_backfill = left - right, right - left
        report[model._meta.db_table] = {
            "live": sum(left.values()), "backfill": sum(right.values()),
            "only_live": sum(only_live.values()), "only_backfill": sum(only_backfill.values()),
            "examples": [list(r) for r in list(only_live)[:2]] + [list(r) for r in list(only_backfill)[:2]],
        }
    return report


def table_sizes(pair: DatabasePair, tables: list[str]) -> dict[str, dict[str, float]]:
    """MariaDB only: rows, data and index bytes per row of ``tables`` (after ANALYZE, so the figures are current)."""
    conn = pair.connect(1)
    cursor = conn.cursor()
    sizes = {}
    for table in tables:
        cursor.execute(f"ANALYZE TABLE `{table}`")
        cursor.fetchall()
        cursor.execute(f"SELECT COUNT(*) FROM `{table}`")
        rows = cursor.fetchone()[0]
        cursor.execute("SELECT data_length, index_length FROM information_schema.tables "
                       "WHERE table_schema = %s AND table_name = %s", (pair.names()[1], table))
        data, index = cursor.fetchone()
        sizes[table] = {"rows": rows, "data_bytes": data, "index_bytes": index,
                        "bytes_per_row": (data + index) / rows if rows else math.nan}
    conn.close()
    return sizes


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t:`` ... ``t[0]`` holds the seconds the block took."""
    holder: list[float] = []
    start = time.monotonic()
    try:
        yield holder
    finally:
        holder.append(time.monotonic() - start)
