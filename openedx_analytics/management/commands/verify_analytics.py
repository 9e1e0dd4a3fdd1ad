"""``verify_analytics``: prove a course's dashboard right, or list every number that is wrong.

Examples::

    ./manage.py lms verify_analytics --course course-v1:Org+Num+Run
    ./manage.py lms verify_analytics --all

Has each metric engine (``metrics.ENGINES``) compute from the course's facts, in memory,
what a whole rebuild would store, and compares it with every row of every table the
engine owns: aggregates, the running tallies the live recomputes adjust, and the
per-learner rows they subtract from. Inside the LMS it also compares who is enrolled
now, in all and per mode, by the facts and by the LMS's enrollment tables. Prints every
differing row with its table and key, what is stored and what is expected; exits with
status 1 when there is one. Writes nothing.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openedx_analytics import api
from openedx_analytics.backfill.verify import verify_against_lms, verify_course
from openedx_analytics.pipeline.envelope import parse_course_id
from openedx_analytics.pipeline.rejected import Rejected


class Command(BaseCommand):
    """Compare the engines' stored rows with those the facts (and the LMS) give."""

    help = ("Verify course aggregates, running tallies and per-learner rows against their facts, and enrollment "
            "against the LMS enrollment table; exit 1 on any difference.")

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the command's options."""
        parser.add_argument("--course", action="append", default=[], metavar="COURSE_ID",
                            help="Course to verify (repeatable).")
        parser.add_argument("--all", action="store_true", help="Verify every course that has aggregates.")
        parser.add_argument("--no-lms", action="store_true",
                            help="Do not compare with the LMS enrollment table.")

    def handle(self, *args: Any, **opts: Any) -> None:
        """Verify each course; print differences; fail when there is any."""
        if not opts["course"] and not opts["all"]:
            raise CommandError("give --course COURSE_ID (repeatable) or --all")
        try:
            courses = [parse_course_id(course) for course in opts["course"]]
        except Rejected as exc:
            raise CommandError(f"not a course id: {exc.detail}") from exc
        if opts["all"]:
            courses = sorted(set(courses) | set(api.known_course_ids()))
        total = 0
        for course in courses:
            differences = verify_course(course)
            if not opts["no_lms"]:
                differences += self._lms(course)
            total += len(differences)
            status = "OK" if not differences else f"{len(differences)} difference(s)"
            self.stdout.write(f"{course}: {status}")
            for difference in differences:
                self.stdout.write(f"  {difference}")
        if total:
            raise CommandError(f"{total} difference(s) found", returncode=1)

    def _lms(self, course: str) -> list:
        from openedx_analytics.lms import host

        try:
            return verify_against_lms(course)
        except host.NotAvailable:
            self.stdout.write(f"{course}: LMS tables not available here; enrollment not compared with the LMS")
            return []
