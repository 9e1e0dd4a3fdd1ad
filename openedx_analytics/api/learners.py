"""Who the enrolled learners are: age, education, gender and country, with small cells hidden.

Read from the LMS's own profile table through the LMS seam (``lms.profiles``: counts per
value, grouped in SQL) and kept in the Django cache per course for
``OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS``; nothing of a profile is stored in the
analytics database, so a learner's edit, or the LMS's retirement of a learner, shows at
the next read. Every breakdown goes through ``privacy.small_cells`` before anyone sees it
(page, CSV and REST API alike): a hidden cell has ``learners`` and ``share`` None and says
why in ``suppressed``; ages and countries listed, and the median age, are held to the same
rule (``_listed_ages``, ``_shown_median``). Shares divide by every enrolled learner (the unknown ones included),
so no share needs a denominator that a hidden "unknown" would give away.

Age and education also have bands (Insights' summaries). A band is a cell of its
breakdown; the values inside a band shown are protected against the band's count, and
every value of a hidden band is hidden, so neither level gives the other away.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import statistics
from collections.abc import Hashable, Mapping
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from openedx_analytics import conf, course_cache
from openedx_analytics.lms import host, profiles
from openedx_analytics.pipeline.envelope import parse_course_id
from openedx_analytics.privacy import small_cells

BREAKDOWNS = ("age", "education", "gender", "country")
UNKNOWN = "unknown"
#: Ages at or over this are one value (Insights: "100+").
OLDEST = 100
#: Age bands: (value, label, first age, last age) — 25 and under, 26-40, 41 and over.
AGE_BANDS = (("25_and_under", _("25 and under"), 0, 25), ("26_to_40", _("26-40"), 26, 40),
             ("41_and_over", _("41 and over"), 41, OLDEST))
#: The LMS's ``level_of_education`` codes (edx-platform ``UserProfile.LEVEL_OF_EDUCATION_CHOICES``, and the
#: older doctorate codes) to Insights' education levels.
EDUCATION_CODES = {"none": "none", "el": "primary", "jhs": "junior_secondary", "hs": "secondary",
                   "a": "associates", "b": "bachelors", "m": "masters", "p": "doctorate", "p_se": "doctorate",
                   "p_oth": "doctorate", "other": "other"}
EDUCATION_LEVELS = (("none", _("None")), ("primary", _("Primary")),
                    ("junior_secondary", _("Middle/junior secondary")), ("secondary", _("Secondary")),
                    ("associates", _("Associate degree")), ("bachelors", _("Bachelor's degree")),
                    ("masters", _("Master's degree")), ("doctorate", _("Doctorate")), ("other", _("Other")))
#: Insights' education summary: levels grouped ("other" belongs to none).
EDUCATION_BANDS = (("high_school_or_less", _("High school diploma or less"),
                    ("none", "primary", "junior_secondary", "secondary")),
                   ("college", _("College degree"), ("associates", "bachelors")),
                   ("advanced", _("Advanced degree"), ("masters", "doctorate")))
GENDERS = (("female", _("Female")), ("male", _("Male")), ("other", _("Other")))
GENDER_CODES = {"f": "female", "m": "male", "o": "other"}


def _cache_key(course_id: str) -> str:
    text = repr((course_id, course_cache.generation(course_id)))
    return "openedx_analytics.learners." + hashlib.sha256(text.encode()).hexdigest()


def _counts(course_id: str) -> tuple[dict[str, Any], dt.datetime | None]:
    """The LMS's counts per profile value and when they were read, from the cache when fresh enough."""
    seconds = int(conf.get("OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS") or 0)
    key = _cache_key(course_id)
    if seconds > 0:
        cached = cache.get(key)
        if cached is not None:
            return cached
    try:
        read = (profiles.profile_counts(course_id), dt.datetime.now(dt.timezone.utc))
    except host.NotAvailable:  # outside any LMS: nobody to count (and nothing cached)
        return {"enrolled": 0, **{field: {} for field in profiles.FIELDS}}, None
    if seconds > 0:
        cache.set(key, read, seconds)
    return read


def _add(out: dict[Hashable, int], key: Hashable, count: int) -> None:
    out[key] = out.get(key, 0) + count


def _unknown(enrolled: int, known: Mapping[Hashable, int]) -> int:
    """Learners with no usable value: the blank ones and those without a profile row."""
    return max(0, enrolled - sum(known.values()))


def _ages(by_year: Mapping[Any, int], year: int) -> dict[int, int]:
    ages: dict[int, int] = {}
    for born, count in by_year.items():
        if isinstance(born, int) and 0 <= year - born:
            _add(ages, min(year - born, OLDEST), count)
    return ages


def _median(ages: Mapping[int, int]) -> float | None:
    """The median over known ages, from the counts per age (no list of learners is built)."""
    total = sum(ages.values())
    if not total:
        return None
    wanted = sorted({(total - 1) // 2, total // 2})
    found: list[int] = []
    seen = 0
    for age in sorted(ages):
        while wanted and wanted[0] < seen + ages[age]:
            found.append(age)
            wanted.pop(0)
        seen += ages[age]
    return float(statistics.mean(found))


def _cell(value: Any, label: Any, count: int, hidden: Mapping[Hashable, str], enrolled: int) -> dict[str, Any]:
    mark = hidden.get(value)
    return {"value": value, "label": str(label), "learners": None if mark else count,
            "share": None if mark or not enrolled else round(count / enrolled, 4), "suppressed": mark}


def _banded(enrolled: int, values: list[tuple[Any, Any, int]], bands: list[tuple[str, Any, list[Any]]],
            unknown: int, minimum: int) -> dict[str, Any]:
    """A breakdown with bands: bands (and values outside any) protected against the enrolled total, the
    values of each band shown protected against the band."""
    count_of = {value: count for value, _label, count in values}
    banded = {v for _b, _l, members in bands for v in members}
    top = {band: sum(count_of.get(v, 0) for v in members) for band, _label, members in bands}
    top.update({value: count for value, _label, count in values if value not in banded})
    top[UNKNOWN] = unknown
    hidden_top = small_cells.suppress(top, minimum)
    hidden: dict[Hashable, str] = {v: hidden_top[v] for v in count_of if v in hidden_top}
    for band, _label, members in bands:
        if band in hidden_top:
            hidden.update({v: hidden_top[band] if hidden_top[band] == small_cells.ALL else small_cells.COMPLEMENT
                           for v in members})
        else:
            hidden.update(small_cells.suppress({v: count_of.get(v, 0) for v in members}, minimum))
    return {
        "bands": [_cell(band, label, top[band], hidden_top, enrolled) for band, label, _m in bands],
        "values": [_cell(value, label, count, hidden, enrolled) for value, label, count in values],
        "unknown": _cell(UNKNOWN, _("Unknown"), unknown, hidden_top, enrolled),
    }


def _flat(enrolled: int, values: list[tuple[Any, Any, int]], unknown: int, minimum: int) -> dict[str, Any]:
    cells: dict[Hashable, int] = {value: count for value, _label, count in values}
    cells[UNKNOWN] = unknown
    hidden = small_cells.suppress(cells, minimum)
    return {"values": [_cell(value, label, count, hidden, enrolled) for value, label, count in values],
            "unknown": _cell(UNKNOWN, _("Unknown"), unknown, hidden, enrolled)}


def _unlisted_when_all_hidden(part: dict[str, Any]) -> dict[str, Any]:
    """A breakdown listing only the values someone has (ages, countries), hidden whole: no value listed.

    Which ages or countries a breakdown lists says that someone has them; when every count is
    hidden, that list alone would give the "unknown" back (none listed: every enrolled learner
    is unknown), so none is listed.
    """
    if part["unknown"]["suppressed"] == small_cells.ALL:
        part["values"] = []
    return part


def _listed_ages(age: dict[str, Any], bands: list[tuple[str, Any, list[int]]]) -> dict[str, Any]:
    """The ages listed: none of a hidden band, none hidden with their whole band (``all``).

    An age is listed only when someone has it, so a list says "at least one" of each age in
    it: three ages listed in a band of 3 learners, or in a band hidden as fewer than 4, would
    each be 1. Only the ages whose band is shown and whose own count, when hidden, is hidden
    against that band as small or as its complement (bounds that already allow for "at least
    one") are listed.
    """
    hidden_bands = {band for band, _label, _members in bands
                    if next(c for c in age["bands"] if c["value"] == band)["suppressed"]}
    band_of = {value: band for band, _label, members in bands for value in members}
    age["values"] = [cell for cell in age["values"]
                     if cell["suppressed"] != small_cells.ALL and band_of.get(cell["value"]) not in hidden_bands]
    if age["unknown"]["suppressed"] == small_cells.ALL:
        age["values"] = []
    return age


def _shown_median(ages: Mapping[int, int], age: dict[str, Any], minimum: int) -> dict[str, Any]:
    """The median age as far as it reveals no hidden count: ``median`` and ``median_band``.

    The median is a count in disguise: where it falls tells how many learners are on each side
    of it, so an exact median over ages of which some are hidden can pin one (a median of 30.5
    says exactly half are 30 or under). It is shown exactly when every age's count is shown
    (it is then worked out from what is shown); else only the band it falls in (the band of
    the lower middle learner, worked out from the band counts, all shown), or nothing when a
    band is hidden too, or when fewer than ``minimum`` learners gave an age.
    """
    known = sum(ages.values())
    if known < minimum or not known:
        return {"median": None, "median_band": None}
    if not any(cell["suppressed"] for cell in age["values"]):
        return {"median": _median(ages), "median_band": None}
    if any(cell["suppressed"] for cell in age["bands"]):
        return {"median": None, "median_band": None}
    lower_middle = (known - 1) // 2
    seen = 0
    for cell in age["bands"]:
        seen += cell["learners"]
        if lower_middle < seen:
            return {"median": None, "median_band": cell["value"]}
    return {"median": None, "median_band": None}


def country_name(code: str) -> str:
    """The country's name (django-countries, as the LMS has it installed), else its code."""
    try:
        from django_countries import countries
    except ImportError:
        return code
    return str(countries.name(code)) or code


def _this_year() -> int:
    return dt.datetime.now(dt.timezone.utc).year


def get_learners(course_id: Any, today: dt.date | None = None) -> dict[str, Any]:
    """The four breakdowns of the learners enrolled in ``course_id`` now, small cells hidden.

    Returns ``course_id``, ``enrolled``, ``minimum_cell_size``, ``computed_at`` (when the LMS
    was read; the figures are kept ``OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS``) and ``age``
    (``median``, or ``median_band`` when some age's count is hidden; ``bands``, ``values`` per age
    listed, ``unknown``), ``education`` (``bands``, ``values``, ``unknown``), ``gender`` and ``country``
    (``values``, ``unknown``). Each cell has ``value``, ``label``, ``learners``, ``share`` (of every
    enrolled learner) and ``suppressed`` (None, ``small``, ``complement`` or ``all``). Outside any LMS nobody is
    counted and ``computed_at`` is None.
    """
    course = parse_course_id(str(course_id))
    counts, computed_at = _counts(course)
    enrolled = counts["enrolled"]
    minimum = small_cells.minimum_cell_size()
    year = today.year if today else _this_year()

    ages = _ages(counts["year_of_birth"], year)
    age_values = [(age, f"{age}+" if age == OLDEST else str(age), ages[age]) for age in sorted(ages)]
    age_bands = [(band, label, [a for a in ages if first <= a <= last]) for band, label, first, last in AGE_BANDS]
    age = _banded(enrolled, age_values, age_bands, _unknown(enrolled, ages), minimum)
    age.update(_shown_median(ages, age, minimum))  # before the values go: it reads their marks
    age = _listed_ages(age, age_bands)

    levels: dict[Hashable, int] = {}
    for code, count in counts["level_of_education"].items():
        if code in EDUCATION_CODES:
            _add(levels, EDUCATION_CODES[code], count)
    education = _banded(enrolled, [(v, label, levels.get(v, 0)) for v, label in EDUCATION_LEVELS],
                        [(b, label, list(members)) for b, label, members in EDUCATION_BANDS],
                        _unknown(enrolled, levels), minimum)

    genders: dict[Hashable, int] = {}
    for code, count in counts["gender"].items():
        if code in GENDER_CODES:
            _add(genders, GENDER_CODES[code], count)
    gender = _flat(enrolled, [(v, label, genders.get(v, 0)) for v, label in GENDERS],
                   _unknown(enrolled, genders), minimum)

    places: dict[Hashable, int] = {}
    for code, count in counts["country"].items():
        if isinstance(code, str) and len(code) == 2 and code.isalpha():
            _add(places, code.upper(), count)
    country = _unlisted_when_all_hidden(_flat(enrolled, [(code, country_name(code), places[code])
                                                         for code in sorted(places)],
                                              _unknown(enrolled, places), minimum))

    return {"course_id": course, "enrolled": enrolled, "minimum_cell_size": minimum, "computed_at": computed_at,
            "age": age, "education": education, "gender": gender, "country": country}


def breakdown_rows(learners: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """One breakdown as flat rows (``kind`` band, value or unknown), for CSV: hidden cells stay hidden."""
    part = learners[name]
    rows = []
    for kind, cells in (("band", part.get("bands", [])), ("value", part["values"]), ("unknown", [part["unknown"]])):
        rows += [{"kind": kind, "value": c["value"], "label": c["label"], "learners": c["learners"],
                  "share": c["share"], "suppressed": c["suppressed"] or ""} for c in cells]
    return rows
