"""Benchmark engagement by content at 100,000 learners: the read the page and the REST API make, in process.

One course with an outline of 10 sections x 4 subsections x 5 units (200 units) and the
facts of its last 120 days written straight into ``ContentActivityFact`` (MariaDB,
databases ``oa_bench_content_*``): 100,000 learners, each active on 8 days of the 120
(``ACTIVE_DAYS``), each active day in one subsection, viewing 3 of its units, playing a
video in half of those days and submitting a problem in a third: about 8 million rows.
Times ``api.get_engagement_by_content`` (what the panel and ``content/`` read) for each
level over the default 28 days and over the whole 120 days, and the panel as the page
builds it (``dashboard.engagement_by_content.content_panel``), each the median of
``OA_BENCH_RUNS`` (default 7) runs after one warm-up.

    OA_TEST_DB=mysql .venv-lms/bin/python -m bench.content          # add --keep to reuse the data
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
os.environ.setdefault("OA_TEST_DB", "mysql")
os.environ.setdefault("OA_MYSQL_PREFIX", "oa_bench_content")

COURSE = "course-v1:Bench+Content+2026"
LEARNERS = 100_000
SECTIONS, SUBSECTIONS, UNITS = 10, 4, 5
DAYS = 120
ACTIVE_DAYS = 8
RUNS = int(os.environ.get("OA_BENCH_RUNS", "7"))
TODAY = dt.datetime.now(dt.timezone.utc).date()


def key(kind: str, name: str) -> str:
    """The usage key of block ``name`` of type ``kind`` in the benchmark's course."""
    return f"block-v1:Bench+Content+2026+type@{kind}+block@{name}"


def outline() -> list[tuple[str, str, str, str]]:
    """(usage key, type, name, parent) of every block, in course order."""
    root = key("course", "course")
    rows = [(root, "course", "Course", "")]
    for s in range(SECTIONS):
        section = key("chapter", f"s{s}")
        rows.append((section, "chapter", f"Section {s}", root))
        for q in range(SUBSECTIONS):
            subsection = key("sequential", f"s{s}q{q}")
            rows.append((subsection, "sequential", f"Subsection {s}.{q}", section))
            for u in range(UNITS):
                rows.append((key("vertical", f"s{s}q{q}u{u}"), "vertical", f"Unit {s}.{q}.{u}", subsection))
    return rows


def seed() -> int:
    """The outline rows and the facts; returns the facts written."""
    from django.db import connections
    from opaque_keys.edx.keys import CourseKey

    from lms_host.stub.models import CourseBlock, CourseOverview

    course_key = CourseKey.from_string(COURSE)
    CourseOverview.objects.create(id=course_key, display_name="Bench content", org="Bench")
    CourseBlock.objects.bulk_create([
        CourseBlock(course_id=course_key, usage_key=usage_key, block_type=kind, display_name=name, parent=parent,
                    position=i) for i, (usage_key, kind, name, parent) in enumerate(outline())])
    rng = random.Random(3)
    written = 0
    batch: set[tuple] = set()
    sql = ("INSERT IGNORE INTO openedx_analytics_contentactivityfact (course_id, node_id, kind, day, user_id) "
           "VALUES (%s, %s, %s, %s, %s)")
    with connections["analytics"].cursor() as cursor:
        for user in range(1, LEARNERS + 1):
            for offset in rng.sample(range(DAYS), ACTIVE_DAYS):
                day = TODAY - dt.timedelta(days=offset)
                s, q = rng.randrange(SECTIONS), rng.randrange(SUBSECTIONS)
                parts = [key("chapter", f"s{s}"), key("sequential", f"s{s}q{q}")]
                units = [key("vertical", f"s{s}q{q}u{u}") for u in rng.sample(range(UNITS), 3)]
                kinds = ["any"] + (["video"] if rng.random() < 0.5 else []) + (
                    ["problem"] if rng.random() < 0.33 else [])
                for kind in kinds:
                    for part in (*parts, *(units if kind == "any" else units[:1])):
                        batch.add((COURSE, part, kind, day, user))
            if len(batch) >= 20_000 or user == LEARNERS:
                cursor.executemany(sql, sorted(batch))
                written += len(batch)
                batch.clear()
    return written


def timed(function, *args, **kwargs) -> float:
    """The median milliseconds of ``RUNS`` calls, after one warm-up."""
    function(*args, **kwargs)
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        function(*args, **kwargs)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    """Seed (unless ``--keep``), then time each level and range."""
    parser = argparse.ArgumentParser(prog="python -m bench.content", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="reuse the databases of an earlier run")
    options = parser.parse_args()
    from bench.harness import course_data as data

    if not options.keep:
        data.create_databases()
    data.setup_django()
    if not options.keep:
        began = time.perf_counter()
        rows = seed()
        print(f"seeded {rows:,} facts in {time.perf_counter() - began:.0f} s")
    from django.http import QueryDict

    from openedx_analytics import api
    from openedx_analytics.dashboard import content, tables
    from openedx_analytics.dashboard.engagement_by_content import content_panel

    section, subsection = key("chapter", "s3"), key("sequential", "s3q1")
    whole = {"start": TODAY - dt.timedelta(days=DAYS - 1), "end": TODAY + dt.timedelta(days=1)}
    cases = [
        ("sections, last 28 days (default)", {}),
        ("sections, 120 days", whole),
        ("subsections of a section, 28 days", {"parent": section}),
        ("units of a subsection, 28 days", {"parent": subsection}),
        ("units of a subsection, 120 days", {"parent": subsection, **whole}),
    ]
    print(f"{'case':<40} {'median ms':>10}")
    for label, kwargs in cases:
        print(f"{label:<40} {timed(api.get_engagement_by_content, COURSE, **kwargs):>10.1f}")

    def panel() -> None:
        with tables.language_numbers():
            content_panel(content.Page(COURSE, QueryDict("")))
    print(f"{'page panel (Page + panel), 28 days':<40} {timed(panel):>10.1f}")


if __name__ == "__main__":
    main()
