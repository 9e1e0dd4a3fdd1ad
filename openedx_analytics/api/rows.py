"""Shape the Python API's rows for display: one field per enrollment mode, no internal fields, links.

The REST API (rows on the wire, CSV columns) and the analytics page (chart series, table
columns) show the same rows; shaped here, below both, they agree on which mode columns a
course has. Pure functions, so the tricky part (a consistent set of mode columns) is
unit-testable.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: Modes that every enrollment row carries (as Insights did); other modes are added by name.
STANDARD_MODES: tuple[str, ...] = ("audit", "verified", "honor", "professional", "credit", "masters")
ENROLLMENT_FIELDS = ("date", "count", "cumulative_count", "enrollments", "unenrollments", "partial")


def mode_columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Standard modes, then any other mode seen in ``rows`` (sorted), so every row has the same fields."""
    seen = {mode for row in rows for mode in row["modes"]}
    return list(STANDARD_MODES) + sorted(seen - set(STANDARD_MODES))


def mode_field(mode: str) -> str:
    """The field name of a mode's count (prefixed when a mode is named like a fixed field)."""
    return f"mode_{mode}" if mode in ENROLLMENT_FIELDS else mode


def enrollment(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Daily enrollment rows with one field per mode (learners in that mode at the end of the day)."""
    modes = mode_columns(rows)
    return [
        {
            "date": row["date"],
            "count": row["count"],
            "cumulative_count": row["cumulative_count"],
            **{mode_field(mode): row["modes"].get(mode, {}).get("count", 0) for mode in modes},
            "enrollments": row["enrollments"],
            "unenrollments": row["unenrollments"],
            "partial": row["partial"],
        }
        for row in rows
    ]


def without(rows: Iterable[Mapping[str, Any]], *fields: str) -> list[dict[str, Any]]:
    """``rows`` without ``fields`` (e.g. the per-row ``last_updated``, stated once in the header)."""
    return [{key: value for key, value in row.items() if key not in fields} for row in rows]


def linked(rows: Iterable[Mapping[str, Any]], field: str, url: Callable[[Mapping[str, Any]], str]
           ) -> list[dict[str, Any]]:
    """``rows`` each with ``field`` set to ``url(row)``: the link that opens the row's detail."""
    return [{**row, field: url(row)} for row in rows]


def latest(stamps: Iterable[dt.datetime | None]) -> dt.datetime | None:
    """The most recent of ``stamps`` (None when there is none)."""
    known = [stamp for stamp in stamps if stamp is not None]
    return max(known) if known else None


def in_course_order(items: Iterable[Mapping[str, Any]], outline: Mapping[str, Mapping[str, Any]], key: str
                    ) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """``items`` in course order, each with its place in ``outline`` (``lms.courses.course_outline``).

    Blocks the outline has not (deleted since, or no outline yet) come last, by id, with an
    empty place: the page and the CSVs list blocks in the same order.
    """
    last = len(outline)
    placed = [(item, outline.get(item[key]) or {}) for item in items]
    return sorted(placed, key=lambda pair: (pair[1].get("position", last), pair[0][key]))


def block_place(position: int, place: Mapping[str, Any], name_field: str, block_id: str) -> dict[str, Any]:
    """The first columns of a block's CSV row: its rank in course order, section, subsection and name.

    ``name_field`` names the display-name column (``video``, ``problem``); a block the outline
    does not name is named by its id.
    """
    return {"position": position, "section": place.get("section") or "", "subsection": place.get("subsection") or "",
            name_field: place.get("display_name") or block_id}
