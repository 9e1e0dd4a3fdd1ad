"""``export_research_data``: a course's (or an organization's courses') facts as CSV for researchers.

Example::

    ./manage.py lms export_research_data --course course-v1:Org+Num+Run --output /srv/exports
    ./manage.py lms export_research_data --org Org --output /srv/exports --include-free-text

Writes ``<output>/<course>/`` per course: a CSV file per kind of fact and
``data_dictionary.csv``. Learners are pseudonymized per organization with
``OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY`` (required); free-text answers are left out unless
``--include-free-text``. See docs/research.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from openedx_analytics import api, research


class Command(BaseCommand):
    """Export courses' facts, learners pseudonymized, with a data dictionary; print progress and a summary."""

    help = "Export courses' facts as CSV for research: learners pseudonymized per organization."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--course`` (repeatable) and/or ``--org``, ``--output``, ``--include-free-text``."""
        parser.add_argument("--course", action="append", default=[], help="A course id (repeatable).")
        parser.add_argument("--org", action="append", default=[],
                            help="Every course of this organization that has analytics (repeatable).")
        parser.add_argument("--output", required=True, type=Path, help="Folder the courses' folders go in.")
        parser.add_argument("--include-free-text", action="store_true",
                            help="Also write answers that are not one of a problem's choices.")

    def handle(self, *args: Any, **opts: Any) -> None:
        """Export each course named, one after the other."""
        courses = list(dict.fromkeys(opts["course"]))
        for course in courses:
            try:
                CourseKey.from_string(course)
            except InvalidKeyError:
                raise CommandError(f"Not a course id: {course!r}") from None
        orgs = set(opts["org"])
        if orgs:
            courses += [c for c in api.known_course_ids()
                        if c not in courses and CourseKey.from_string(c).org in orgs]
        if not courses:
            raise CommandError("No course to export: give --course, or an --org with courses that have analytics")
        try:
            research.export_key()
        except research.ExportError as error:
            raise CommandError(str(error)) from None
        for course in courses:
            summary = research.export_course(course, opts["output"], include_free_text=opts["include_free_text"],
                                             progress=self.stdout.write)
            self.stdout.write(f"{course}: {sum(summary.rows.values()):,} rows in {summary.folder} "
                              f"({summary.answers_left_out:,} non-choice answers left out)")
        self.stdout.write(f"Exported {len(courses)} course(s) to {opts['output']}")
