"""One run of ``bench.live``: its databases, broker queue, work directory, child processes and report.

``Run`` sets the run up from the command line (fresh pair names, the broker, which must be
on 127.0.0.1, the queue, Django on the harness's settings in this process too) and takes it
down whatever happens (``finish``: processes stopped, queue purged, databases dropped, the
JSON report written). ``seed_lms`` gives a fresh live pair the LMS's side of a site.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.harness.live.backlog import Backlog
from bench.harness.live.databases import DatabasePair, setup_django
from bench.harness.live.processes import Generators, Processes, write_json

#: The course-staff user whose session the freshness probe polls the REST API with.
STAFF = "bench_live_staff"


def local_only(url: str) -> str:
    """``url`` itself, if it points at 127.0.0.1 (or localhost); the harness talks to nothing else."""
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"bench.live: {url} is not on 127.0.0.1; refusing to run")
    return url


class Run:
    """One invocation: its databases, broker queue, work directory and child processes."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.vendor = os.environ.get("OA_TEST_DB", "sqlite")
        self.broker = local_only(os.environ.get("OA_BROKER_URL", "redis://127.0.0.1:6379/15"))
        os.environ["OA_BROKER_URL"] = self.broker
        os.environ["OA_LIVE_QUEUE"] = args.queue
        self.own_work = not args.workdir  # a temporary directory of ours: removed after a run that succeeded
        self.work = Path(args.workdir or tempfile.mkdtemp(prefix="oa-bench-live-"))
        self.work.mkdir(parents=True, exist_ok=True)
        prefix = args.prefix or os.environ.get("OA_MYSQL_PREFIX", "oa_bench_live")
        if self.vendor == "mysql":
            self.live = DatabasePair("mysql", f"{prefix}_live")
            self.back = DatabasePair("mysql", f"{prefix}_back")
        else:
            self.live = DatabasePair("sqlite", str(self.work / "live"))
            self.back = DatabasePair("sqlite", str(self.work / "back"))
        os.environ.update(self.live.env())
        setup_django()
        self.processes = Processes(self.work)
        self.backlog = Backlog(self.broker, args.queue)
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

    def generators(self, tag: str, max_seconds: float) -> Generators:
        """Start the load generators (paused)."""
        return Generators(self.processes, self.live, self.work, self.args.generators, self.args.learners,
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
            write_json(Path(self.args.json), self.report)
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
