"""Benchmark the research export: memory and speed of the command and of the zip endpoint, beside a small course.

Usage: python -m bench.export [--learners 100000] [--floor 1000] [--database sqlite|mysql] [--workdir DIR]

Migrates fresh databases of its own (SQLite files in the work directory; MariaDB
``<OA_BENCH_MYSQL_PREFIX or oa_export>_lms``/``_analytics``) and writes, straight into the
fact tables, three courses of one org: one of ``--learners`` learners, one of a tenth of
that and one of ``--floor`` learners. Each learner has an enrollment, three activity days, four player events on a
video (play, pause, seek, stop), two submissions of a two-part problem (a choice part and a
free-text part) and a grade: 11 facts, 13 exported rows. Each course is then exported in a
fresh child process twice: by ``export_research_data`` into a folder, and through
``GET /api/analytics/v1/courses/<id>/research_export/`` (Django's test client, as global
staff), reading the zip's pieces as they come and throwing them away. Each child prints
its RSS once Django is set up, its peak RSS during the export (``VmHWM`` reset just
before), the growth between them, the rows written and the rows per second. The small
course is the floor; an export whose memory does not grow with the course shows the same
growth at the two larger sizes (above the floor by one full page of rows: the floor's
tables have fewer rows than a page).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import PYTHON, ROOT
from bench.harness.databases import fresh_databases, test_host_env

ORG = "Bench"
BIG = f"course-v1:{ORG}+Export+2026"
SMALL = f"course-v1:{ORG}+ExportFloor+2026"
TENTH = f"course-v1:{ORG}+ExportTenth+2026"
KEY = "bench-export-key-" + "k" * 32
CHUNK = 5_000
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)


def seed(course: str, learners: int, first_user: int) -> int:
    """Write ``learners`` learners' facts of ``course`` (user ids from ``first_user``); the fact rows written."""
    from opaque_keys.edx.keys import CourseKey

    from lms_host.stub.models import CourseOverview
    from openedx_analytics import conf
    from openedx_analytics.models import (
        ActivityFact,
        EnrollmentFact,
        GradeFact,
        ProblemSubmissionFact,
        VideoEventFact,
    )

    key = CourseKey.from_string(course)
    CourseOverview.objects.create(id=key, display_name=course, org=key.org)
    using = conf.analytics_db()
    block = course[len("course-v1:"):]
    video, problem = f"block-v1:{block}+type@video+block@v1", f"block-v1:{block}+type@problem+block@p1"
    tag = f"{abs(hash(course)) % 10**6:06d}"
    written = 0
    for start in range(first_user, first_user + learners, CHUNK):
        users = range(start, min(start + CHUNK, first_user + learners))
        rows = {
            EnrollmentFact: [EnrollmentFact(course_id=course, user_id=u, time=T0 + dt.timedelta(seconds=u),
                                            is_active=True, mode="verified" if u % 3 else "audit",
                                            fingerprint=f"e{tag}{u:033d}") for u in users],
            ActivityFact: [ActivityFact(course_id=course, user_id=u, day=(T0 + dt.timedelta(days=d)).date(),
                                        kind=kind) for u in users for d, kind in
                           ((0, "any"), (1, "video"), (2, "problem"))],
            VideoEventFact: [VideoEventFact(course_id=course, user_id=u, video_id=video,
                                            time=T0 + dt.timedelta(hours=1, seconds=n), action=action,
                                            position=position, old_time=old, new_time=new, duration=600.0,
                                            fingerprint=f"v{tag}{n}{u:032d}")
                             for u in users for n, (action, position, old, new) in enumerate((
                                 ("play", 0.0, None, None), ("pause", 42.5, None, None),
                                 ("seek", None, 42.5, 300.0), ("stop", 600.0, None, None)))],
            ProblemSubmissionFact: [ProblemSubmissionFact(
                course_id=course, user_id=u, problem_id=problem, time=T0 + dt.timedelta(hours=2, minutes=n),
                attempt=n + 1, correct=bool(n), fingerprint=f"p{tag}{n}{u:032d}",
                answers=[{"part_id": "p1_2_1", "value": f"choice_{(u + n) % 4}", "correct": bool(n),
                          "variant": "", "input_type": "choicegroup"},
                         {"part_id": "p1_3_1", "value": f"an answer typed by learner {u}", "correct": None,
                          "variant": "", "input_type": "textline"}]) for u in users for n in range(2)],
            GradeFact: [GradeFact(course_id=course, user_id=u, time=T0 + dt.timedelta(days=3),
                                  percent=(u % 100) / 100, fingerprint=f"g{tag}{u:033d}") for u in users],
        }
        for model, objects in rows.items():
            model.objects.using(using).bulk_create(objects, batch_size=1000)
            written += len(objects)
    return written


def vm_kb(field: str) -> int:
    """A ``/proc/self/status`` figure in kB (``VmRSS``, ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak() -> None:
    """Start ``VmHWM`` again from the current RSS (Linux: ``5`` into ``clear_refs``)."""
    Path("/proc/self/clear_refs").write_text("5")


def measure(way: str, course: str) -> None:
    """In a child process: export ``course`` by ``way`` (command or zip); print rows, MB, s, RSS figures."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from openedx_analytics import research
    from openedx_analytics.api.v1 import research_export  # noqa: F401 - imported before the floor is read

    with override_settings(OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY=KEY, OPENEDX_ANALYTICS_RESEARCH_EXPORT_SECONDS=3600,
                           OPENEDX_ANALYTICS_API_THROTTLE_RATE=None):
        client = Client()
        if way == "zip":
            client.force_login(get_user_model().objects.get(username="bench_staff"))
        before = vm_kb("VmRSS")
        reset_peak()
        began = time.perf_counter()
        if way == "command":
            with tempfile.TemporaryDirectory() as folder:
                call_command("export_research_data", "--course", course, "--output", folder,
                             stdout=open(os.devnull, "w"))
                elapsed = time.perf_counter() - began
                peak = vm_kb("VmHWM")  # before the files are read back below
                files = list(Path(folder).rglob("*.csv"))
                size = sum(path.stat().st_size for path in files)
                rows = 0
                for path in files:
                    if path.name != research.DICTIONARY_FILE:
                        with path.open("rb") as lines:  # line by line: the count must not hold a file
                            rows += sum(1 for _line in lines) - 1  # no exported cell holds a line break here
        else:
            response = client.get(f"/api/analytics/v1/courses/{course}/research_export/")
            assert response.status_code == 200, response.content
            size = sum(len(piece) for piece in response.streaming_content)  # thrown away as they come
            elapsed = time.perf_counter() - began
            peak = vm_kb("VmHWM")
            rows = -1  # counted from the facts below: the zip is not kept
    if rows < 0:
        from openedx_analytics import conf
        from openedx_analytics.models import ProblemSubmissionFact

        rows = sum(table.model.objects.using(conf.analytics_db()).filter(course_id=course).count()
                   for table in research.TABLES)
        rows += ProblemSubmissionFact.objects.using(conf.analytics_db()).filter(course_id=course).count()  # 2 parts
    print(rows, f"{size / 1e6:.1f}", f"{elapsed:.1f}", before // 1024, peak // 1024, (peak - before) // 1024)


def child(env: dict[str, str], way: str, course: str) -> list[str]:
    """Run ``measure`` in a fresh process (its RSS is its own); its printed figures."""
    out = subprocess.run([PYTHON, "-m", "bench.export", "--measure", way, course], env=env, cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def main() -> None:
    """Seed both courses, export each both ways in child processes, print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--floor", type=int, default=1_000)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "mysql"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/oa-bench-export"))
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)  # the child's: way and course
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    env = test_host_env(args.database, args.workdir / "sqlite", os.environ.get("OA_BENCH_MYSQL_PREFIX", "oa_export"))
    fresh_databases(env)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from openedx_analytics.models import CourseAnalyticsOverride

    get_user_model().objects.create_user("bench_staff", "staff@example.com", is_staff=True)
    CourseAnalyticsOverride.objects.create(org=ORG, override_choice=CourseAnalyticsOverride.ON, enabled=True)
    began = time.perf_counter()
    tenth = max(args.learners // 10, 1)
    facts = (seed(SMALL, args.floor, 1) + seed(TENTH, tenth, args.floor + 1)
             + seed(BIG, args.learners, args.floor + tenth + 1))
    print(f"{args.database}: seeded {args.floor:,} + {tenth:,} + {args.learners:,} learners ({facts:,} facts) "
          f"in {time.perf_counter() - began:.0f} s", flush=True)
    print("| way | learners | rows | MB written | seconds | rows/s | RSS before (MB) | peak RSS (MB) | growth (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for way in ("command", "zip"):
        for course, learners in ((SMALL, args.floor), (TENTH, tenth), (BIG, args.learners)):
            rows, size, elapsed, before, peak, growth = child(env, way, course)
            rate = int(rows) / max(float(elapsed), 0.001)
            print(f"| {way} | {learners:,} | {int(rows):,} | {size} | {elapsed} | {rate:,.0f} | {before} | {peak} "
                  f"| {growth} |", flush=True)


if __name__ == "__main__":
    main()
