"""The course analytics page as the tests read it: its URL, a logged-in browser, its tables and links."""
from __future__ import annotations

from html.parser import HTMLParser

from django.test import Client
from django.urls import reverse

from tests.support.api import COURSE


def page_url(course=COURSE):
    """The page of ``course``."""
    return reverse("openedx_analytics:dashboard:course", kwargs={"course_id": course})


def client(user):
    """A Django test client logged in as ``user`` (anonymous for None)."""
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


class Tables(HTMLParser):
    """Every <table id=...> of a page as lists of cell texts, and every link."""

    def __init__(self):
        super().__init__()
        self.tables, self.links = {}, []
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a":
            self.links.append(attrs.get("href"))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(response):
    """The tables and links of a page response (``Tables``)."""
    parser = Tables()
    parser.feed(response.content.decode())
    return parser
