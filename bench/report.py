"""Benchmark the problem response report: memory while streaming it, beside streaming tiny rows.

Usage: python -m bench.report [--learners 100000] [--problems 50] [--database sqlite|mysql] [--workdir DIR]

Migrates fresh databases of its own (SQLite files in the work directory; MariaDB
``oa_report_lms``/``oa_report_analytics``, or ``<OA_BENCH_MYSQL_PREFIX>_*``), writes the LMS
users and one submission fact per learner and problem straight into the tables (every
other problem with two parts) and each part's question text (a few hundred characters, as
the pipeline keeps it: one row per part), in two courses: one of ``--learners`` learners and one of a
tenth as many. It then streams each course's report through the same generator the
download response writes from (``csv_pieces`` over ``iter_problem_responses``) in a fresh
child process, throwing the pieces away, and prints the child's peak RSS and the time,
beside a child streaming as many tiny rows through ``csv_pieces`` from a generator that
holds nothing. A flat report has the same peak at both sizes, near the baseline's. The LMS
holds no problem states here, so the score columns are empty (the query per chunk still runs).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bench.harness import PYTHON, ROOT
from bench.harness.databases import fresh_databases, test_host_env

BIG = "course-v1:Bench+Report+2026"
SMALL = "course-v1:Bench+ReportSmall+2026"
CHUNK = 20_000


def problem(course: str, n: int) -> str:
    """The usage key of problem ``n`` of ``course``."""
    return f"block-v1:{course[len('course-v1:'):]}+type@problem+block@p{n:03d}"


def seed(course: str, learners: int, problems: int, first_user: int) -> None:
    """``learners`` LMS users from ``first_user`` on and one submission of each to each of ``problems`` problems."""
    from django.contrib.auth import get_user_model
    from opaque_keys.edx.keys import CourseKey

    from lms_host.stub.models import CourseOverview
    from openedx_analytics import conf
    from openedx_analytics.models import ProblemSubmissionFact

    key = CourseKey.from_string(course)
    CourseOverview.objects.create(id=key, display_name=course, org=key.org)
    user_model = get_user_model()
    users = range(first_user, first_user + learners)
    for start in range(0, learners, CHUNK):
        user_model.objects.bulk_create([user_model(id=u, username=f"learner{u}", password="!")
                                        for u in users[start:start + CHUNK]])
    when = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
    using = conf.analytics_db()
    for n in range(problems):
        problem_id = problem(course, n)
        parts = [f"p{n}_2_1", f"p{n}_3_1"] if n % 2 else [f"p{n}_2_1"]
        for start in range(0, learners, CHUNK):
            ProblemSubmissionFact.objects.using(using).bulk_create([
                ProblemSubmissionFact(
                    course_id=course, problem_id=problem_id, user_id=u, time=when + dt.timedelta(seconds=u),
                    attempt=1, correct=u % 3 != 0, fingerprint=f"{n:03d}{u:037d}",
                    answers=[{"part_id": p, "value": f"choice_{u % 4}", "correct": u % 4 == 1, "variant": ""}
                             for p in parts])
                for u in users[start:start + CHUNK]], batch_size=5000)
    seed_questions(course, problems)


def seed_questions(course: str, problems: int) -> None:
    """Each part's question text (300 characters), one row per part as the pipeline keeps them."""
    from openedx_analytics.pipeline.facts import write_facts
    from openedx_analytics.pipeline.records import PartQuestion

    when = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
    write_facts([PartQuestion(course_id=course, problem_id=problem(course, n), part_id=part, time=when,
                              question=f"Question {n} part {part}: " + "which of these is right? " * 12)
                 for n in range(problems) for part in ([f"p{n}_2_1", f"p{n}_3_1"] if n % 2 else [f"p{n}_2_1"])])


def tiny_rows(n: int) -> Iterator[dict[str, int]]:
    """``n`` one-cell rows made on the fly: what streaming costs when the rows hold nothing."""
    for i in range(n):
        yield {"n": i}


def peak_rss_mb() -> float:
    """This process's own peak RSS in MB: ``VmHWM`` (Linux's ``ru_maxrss`` keeps the forking parent's peak
    across exec, so a child started by a big parent would report the parent's), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stream(course: str | None, tiny: int) -> None:
    """In a child process: stream ``course``'s report (or ``tiny`` tiny rows), print rows, MB, seconds, peak RSS."""
    import django

    django.setup()
    from openedx_analytics.api.reports import PROBLEM_RESPONSE_COLUMNS, iter_problem_responses
    from openedx_analytics.api.v1.renderers import csv_pieces

    if course:
        pieces = csv_pieces(iter_problem_responses(course), PROBLEM_RESPONSE_COLUMNS)
    else:
        pieces = csv_pieces(tiny_rows(tiny), ("n",))
    began = time.perf_counter()
    size = lines = 0
    for piece in pieces:  # thrown away as a client that reads the download would
        size += len(piece)
        lines += piece.count(b"\r\n")  # no cell here holds a line break
    elapsed = time.perf_counter() - began
    print(f"{lines - 1} {size / 1e6:.0f} {elapsed:.0f} {peak_rss_mb():.0f}")


def child(env: dict[str, str], *args: str) -> list[str]:
    """Run ``stream`` in a fresh process (its peak RSS is its own); its printed figures."""
    out = subprocess.run([PYTHON, "-m", "bench.report", *args], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return out.split()


def main() -> None:
    """Seed both courses, stream each report and the baseline in child processes, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--problems", type=int, default=50)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "mysql"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/oa-bench-report"))
    parser.add_argument("--stream", help=argparse.SUPPRESS)  # the child's: a course to stream
    parser.add_argument("--tiny", type=int, default=0, help=argparse.SUPPRESS)  # the child's: tiny rows
    args = parser.parse_args()
    if args.stream or args.tiny:
        stream(args.stream, args.tiny)
        return
    env = test_host_env(args.database, args.workdir / "sqlite", os.environ.get("OA_BENCH_MYSQL_PREFIX", "oa_report"))
    fresh_databases(env)
    os.environ.update(env)
    import django

    django.setup()
    small = max(args.learners // 10, 1)
    began = time.perf_counter()
    seed(BIG, args.learners, args.problems, 1)
    seed(SMALL, small, args.problems, args.learners + 1)
    print(f"{args.database}: seeded {args.learners:,} + {small:,} learners x {args.problems} problems "
          f"in {time.perf_counter() - began:.0f} s", flush=True)
    print("| what | learners | rows | MB streamed | seconds | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for course, learners in ((SMALL, small), (BIG, args.learners)):
        rows, size, elapsed, rss = child(env, "--stream", course)
        print(f"| report | {learners:,} | {int(rows):,} | {size} | {elapsed} | {rss} |", flush=True)
        _rows, size, elapsed, rss = child(env, "--tiny", rows)
        print(f"| baseline: tiny rows | - | {int(rows):,} | {size} | {elapsed} | {rss} |", flush=True)


if __name__ == "__main__":
    main()
