"""Small cells, as a property: whatever the minimum cell size (1 to 20) and however the learners are spread,
no hidden count can be worked out from everything the page, its CSVs and the REST API show.

Everything shown of the learners breakdowns is gathered into one value (``shown``): the REST
API's object (totals, counts, shares, the "unknown" rows, the marks, the median age), each
breakdown's CSV rows, and each page panel's table, notes and chart. For every hidden count
that is not empty a *witness* is looked for: another spread of the same enrolled learners, any
number of them moved between two cells of the breakdown (fewest first) so that the hidden count
changes, that shows exactly the same; for a breakdown hidden whole, of which only the total is
shown, random spreads of the same learners over its top-level cells are tried until one is
hidden whole too with another count for the cell. A witness proves that whoever reads everything shown,
knowing the rule, the minimum and which cells are hidden and why, still finds two possible
values for the cell.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openedx_analytics.api import learners as learners_api
from openedx_analytics.dashboard import learners as learners_page

THIS_YEAR = 2026
TODAY = dt.date(THIS_YEAR, 6, 1)
LEVEL_CODE = {level: code for code, level in reversed(list(learners_api.EDUCATION_CODES.items()))}
GENDER_CODE = {name: code for code, name in learners_api.GENDER_CODES.items()}
COUNTRIES = ("BR", "DE", "FR", "IN", "KE", "US")
UNKNOWN = learners_api.UNKNOWN


class FakePage:
    """What a panel asks of its page: the course and its CSV links."""

    course_id = "course-v1:Prop+P1+2026"

    def api_url(self, name: str, extra: dict[str, str] | None = None) -> str:
        return f"/{name}?{sorted((extra or {}).items())}"


def profile_counts(name: str, cells: dict[Any, int], enrolled: int) -> dict[str, Any]:
    """The LMS's counts per profile value for one breakdown's known cells (the others all unknown)."""
    counts: dict[str, Any] = {"enrolled": enrolled, "year_of_birth": {}, "level_of_education": {}, "gender": {},
                              "country": {}}
    field, code = {
        "age": ("year_of_birth", lambda age: THIS_YEAR - age),
        "education": ("level_of_education", LEVEL_CODE.get),
        "gender": ("gender", GENDER_CODE.get),
        "country": ("country", lambda c: c),
    }[name]
    counts[field] = {code(value): count for value, count in cells.items() if count}
    return counts


def shown(name: str, cells: dict[Any, int], enrolled: int, monkeypatch) -> Any:
    """Everything the REST API, the CSVs and the page show of these learners."""
    monkeypatch.setattr(learners_api, "_counts", lambda course: (profile_counts(name, cells, enrolled), None))
    data = learners_api.get_learners(FakePage.course_id, today=TODAY)
    csvs = {part: learners_api.breakdown_rows(data, part) for part in learners_api.BREAKDOWNS}
    panels = []
    for part in learners_api.BREAKDOWNS:
        panel = learners_page._panel(FakePage(), data, part)
        table = [[cell.text for cell in row] for row in panel.table.rows] if panel.table else None
        panels.append((table, [str(note) for note in panel.notes], str(panel.chart or "")))
    return repr((data, csvs, panels))


def hidden_cells(name: str, cells: dict[Any, int], enrolled: int, monkeypatch) -> dict[Any, str]:
    """The cells of the breakdown ``name`` hidden (bands by their value, ``unknown`` by its own), with their marks."""
    monkeypatch.setattr(learners_api, "_counts", lambda course: (profile_counts(name, cells, enrolled), None))
    part = learners_api.get_learners(FakePage.course_id, today=TODAY)[name]
    every = [*part.get("bands", []), *part["values"], part["unknown"]]
    return {c["value"]: c["suppressed"] for c in every if c["suppressed"]}


def true_count(cells: dict[Any, int], enrolled: int, value: Any) -> int:
    return enrolled - sum(cells.values()) if value == UNKNOWN else cells.get(value, 0)


def moved(cells: dict[Any, int], source: Any, target: Any, amount: int) -> dict[Any, int]:
    """``amount`` learners moved from ``source`` to ``target`` (the unknown takes or gives them implicitly)."""
    out = dict(cells)
    if source != UNKNOWN:
        out[source] = out.get(source, 0) - amount
    if target != UNKNOWN:
        out[target] = out.get(target, 0) + amount
    return {value: count for value, count in out.items() if count or value not in _DYNAMIC}


_DYNAMIC: set = set()  # filled per breakdown: values listed only when someone has them (ages, countries)


@st.composite
def spreads(draw):
    """A minimum cell size, a breakdown and its learners: counts often near the minimum, where cells are hidden."""
    minimum = draw(st.integers(1, 20))
    count = st.one_of(st.integers(0, 2 * minimum + 2), st.integers(0, 6 * minimum + 10), st.just(0))
    name = draw(st.sampled_from(learners_api.BREAKDOWNS))
    if name == "age":
        ages = draw(st.lists(st.integers(0, 110), min_size=0, max_size=8, unique=True))
        cells = {min(age, learners_api.OLDEST): 0 for age in ages}
        for age in ages:
            cells[min(age, learners_api.OLDEST)] += draw(st.integers(1, 2 * minimum + 3))
    elif name == "country":
        codes = draw(st.lists(st.sampled_from(COUNTRIES), max_size=5, unique=True))
        cells = {code: draw(st.integers(1, 3 * minimum + 3)) for code in codes}
    elif name == "education":
        cells = {level: draw(count) for level, _label in learners_api.EDUCATION_LEVELS}
    else:
        cells = {gender: draw(count) for gender, _label in learners_api.GENDERS}
    enrolled = sum(cells.values()) + draw(count)
    return minimum, name, cells, enrolled


def band_of(name: str, value: Any) -> Any:
    """The band holding ``value`` (None: no band): a move inside a band keeps the band's count."""
    if name == "age" and isinstance(value, int):
        return next(band for band, _l, first, last in learners_api.AGE_BANDS if first <= value <= last)
    if name == "education":
        return next((band for band, _l, members in learners_api.EDUCATION_BANDS if value in members), None)
    return None


def value_cells(name: str, cells: dict[Any, int]) -> list[Any]:
    """Where learners can be moved to: the breakdown's values (and, for ages and countries, ones nobody has yet:
    one per band, one country), and the unknown."""
    every = list(cells)
    if name == "age":
        every += [age for age in (20, 30, 60) if age not in cells]
    elif name == "country":
        every += [code for code in COUNTRIES if code not in cells][:1]
    elif name == "education":
        every = [level for level, _label in learners_api.EDUCATION_LEVELS]
    elif name == "gender":
        every = [gender for gender, _label in learners_api.GENDERS]
    return [*every, UNKNOWN]


def count_of(name: str, cells: dict[Any, int], enrolled: int, cell: Any) -> int:
    """The true count of a value, a band or the unknown."""
    members = [v for v in cells if band_of(name, v) == cell]
    if members:
        return sum(cells[v] for v in members)
    return true_count(cells, enrolled, cell)


def top_cells(name: str, cells: dict[Any, int]) -> dict[Any, list[Any]]:
    """The breakdown's top-level cells (bands, values in no band) and, per cell, the values it is made of."""
    if name == "age":
        return {band: [age for age in (20, 30, 60) if first <= age <= last]
                for band, _l, first, last in learners_api.AGE_BANDS}
    if name == "education":
        tops = {band: list(members) for band, _l, members in learners_api.EDUCATION_BANDS}
        return {**tops, "other": ["other"]}
    return {value: [value] for value in value_cells(name, cells) if value != UNKNOWN}


def whole_breakdown_witness(name: str, cells: dict[Any, int], enrolled: int, minimum: int, cell: Any, mine: int,
                            same) -> dict[Any, int] | None:
    """For a breakdown hidden whole (only the enrolled total is shown of it): another spread of the same learners
    over its top-level cells that is hidden whole too and gives the cell another count (random spreads tried)."""
    from random import Random

    from openedx_analytics.privacy import small_cells

    tops = top_cells(name, cells)
    keys = [*tops, UNKNOWN]
    chance = Random(f"{name}{sorted(cells.items(), key=repr)}{enrolled}{minimum}")
    for _ in range(20000):
        cuts = sorted(chance.randint(0, enrolled) for _ in range(len(keys) - 1))
        counts = [b - a for a, b in zip([0, *cuts], [*cuts, enrolled], strict=True)]
        top = dict(zip(keys, counts, strict=True))
        if set(small_cells.suppress(top, minimum).values()) != {small_cells.ALL}:
            continue
        candidate = {value: 0 for members in tops.values() for value in members if value not in _DYNAMIC}
        for key, members in tops.items():
            if top[key]:
                candidate[members[0]] = top[key]
        candidate = {value: count for value, count in candidate.items() if count or value not in _DYNAMIC}
        if count_of(name, candidate, enrolled, cell) != mine and same(candidate):
            return candidate
    return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spreads())
def test_no_hidden_count_can_be_recovered_from_anything_shown(monkeypatch, spread):
    minimum, name, cells, enrolled = spread
    _DYNAMIC.clear()
    _DYNAMIC.update(cells if name in ("age", "country") else ())
    _DYNAMIC.update({20, 30, 60, *COUNTRIES} if name in ("age", "country") else ())
    with override_settings(OPENEDX_ANALYTICS_MIN_CELL_SIZE=minimum, OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS=0):
        seen = shown(name, cells, enrolled, monkeypatch)
        hidden = hidden_cells(name, cells, enrolled, monkeypatch)
        places = value_cells(name, cells)
        memo: dict[Any, bool] = {}

        def same(candidate: dict[Any, int]) -> bool:
            key = tuple(sorted(candidate.items(), key=repr))
            if key not in memo:
                memo[key] = shown(name, candidate, enrolled, monkeypatch) == seen
            return memo[key]

        for cell in hidden:
            mine = count_of(name, cells, enrolled, cell)
            if not mine:
                continue
            amounts = range(1, enrolled + 1)  # small moves first: most witnesses move one learner
            witness = next((
                candidate
                for amount in amounts
                for source in places for target in places
                if source != target and true_count(cells, enrolled, source) >= amount
                for candidate in [moved(cells, source, target, amount)]
                if count_of(name, candidate, enrolled, cell) != mine and same(candidate)), None)
            if witness is None and hidden[cell] == "all":
                witness = whole_breakdown_witness(name, cells, enrolled, minimum, cell, mine, same)
            assert witness is not None, repr((minimum, name, sorted(cells.items(), key=repr), enrolled, cell, hidden))
