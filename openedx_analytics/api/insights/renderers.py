"""CSV as Insights' data API wrote it (``analytics_data_api.renderers.PaginatedCsvRenderer``).

Insights flattened nested objects into dotted columns (``country.alpha2``), joined lists
with ``", "``, wrote its columns in alphabetical order unless ``?fields=`` named them (in
that order, unknown names dropped) and rendered only a page's ``results``. The cells go
through our own ``renderers.cell``, so text a spreadsheet would run as a formula is still
neutralized; booleans and nulls are written as Insights' Python wrote them (``True``, empty).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from openedx_analytics.api.v1.renderers import CSVRenderer, cell, flatten

#: Insights' ``DynamicFieldsCsvRenderer.concatenate_lists_sep``.
LIST_SEPARATOR = ", "


def _insights_value(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(_insights_value(v)) for v in value)
    return value


def header(rows: list[dict[str, Any]], fields_param: str | None) -> list[str]:
    """Every column, sorted; or the ``fields`` asked for, in their order, among those."""
    columns = sorted({key for row in rows for key in row})
    if fields_param is None:
        return columns
    return list(dict.fromkeys(name for name in fields_param.split(",") if name in columns))


def to_csv(data: Any, fields_param: str | None) -> str:
    """Insights' CSV of ``data`` (a list of rows, a page with ``results``, or one object)."""
    if isinstance(data, Mapping) and "results" in data:
        data = data["results"]
    rows = data if isinstance(data, list) else [data]
    flat = [{key: _insights_value(value) for key, value in flatten(row).items()} for row in rows]
    columns = header(flat, fields_param)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(column) for column in columns])
    for row in flat:
        writer.writerow([cell(row.get(column)) for column in columns])
    return out.getvalue()


class InsightsCSVRenderer(CSVRenderer):
    """``text/csv`` in Insights' columns (``?format=csv`` or ``Accept: text/csv``)."""

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        """The rows of ``data`` as Insights' CSV bytes (an error body as one row, as Insights did)."""
        if data is None:
            return b""
        request = (renderer_context or {}).get("request")
        fields_param = request.query_params.get("fields") if request is not None else None
        return to_csv(data, fields_param).encode(self.charset)
