"""``backfill_analytics``: rebuild analytics history from tracking logs and LMS tables.

Examples::

    ./manage.py lms backfill_analytics --tracking-logs /edx/var/log/tracking/ --since 2024-01-01
    zcat tracking.log-2024*.gz | ./manage.py lms backfill_analytics --tracking-logs -
    ./manage.py lms backfill_analytics --from-lms --course course-v1:Org+Num+Run
    ./manage.py lms backfill_analytics --from-lms --all --workers 8

Events go through the live path's normalizer and fact writers, so a backfill over a
window the live path already covered changes nothing. See docs/backfill.md.
"""
from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openedx_analytics.backfill.heap import startup_objects_frozen
from openedx_analytics.backfill.orchestrate import BackfillError, execute
from openedx_analytics.backfill.readers import InputError, expand_inputs
from openedx_analytics.backfill.runner import Options
from openedx_analytics.backfill.scope import BackfillScope
from openedx_analytics.lms import host


class Command(BaseCommand):
    """Backfill facts and aggregates from tracking-log files and/or the LMS's own tables."""

    help = "Rebuild course analytics from tracking logs (--tracking-logs) and LMS tables (--from-lms)."

    def add_arguments(self, parser: CommandParser) -> None:
        """Declare the command's options."""
        parser.add_argument("--tracking-logs", nargs="+", default=[], metavar="PATH",
                            help="Tracking-log files, directories, globs (plain or gzip), or - for standard input.")
        parser.add_argument("--from-lms", action="store_true",
                            help="Rebuild enrollments, grades, certificates and problem attempts from LMS tables.")
        parser.add_argument("--course", action="append", default=[], metavar="COURSE_ID",
                            help="Only this course (repeatable).")
        parser.add_argument("--org", action="append", default=[], help="Only courses of this organization.")
        parser.add_argument("--since", help="Only events at or after this date/time (UTC, YYYY-MM-DD or ISO).")
        parser.add_argument("--until", help="Only events before this date/time (UTC, exclusive).")
        parser.add_argument("--all", action="store_true",
                            help="Confirm an LMS backfill of every course (required for --from-lms without scope).")
        parser.add_argument("--batch-size", type=int, default=5000, help="Events per transaction (default 5000).")
        parser.add_argument("--dry-run", action="store_true",
                            help="Parse and validate; write nothing; print what would change.")
        parser.add_argument("--restart", action="store_true",
                            help="Ignore this run's checkpoint and start over (re-writing is harmless).")
        parser.add_argument("--workers", type=int, default=1,
                            help="Split the input into chunks run as Celery tasks (default 1: this process only).")
        parser.add_argument("--chunk-lines", type=int, default=100_000,
                            help="Lines per chunk with --workers (default 100000).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar or progress lines.")

    def handle(self, *args: Any, **opts: Any) -> None:
        """Validate the options, run (or resume) the backfill and print its summary."""
        options = self._options(opts)
        try:
            with startup_objects_frozen():
                summary, checkpoint, already = execute(
                    options, progress_stream=sys.stderr, progress=not opts["no_progress"]
                )
        except BackfillError as exc:
            raise CommandError(str(exc)) from exc
        except host.NotAvailable as exc:
            raise CommandError(f"--from-lms: {exc}") from exc
        if already:
            self.stdout.write(
                "This backfill (same arguments) has already finished; nothing to do. Use --restart to run it again."
            )
            return
        if checkpoint.resumed:
            self.stdout.write("Resumed from the checkpoint of an interrupted run with the same arguments.")
        for line in summary.render(dry_run=options.dry_run):
            self.stdout.write(line)
        if summary.scopes_failed:
            raise CommandError(f"{summary.scopes_failed} scopes failed to recompute (see the log and the admin's "
                               "Scope failures: the workers retry them, a quarantined one is retried from there)")

    def _options(self, opts: dict[str, Any]) -> Options:
        if not opts["tracking_logs"] and not opts["from_lms"]:
            raise CommandError("nothing to backfill: give --tracking-logs PATH... and/or --from-lms")
        if opts["batch_size"] < 1 or opts["workers"] < 1 or opts["chunk_lines"] < 1:
            raise CommandError("--batch-size, --workers and --chunk-lines must be positive")
        try:
            scope = BackfillScope.build(opts["course"], opts["org"], opts["since"], opts["until"])
            inputs = expand_inputs(opts["tracking_logs"])
        except (ValueError, InputError) as exc:
            raise CommandError(str(exc)) from exc
        if scope.since and scope.until and scope.since >= scope.until:
            raise CommandError("--since must be before --until")
        if opts["from_lms"] and scope.unscoped and not opts["all"]:
            raise CommandError("--from-lms without --course or --org reads every course's LMS tables; "
                               "add --all to confirm")
        return Options(
            inputs=inputs, from_lms=opts["from_lms"], scope=scope, batch_size=opts["batch_size"],
            dry_run=opts["dry_run"], restart=opts["restart"], workers=opts["workers"],
            chunk_lines=opts["chunk_lines"],
        )
