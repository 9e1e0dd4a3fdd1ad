"""Benchmark the live recompute: one new event in a 100,000-learner course, per kind, beside a whole rebuild.

Usage: python -m bench.recompute [--learners 100000] [--databases sqlite mysql] [--workdir DIR]

For each database it migrates fresh databases (SQLite files in the work directory;
MariaDB ``oa_recompute_lms``/``oa_recompute_analytics``, or ``<OA_BENCH_MYSQL_PREFIX>_lms``
and ``_analytics``, on the server of OA_MYSQL_HOST/PORT/USER/PASSWORD, default
127.0.0.1:3306 root), writes the
facts of one course straight into the fact tables (every learner enrolled over a year,
graded, on one 10-minute video, on one problem, active on three days), rebuilds every
aggregate of the course from all its facts (the baseline: what each kind cost before
recomputes started from what changed), then, per kind, stores one new event the way the
live path does (facts and markers) and times the drain that brings the course up to
date. Both figures come from the same run, the same course and the same database.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import PYTHON, ROOT
from bench.harness.databases import fresh_databases, test_host_env

COURSE = "course-v1:Bench+Recompute+2026"
VIDEO = "block-v1:Bench+Recompute+2026+type@video+block@v1"
PROBLEM = "block-v1:Bench+Recompute+2026+type@problem+block@p1"
REPEATS = 5


def seed(learners: int, now: dt.datetime) -> None:
    """Write one course's facts for ``learners`` learners straight into the fact tables."""
    from openedx_analytics import conf
    from openedx_analytics.db.bulk import insert_ignore
    from openedx_analytics.models import ActivityFact
    from openedx_analytics.pipeline.kinds import KINDS
    from openedx_analytics.pipeline.records import (
        CertificateChange,
        EnrollmentChange,
        GradeChange,
        PartAnswer,
        PassingChange,
        ProblemSubmission,
        VideoEvent,
    )

    using = conf.analytics_db()
    rng = random.Random(1)
    chunk = 20_000
    for start in range(1, learners + 1, chunk):
        users = range(start, min(start + chunk, learners + 1))
        enrollments, grades, passing, certificates, video, problems, activity = [], [], [], [], [], [], set()
        for user in users:
            joined = now - dt.timedelta(days=rng.randrange(365), seconds=rng.randrange(86_400))
            mode = rng.choice(["audit", "verified"])
            enrollments.append(EnrollmentChange(COURSE, user, joined, mode, True))
            if rng.random() < 0.1:
                enrollments.append(EnrollmentChange(COURSE, user, joined + dt.timedelta(days=3), mode, False))
            percent = rng.random()
            grades.append(GradeChange(COURSE, user, joined + dt.timedelta(days=5), percent))
            passing.append(PassingChange(COURSE, user, joined + dt.timedelta(days=5), percent >= 0.5))
            if percent >= 0.5:
                certificates.append(CertificateChange(COURSE, user, joined + dt.timedelta(days=6), mode,
                                                      "downloadable"))
            watched = joined + dt.timedelta(days=1)
            video.append(VideoEvent(COURSE, VIDEO, user, watched, "play", 0.0, duration=600.0))
            video.append(VideoEvent(COURSE, VIDEO, user, watched + dt.timedelta(minutes=5), "pause",
                                    float(rng.randrange(5, 600)), duration=600.0))
            problems.append(ProblemSubmission(COURSE, PROBLEM, user, joined + dt.timedelta(days=2), 1,
                                              rng.random() < 0.6,
                                              (PartAnswer("p1_2_1", rng.choice("ABCD"), None),)))
            for _day in range(3):
                activity.add((COURSE, (now - dt.timedelta(days=rng.randrange(30))).date(), "any", user))
        for records, record_type in ((enrollments, EnrollmentChange), (grades, GradeChange),
                                     (passing, PassingChange), (certificates, CertificateChange),
                                     (video, VideoEvent), (problems, ProblemSubmission)):
            kind = KINDS[record_type]
            rows = [row for record in records for row in kind.rows(record)]
            insert_ignore(kind.model, kind.columns, rows, using)
        insert_ignore(ActivityFact, ("course_id", "day", "kind", "user_id"), sorted(activity, key=str), using)


def one_event(kind: str, user: int, now: dt.datetime) -> list:
    """A new event of ``kind`` (live records), for learner ``user``."""
    from openedx_analytics.pipeline.records import (
        Activity,
        EnrollmentChange,
        GradeChange,
        PartAnswer,
        ProblemSubmission,
        VideoEvent,
    )

    if kind == "enrollment":  # a new learner enrolls (grades follow: the learner joins the 0-9 bucket)
        return [EnrollmentChange(COURSE, user, now, "audit", True)]
    if kind == "grades":
        return [GradeChange(COURSE, user, now, 0.93)]
    if kind == "video_user":
        return [VideoEvent(COURSE, VIDEO, user, now, "play", 100.0, duration=600.0),
                VideoEvent(COURSE, VIDEO, user, now + dt.timedelta(seconds=40), "pause", 140.0, duration=600.0)]
    if kind == "problem":
        return [ProblemSubmission(COURSE, PROBLEM, user, now, 2, True, (PartAnswer("p1_2_1", "C", True),))]
    return [Activity(COURSE, user, now.date(), ("any",))]


def prepare(database: str, workdir: Path) -> dict[str, str]:
    """Fresh, migrated databases of this benchmark's own (SQLite files in ``workdir``; MariaDB ``oa_recompute_*``)."""
    env = test_host_env(database, workdir / "sqlite", os.environ.get("OA_BENCH_MYSQL_PREFIX", "oa_recompute"))
    fresh_databases(env)
    return env


def run(database: str, learners: int, workdir: Path) -> list[str]:
    """Seed the course, time each kind's whole rebuild, then each kind's drain after one new event; the rows."""
    env = prepare(database, workdir)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections, transaction
    from django.utils import timezone

    from openedx_analytics import conf
    from openedx_analytics.models import DirtyScope
    from openedx_analytics.pipeline.facts import write_facts
    from openedx_analytics.pipeline.markers import ALL_KEYS
    from openedx_analytics.worker.drain import ENGINES, drain

    using = conf.analytics_db()
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic(using=using):
        seed(learners, now - dt.timedelta(hours=1))
    print(f"{database}: seeded {learners:,} learners in {time.perf_counter() - started:.0f} s", flush=True)
    lines = []
    rebuild: dict[str, float] = {}
    for kind in DirtyScope.ORDER:
        began = time.perf_counter()
        with transaction.atomic(using=using):
            ENGINES[kind](COURSE, {ALL_KEYS}, timezone.now(), using)
        rebuild[kind] = time.perf_counter() - began
    DirtyScope.objects.using(using).filter(course_id=COURSE).delete()
    rng = random.Random(2)
    for kind in DirtyScope.ORDER:
        timings = []
        for repeat in range(REPEATS):
            user = learners + 1 + repeat if kind == "enrollment" else rng.randrange(1, learners + 1)
            write_facts(one_event(kind, user, timezone.now()))
            began = time.perf_counter()
            report = drain(courses=[COURSE])
            timings.append(time.perf_counter() - began)
            assert not report.failed, report.failed
        lines.append(f"| {database} | {kind} | {rebuild[kind] * 1000:,.0f} | {statistics.median(timings) * 1000:.1f} "
                     f"| {max(timings) * 1000:.1f} |")
        print(lines[-1], flush=True)
    for connection in connections.all():
        connection.close()
    return lines


def main() -> None:
    """Run on each database asked for (one child process per database when there are several)."""
    parser = argparse.ArgumentParser(prog="python -m bench.recompute", description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--databases", nargs="+", default=["sqlite"], choices=["sqlite", "mysql"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/oa-bench-recompute"))
    args = parser.parse_args()
    if len(args.databases) > 1:  # Django is set up once per process: one child per database
        for database in args.databases:
            subprocess.run([PYTHON, "-m", "bench.recompute", "--learners", str(args.learners), "--databases",
                            database, "--workdir", str(args.workdir)], cwd=ROOT, check=True)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.learners:,} learners, "
          f"median and max of {REPEATS} events per kind")
    print("| database | kind | whole rebuild ms (baseline) | one new event: drain ms, median | max |")
    print("|---|---|---:|---:|---:|")
    run(args.databases[0], args.learners, args.workdir)


if __name__ == "__main__":
    main()
