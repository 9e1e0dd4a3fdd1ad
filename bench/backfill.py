"""Benchmark backfill_analytics: the read+parse floor, then full backfills on SQLite and MariaDB.

Usage: python -m bench.backfill [--sizes 250000 1000000] [--databases sqlite mysql] [--workdir DIR]
                                [--workers 1 2]

For each size it generates a log (``python -m bench.generate_tracking_log``, cached in the
work directory), times reading and JSON-parsing it (the floor any backfill pays), then runs
``backfill_analytics`` in a fresh process against freshly migrated databases and reports
lines/s, that rate as a ratio of the floor's (both measured in this run, so a busy
machine slows both), the time spent recomputing aggregates, the command's own CPU seconds
(user + system: steadier than wall time on a shared machine; the database server's are
not in it) and its peak RSS.
Comparing peak RSS across sizes shows whether memory stays flat as the input grows.

``--workers N`` (N > 1) also runs ``backfill_analytics --workers N`` with N real
``celery -A lms_host worker`` processes (concurrency 1 each) on the broker of
OA_BROKER_URL (default redis://127.0.0.1:6379/15), started before and stopped after
each such run; its peak RSS is the command's own, not the workers'.

MariaDB runs use the databases <prefix>_lms and <prefix>_analytics, prefix
OA_MYSQL_PREFIX (default oa_bench), dropped and created each run, on the server of
OA_MYSQL_HOST/PORT/USER/PASSWORD (default 127.0.0.1:3306 root).
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import PYTHON, ROOT
from bench.harness.databases import drop_databases, fresh_databases, lms_courses_in_child, test_host_env
from bench.harness.tracking_log import COURSES
from openedx_analytics.backfill.readers import Chunk, LineReader, _decode_line

MYSQL_PREFIX = os.environ.get("OA_MYSQL_PREFIX", "oa_bench")
WORKER_START_SECONDS = 60


def generate(lines: int, workdir: Path) -> Path:
    """The generated log of ``lines`` lines in ``workdir``, generated first if it is not there yet."""
    path = workdir / f"tracking-{lines}.log"
    if not path.exists():
        subprocess.run([PYTHON, "-m", "bench.generate_tracking_log", str(lines), str(path)],
                       cwd=ROOT, check=True)
    return path


def parse_floor(path: Path) -> tuple[float, int]:
    """Seconds to read and JSON-decode every line with the backfill's own reader and decoder, and the line count.

    Only what any backfill must do: keeping the allow-listed fields (``redact``) is part
    of the backfill's own cost, as ``bench.reader`` measures it.
    """
    started = time.perf_counter()
    count = 0
    for _number, _offset, line in LineReader(Chunk(str(path))):
        _decode_line(line)
        count += 1
    return time.perf_counter() - started, count


def environment(database: str, workdir: Path, workers: int = 1) -> dict[str, str]:
    """The command's (and its workers') environment: eager Celery for one process, the broker for N > 1."""
    return test_host_env(database, workdir / "sqlite", MYSQL_PREFIX, eager=workers == 1)


def start_workers(count: int, env: dict[str, str], workdir: Path) -> list[subprocess.Popen]:
    """Start ``count`` Celery workers of the host app (concurrency 1) and wait until each answers a ping."""
    processes = []
    for number in range(1, count + 1):
        name = f"oa-bench-{os.getpid()}-{number}@localhost"
        command = [PYTHON, "-m", "celery", "-A", "lms_host", "worker", "--concurrency=1", "--pool=prefork",
                   "--loglevel=WARNING", "-n", name, "--without-gossip", "--without-mingle", "--without-heartbeat"]
        with open(workdir / f"worker-{number}.log", "wb") as log_file:
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL))
        ping = [PYTHON, "-m", "celery", "-A", "lms_host", "inspect", "ping", "-d", name, "--timeout", "1"]
        deadline = time.monotonic() + WORKER_START_SECONDS
        while subprocess.run(ping, cwd=ROOT, env=env, capture_output=True).returncode != 0:
            if processes[-1].poll() is not None or time.monotonic() > deadline:
                stop_workers(processes)
                raise SystemExit(f"Celery worker {name} did not start; see {workdir}/worker-{number}.log")
    return processes


def stop_workers(processes: list[subprocess.Popen]) -> None:
    """Stop the workers ``start_workers`` started (warm shutdown, then kill)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def backfill(path: Path, env: dict[str, str], workers: int = 1) -> tuple[float, str, int, float]:
    """Run the command in a child process; return wall time, its output, its peak RSS (KiB) and its CPU seconds."""
    command = [PYTHON, "-m", "django", "backfill_analytics", "--skip-checks", "--no-progress",
               "--tracking-logs", str(path)]
    if workers > 1:
        command += ["--workers", str(workers)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"backfill failed:\n{output}")
    return elapsed, output, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def main() -> None:
    """Generate, measure the floor, and backfill each size on each database and worker count."""
    parser = argparse.ArgumentParser(prog="python -m bench.backfill", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "mysql"], choices=["sqlite", "mysql"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/oa-bench"))
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="process counts to run: 1 is the command alone, N > 1 uses N Celery workers")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, work directory {args.workdir}, "
          f"load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print("| lines | step | database | workers | seconds | lines/s | ratio to floor | recompute s | CPU s | "
          "peak RSS MiB |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        path = generate(size, args.workdir)
        seconds, count = parse_floor(path)
        floor = count / seconds
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"| {count:,} | read + JSON parse | - | - | {seconds:.1f} | {floor:,.0f} | 1 | - | - | "
              f"{rss / 1024:.0f} |", flush=True)
        for database in args.databases:
            for workers in args.workers:
                env = environment(database, args.workdir, workers)
                fresh_databases(env)
                lms_courses_in_child(env, COURSES)
                pool = start_workers(workers, env, args.workdir) if workers > 1 else []
                try:
                    seconds, output, rss, cpu = backfill(path, env, workers)
                finally:
                    stop_workers(pool)
                    drop_databases(env)
                recompute = re.search(r"recomputing aggregates: ([\d,.]+) s", output)
                rate = count / seconds
                print(f"| {count:,} | full backfill | {database} | {workers} | {seconds:.1f} | {rate:,.0f} | "
                      f"1/{floor / rate:.1f} | {recompute.group(1) if recompute else '?'} | {cpu:.1f} | "
                      f"{rss / 1024:.0f} |", flush=True)
                (args.workdir / f"backfill-{size}-{database}-{workers}.txt").write_text(output)
        print(f"load average after {size:,} lines: {' '.join(f'{load:.2f}' for load in os.getloadavg())}",
              flush=True)


if __name__ == "__main__":
    main()
