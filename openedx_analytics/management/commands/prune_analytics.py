"""``prune_analytics``: apply the learner-data retention now (the plugin also does it once a day by itself).

Example::

    ./manage.py lms prune_analytics

With ``OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS`` set, de-identifies the facts of
every learner who has had no fact in a course for that many days (aggregates unchanged)
and deletes rejected-event samples older than that. See docs/privacy.md.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from openedx_analytics.privacy import retention


class Command(BaseCommand):
    """De-identify learner-level facts older than the retention window; delete old rejected-event samples."""

    help = "Apply OPENEDX_ANALYTICS_LEARNER_DATA_RETENTION_DAYS now: de-identify stale learners' facts."

    def handle(self, *args: Any, **opts: Any) -> None:
        """Prune once and print what changed."""
        try:
            days = retention.retention_days()
        except (TypeError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if days is None:
            raise CommandError(f"{retention.SETTING} is not set: learner-level facts are kept as they are")
        report = retention.prune()
        self.stdout.write(f"Retention: {days} days (facts before {report.cutoff:%Y-%m-%d %H:%M} UTC)")
        self.stdout.write(f"Learner-course pairs de-identified: {report.learners:,}")
        for table, count in sorted(report.rows.items()):
            self.stdout.write(f"  {table}: {count:,} rows")
        self.stdout.write(f"Rejected-event samples deleted: {report.samples_deleted:,}")
