"""``demo_links``: what the demo prints last, where to go and who to log in as.

``demo.sh`` calls it once the server answers, so the terminal ends on the demo's address,
its other pages and the accounts (password = user name) that exist in the database.
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.urls import reverse

from lms_host.home import demo_accounts


def demo_links(base_url: str) -> list[tuple[str, str]]:
    """(label, absolute URL) of every page the demo points a newcomer to."""
    base = base_url.rstrip("/")
    return [
        ("REST API", base + reverse("openedx_analytics:v1:courses")),
        ("API docs", base + reverse("openedx_analytics:v1:docs")),
        ("admin (as admin)", base + reverse("admin:index")),
    ]


class Command(BaseCommand):
    """Print the demo's address, its other pages and the accounts to log in with."""

    help = __doc__

    def add_arguments(self, parser: Any) -> None:
        """Where the demo server answers."""
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="the demo server's address")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the links, then the address and the accounts."""
        url = options["url"].rstrip("/") + "/"
        self.stdout.write("Also: " + ", ".join(f"{label} {link}" for label, link in demo_links(url)))
        self.stdout.write("")
        self.stdout.write(f"Open {url} and log in as one of these (the password is the user name):")
        for name, who in demo_accounts():
            self.stdout.write(f"  {name:<11} {who}")
