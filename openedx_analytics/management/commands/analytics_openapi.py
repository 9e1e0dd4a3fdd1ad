"""``analytics_openapi``: regenerate the committed OpenAPI schema of the REST API (or check it is current)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    """Write ``openedx_analytics/api/v1/openapi.yaml`` from the views and serializers."""

    help = "Regenerate openedx_analytics/api/v1/openapi.yaml (or --check that it is current)."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--check``: fail instead of writing when the committed file differs."""
        parser.add_argument("--check", action="store_true", help="Fail if the committed schema is out of date.")

    def handle(self, *args: Any, **options: Any) -> None:
        """Generate the schema; write it, or compare it with the committed file."""
        from openedx_analytics.api.v1 import docs

        if options["check"]:
            if not docs.SCHEMA_FILE.exists():
                raise CommandError(f"{docs.SCHEMA_FILE} is missing: the package was installed without its data files")
            if docs.SCHEMA_FILE.read_text(encoding="utf-8") != docs.as_yaml(docs.generate()):
                raise CommandError(f"{docs.SCHEMA_FILE} is out of date: run manage analytics_openapi")
            self.stdout.write("schema is current")
            return
        self.stdout.write(f"wrote {docs.write()}")
