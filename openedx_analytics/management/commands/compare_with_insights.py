"""``compare_with_insights``: where the old Insights numbers and the live ones differ, per course and metric.

Examples::

    ./manage.py lms compare_with_insights --course course-v1:Org+Num+Run
    ./manage.py lms compare_with_insights --course course-v1:Org+Num+Run --start-date 2026-09-01 \\
        --base-url https://insights-api.example.com/api/v0 --token "$DATA_API_AUTH_TOKEN"

Reads the old Insights data API (the configured one, or ``--base-url``/``--token``) and
prints, tab-separated, every day, week, video and problem where the two sources differ: the
metric, where, the measure, the Insights figure, the live figure, the difference (live minus
Insights), the relative difference and why ("explained" for a difference the definitions
account for). Then the known definitional differences, so they are read as such and not as
errors. Exits with status 2 when the old API does not answer.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from openedx_analytics import insights_client
from openedx_analytics.api import old_insights

COLUMNS = ("metric", "where", "measure", "insights", "live", "difference", "relative", "why")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    """List the differences between the old Insights numbers and the live ones."""

    help = "List, per course and metric, the days and weeks where Insights' numbers and the live ones differ."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the command's options."""
        parser.add_argument("--course", action="append", required=True, metavar="COURSE_ID",
                            help="The course to compare (repeatable).")
        parser.add_argument("--start-date", type=_date, help="First day compared (YYYY-MM-DD, inclusive).")
        parser.add_argument("--end-date", type=_date, help="Day the comparison stops before (exclusive).")
        parser.add_argument("--base-url", help="The Insights data API's root (default: the configured one).")
        parser.add_argument("--token", default="", help="Its token, with --base-url.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Compare each course; print the differences and the explanations."""
        source = (insights_client.Source(options["base_url"].rstrip("/"), options["token"])
                  if options["base_url"] else insights_client.configured())
        if source is None:
            raise CommandError("No Insights data API configured: enable InsightsDataApiConfiguration in the "
                               "admin, or give --base-url and --token.")
        courses = []
        for text in options["course"]:
            try:
                courses.append(str(CourseKey.from_string(text)))
            except InvalidKeyError:
                raise CommandError(f"Not a course id: {text!r}") from None
        start, end = options["start_date"], options["end_date"]
        self.stdout.write("\t".join(("course", *COLUMNS)))
        for course in courses:
            try:
                old = old_insights.read(source, course, old_insights.ACTIVITY_ENDPOINTS, start, end)
            except old_insights.Unavailable as error:
                raise CommandError(f"The Insights data API at {source.base_url} did not answer for {course} "
                                   f"({error}).", returncode=2) from None
            comparison = old_insights.compare(old, course, start, end)
            differences = comparison.differences
            for d in differences:
                relative = "" if d.relative is None else f"{100 * d.relative:+.1f}%"
                why = "explained" if d.known else ("no live figure" if d.live is None else "differs")
                self.stdout.write("\t".join(str(v) for v in (
                    course, d.metric, d.where, d.measure, "" if d.insights is None else d.insights,
                    "" if d.live is None else d.live, "" if d.delta is None else f"{d.delta:+d}",
                    relative, why)))
            explained = sum(1 for d in differences if d.known)
            counted = ", ".join(f"{count} {metric}" for metric, count in comparison.compared.items())
            self.stdout.write(f"# {course}: {len(differences)} differences ({explained} explained by definitions); "
                              f"compared {counted} (days, weeks, videos, problems Insights has)")
        self.stdout.write("# Known definitional differences:")
        for metric, text in old_insights.KNOWN_DIFFERENCES.items():
            self.stdout.write(f"# {metric}: {text}")
