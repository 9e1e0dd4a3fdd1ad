"""Benchmark backfill_analytics: the read+parse floor, then full backfills on SQLite and MariaDB.

Usage: python bench/bench_backfill.py [--sizes 250000 1000000] [--databases sqlite mysql] [--workdir DIR]

For each size it generates a log (bench/generate_tracking_log.py, cached in the work
directory), times reading and JSON-parsing it (the floor any backfill pays), then runs
``backfill_analytics`` in a fresh process against freshly migrated databases and reports
lines/s, the time spent recomputing aggregates and the process's peak RSS. Comparing peak
RSS across sizes shows whether memory stays flat as the input grows.

MariaDB runs use the databases oa_bench_lms and oa_bench_analytics (dropped and created
each run) on the server of OA_MYSQL_HOST/PORT/USER/PASSWORD (default 127.0.0.1:3306 root).
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openedx_analytics.backfill.readers import Chunk, LineReader, parse_line  # noqa: E402


def generate(lines: int, workdir: Path) -> Path:
    path = workdir / f"tracking-{lines}.log"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate_tracking_log.py"), str(lines), str(path)],
                       check=True)
    return path


def parse_floor(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    count = 0
    for _number, _offset, line in LineReader(Chunk(str(path))):
        parse_line(line)
        count += 1
    return time.perf_counter() - started, count


def environment(database: str, workdir: Path) -> dict[str, str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="test_settings", PYTHONPATH=str(ROOT), OA_CELERY_EAGER="1")
    if database == "mysql":
        env.update(OA_TEST_DB="mysql", OA_MYSQL_PREFIX="oa_bench")
    else:
        env.update(OA_TEST_DB="sqlite", OA_SQLITE_DIR=str(workdir / "sqlite"))
    return env


def reset_databases(database: str, workdir: Path, env: dict[str, str]) -> None:
    if database == "mysql":
        import MySQLdb

        connection = MySQLdb.connect(host=os.environ.get("OA_MYSQL_HOST", "127.0.0.1"),
                                     port=int(os.environ.get("OA_MYSQL_PORT", "3306")),
                                     user=os.environ.get("OA_MYSQL_USER", "root"),
                                     passwd=os.environ.get("OA_MYSQL_PASSWORD", ""))
        cursor = connection.cursor()
        for name in ("oa_bench_lms", "oa_bench_analytics"):
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        connection.close()
    else:
        folder = workdir / "sqlite"
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("lms.sqlite3", "analytics.sqlite3"):
            (folder / name).unlink(missing_ok=True)
    for alias in ("default", "analytics"):
        subprocess.run([sys.executable, "-m", "django", "migrate", "--skip-checks", "-v0", "--database", alias],
                       check=True, env=env, cwd=ROOT)


def backfill(path: Path, env: dict[str, str]) -> tuple[float, str, int]:
    """Run the command in a child process; return wall time, its output and its peak RSS (KiB)."""
    command = [sys.executable, "-m", "django", "backfill_analytics", "--skip-checks", "--no-progress",
               "--tracking-logs", str(path)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"backfill failed:\n{output}")
    return elapsed, output, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "mysql"], choices=["sqlite", "mysql"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/oa-bench"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, work directory {args.workdir}")
    print("| lines | step | database | seconds | lines/s | recompute s | peak RSS MiB |")
    print("|---:|---|---|---:|---:|---:|---:|")
    for size in args.sizes:
        path = generate(size, args.workdir)
        seconds, count = parse_floor(path)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"| {count:,} | read + JSON parse | - | {seconds:.1f} | {count / seconds:,.0f} | - | {rss / 1024:.0f} |",
              flush=True)
        for database in args.databases:
            env = environment(database, args.workdir)
            reset_databases(database, args.workdir, env)
            seconds, output, rss = backfill(path, env)
            recompute = re.search(r"recomputing aggregates: ([\d,.]+) s", output)
            print(f"| {count:,} | full backfill | {database} | {seconds:.1f} | {count / seconds:,.0f} | "
                  f"{recompute.group(1) if recompute else '?'} | {rss / 1024:.0f} |", flush=True)
            (args.workdir / f"backfill-{size}-{database}.txt").write_text(output)


if __name__ == "__main__":
    main()
