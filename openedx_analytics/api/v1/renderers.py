"""CSV for every list the API serves (``?format=csv`` or ``Accept: text/csv``).

Rows are the JSON rows: a list, a page's ``results``, or a view's ``csv_rows``, under at
least the view's ``csv_header`` (so an empty result still has its header). Nested
objects become dotted columns and lists are joined with ``|``. Text that a spreadsheet
would run as a formula (learners type answers; answers are shown verbatim), or that
starts with a NUL, is prefixed with a quote, the OWASP advice against CSV injection.
Headers go through the same function as cells: column names come from data too (an
enrollment mode is a column).
A list too long to hold (a problem's answers) is streamed by ``streamed_csv`` under a
fixed header, with the same cells.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer

#: First characters a spreadsheet may run as a formula, and NUL, which ASVS 1.2.10 lists with
#: them (a reader that drops it runs the formula behind it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
#: Rows written into one piece of a streamed CSV.
STREAM_PIECE_ROWS = 1000


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One CSV row from a JSON object: nested keys joined with dots."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def cell(value: Any) -> Any:
    """A value as a spreadsheet-safe CSV cell (header or body: both can hold text from learners' data)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = "|".join(str(cell(v)) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[Mapping[str, Any]], header: Sequence[str] = ()) -> str:
    """CSV text with a header of every column seen, in order of first appearance.

    ``header`` names the columns a response always has: an empty result is still a CSV with
    its header (a spreadsheet then shows which figures are absent, not a blank file), and a
    column no row carried is kept, empty.
    """
    flat_rows = [flatten(row) for row in rows]
    columns = list(dict.fromkeys([*(key for row in flat_rows for key in row), *header]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(column) for column in columns])
    for row in flat_rows:
        writer.writerow([cell(row.get(column)) for column in columns])
    return out.getvalue()


def csv_pieces(rows: Iterable[Mapping[str, Any]], columns: Sequence[str],
               piece_rows: int = STREAM_PIECE_ROWS) -> Iterator[bytes]:
    """CSV bytes of ``rows`` under the header ``columns``, ``piece_rows`` rows a piece, as ``rows`` yields them.

    The columns are fixed up front (``to_csv`` learns them from every row, which needs the
    whole list), so only one piece of text is held at a time; cells are escaped by ``cell``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(column) for column in columns])
    written = 0
    for row in rows:
        flat = flatten(row)
        writer.writerow([cell(flat.get(column)) for column in columns])
        written += 1
        if written % piece_rows == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode("utf-8")


def streamed_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> StreamingHttpResponse:
    """A CSV response that writes ``rows`` as they are read (``csv_pieces``): never the whole list in memory."""
    return StreamingHttpResponse(csv_pieces(rows, columns), content_type=f"{CSVRenderer.media_type}; charset=utf-8")


class CSVRenderer(BaseRenderer):
    """Render list responses (and error details) as CSV."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        """The rows of ``data`` as CSV bytes."""
        if data is None:
            return b""
        view = (renderer_context or {}).get("view")
        response = (renderer_context or {}).get("response")
        ok = response is not None and not response.exception
        header = view.csv_header() if ok and hasattr(view, "csv_header") else ()
        if ok and hasattr(view, "csv_rows"):
            rows = view.csv_rows(data)
        elif isinstance(data, Mapping) and isinstance(data.get("results"), list):
            rows = data["results"]
        elif isinstance(data, list):
            rows = data
        else:
            rows = [data]
        return to_csv(rows, header).encode(self.charset)


class FormatParameterWins(DefaultContentNegotiation):
    """``?format=`` picks the renderer whatever the Accept header says (a CSV link works from any client)."""

    def select_renderer(self, request: Any, renderers: list, format_suffix: str | None = None) -> tuple:
        """The renderer named by ``?format=`` (404 for an unknown one), else negotiate on Accept."""
        wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if wanted:
            renderer = self.filter_renderers(renderers, wanted)[0]
            return renderer, renderer.media_type
        return super().select_renderer(request, renderers, format_suffix)
