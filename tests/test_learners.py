"""The learners breakdowns (age, education, gender, country): counted from the LMS's own profiles of the
learners enrolled now, never copied, with small cells hidden on the page, in its CSVs and in the REST API."""
import csv
import io
import itertools
from collections import defaultdict
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connections
from django.test.utils import CaptureQueriesContext
from opaque_keys.edx.keys import CourseKey

from lms_host.stub.models import CourseEnrollment, UserProfile
from openedx_analytics.api import learners as learners_api
from openedx_analytics.privacy import small_cells
from tests.support.api import BASE, COURSE, client_for
from tests.support.pages import client, page_url, parse

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

URL = f"{BASE}courses/{COURSE}/learners/"
THIS_YEAR = 2026


def learner(n, course=COURSE, active=True, **profile):
    """A learner enrolled in ``course`` with a profile of these fields (no profile row when none is given)."""
    user = get_user_model().objects.create_user(f"prof{n}", f"prof{n}@example.com")
    CourseEnrollment(user=user, course_id=CourseKey.from_string(course), is_active=active).save()
    if profile:
        UserProfile.objects.create(user=user, **profile)
    return user


def by_value(part):
    return {c["value"]: c["learners"] for c in part["values"]}


@pytest.fixture
def exact(settings):
    """Every count shown (a minimum cell size of 1), read afresh each time."""
    settings.OPENEDX_ANALYTICS_MIN_CELL_SIZE = 1
    settings.OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS = 0


def test_each_breakdown_counts_the_profiles_of_learners_enrolled_now(courses, exact, monkeypatch):
    monkeypatch.setattr(learners_api, "_this_year", lambda: THIS_YEAR)
    learner(1, year_of_birth=2006, gender="f", level_of_education="b", country="US")   # 20
    learner(2, year_of_birth=1996, gender="f", level_of_education="m", country="US")   # 30
    learner(3, year_of_birth=1976, gender="m", level_of_education="p_se", country="in")  # 50, old doctorate code
    learner(4, year_of_birth=1900, gender="o", level_of_education="hs", country="")    # 126: 100+
    learner(5, year_of_birth=None, gender="", level_of_education="", country=None)    # all blank
    learner(6)                                                                          # no profile row at all
    learner(7, active=False, year_of_birth=1990, gender="m", level_of_education="a", country="FR")  # unenrolled
    learner(8, course="course-v1:Org+Two+2026", year_of_birth=1990, gender="m", country="FR")      # other course
    data = learners_api.get_learners(COURSE)
    assert data["enrolled"] == 6
    age = data["age"]
    assert by_value(age) == {20: 1, 30: 1, 50: 1, 100: 1}
    assert [c["label"] for c in age["values"]][-1] == "100+"
    assert {c["value"]: c["learners"] for c in age["bands"]} == {"25_and_under": 1, "26_to_40": 1, "41_and_over": 2}
    assert age["unknown"]["learners"] == 2 and age["unknown"]["share"] == round(2 / 6, 4)
    assert age["median"] == 40.0  # of 20, 30, 50, 100+
    education = data["education"]
    assert {k: v for k, v in by_value(education).items() if v} == {"bachelors": 1, "masters": 1, "doctorate": 1,
                                                                   "secondary": 1}
    assert {c["value"]: c["learners"] for c in education["bands"]} == {
        "high_school_or_less": 1, "college": 1, "advanced": 2}
    assert education["unknown"]["learners"] == 2
    assert by_value(data["gender"]) == {"female": 2, "male": 1, "other": 1}
    assert data["gender"]["unknown"]["learners"] == 2
    assert by_value(data["country"]) == {"IN": 1, "US": 2}
    assert data["country"]["unknown"]["learners"] == 3


def test_the_rest_api_gives_the_breakdowns_and_a_csv_per_breakdown(people, courses, exact, analytics_on):
    learner(1, year_of_birth=2000, gender="f", level_of_education="b", country="BR")
    learner(2, year_of_birth=1980, gender="m", level_of_education="hs", country="BR")
    api = client_for(people["course_staff"])
    data = api.get(URL).json()
    assert data["enrolled"] == 2 and by_value(data["country"]) == {"BR": 2}
    response = api.get(URL, {"format": "csv", "breakdown": "gender"})
    assert response.status_code == 200
    assert "learners_gender.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {(r["kind"], r["value"]): r["learners"] for r in rows} == {
        ("value", "female"): "1", ("value", "male"): "1", ("value", "other"): "0", ("unknown", "unknown"): "0"}
    assert api.get(URL, {"breakdown": "shoe_size"}).status_code == 400
    assert client_for(people["learner"]).get(URL).status_code == 403
    assert client_for(people["other_staff"]).get(URL).status_code == 403


def test_the_learners_view_of_the_page_has_a_panel_per_breakdown(people, courses, exact, analytics_on):
    learner(1, year_of_birth=2000, gender="f", level_of_education="b", country="BR")
    learner(2)
    response = client(people["course_staff"]).get(page_url(), {"view": "learners"})
    assert response.status_code == 200
    html = response.content.decode()
    tables = parse(response).tables
    for name in learners_api.BREAKDOWNS:
        assert f'id="learners-{name}"' in html
        assert f"learners/?format=csv&amp;breakdown={name}" in html
    gender = {row[0]: row[1:] for row in tables["oa-table-learners-gender"][1:]}
    assert gender["Female"] == ["1", "50.0%"] and gender["Unknown"] == ["1", "50.0%"]
    assert "Learners enrolled now: 2" in html
    # the main view links to the learners view and shows none of its panels
    main = client(people["course_staff"]).get(page_url()).content.decode()
    assert "view=learners" in main and 'id="learners-age"' not in main


class GetForms(HTMLParser):
    """Every GET form of a page: its action and the values its fields send when submitted as they are."""

    def __init__(self):
        super().__init__()
        self.forms, self._form = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "get":
            self._form = {"action": attrs.get("action") or "", "fields": {}}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and attrs.get("name"):
            self._form["fields"][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def get_forms(response):
    parser = GetForms()
    parser.feed(response.content.decode())
    return parser.forms


@pytest.mark.parametrize("state", [
    {"view": "learners"},
    {"view": "learners", "activity": "day", "engagement": "share", "content_section": "s1"},
    {"activity": "day", "video": "block-v1:Org+Num+Run+type@video+block@v1", "problem": "p1", "answers_page": "2"},
])
def test_every_get_form_of_the_page_keeps_the_view_and_the_state_it_does_not_change(people, courses, exact,
                                                                                     analytics_on, state):
    """Submitting the date form (as any GET form of the page) changes its own fields only: the learners view
    stays the learners view, and the toggles and drill-downs of the page stay as they were."""
    learner(1, year_of_birth=2000, gender="f", level_of_education="b", country="BR")
    browser = client(people["course_staff"])
    response = browser.get(page_url(), state)
    forms = get_forms(response)
    assert forms, "the page has its date form"
    for form in forms:
        fields = form["fields"]
        own = {"start_date", "end_date"}
        assert {k: v for k, v in fields.items() if k not in own} == state
        action = form["action"].split("#")[0]
        assert action == page_url()
        submitted = browser.get(action, {**fields, "start_date": "2026-01-05", "end_date": "2026-02-02"})
        html = submitted.content.decode()
        assert submitted.status_code == 200
        assert ('id="learners-age"' in html) == (state.get("view") == "learners")
        assert get_forms(submitted)[0]["fields"] == {**state, "start_date": "2026-01-05", "end_date": "2026-02-02"}


def test_the_country_panel_draws_its_own_world_map_with_hidden_countries_uncoloured(people, courses, analytics_on,
                                                                                    settings):
    settings.OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS = 0
    n = itertools.count()
    for code, count in (("US", 30), ("IN", 12), ("KE", 2), ("", 9)):
        for _ in range(count):
            learner(next(n), country=code)
    response = client(people["course_staff"]).get(page_url(), {"view": "learners"})
    html = response.content.decode()
    panel = html[html.index('id="learners-country"'):]
    panel = panel[:panel.index("</section>")]
    assert '<svg class="oa-chart oa-map"' in panel
    assert '<path class="oa-map5" d="M' in panel and "<title>US: 30</title>" in panel
    assert "<title>KE: fewer than 5</title>" in panel and 'class="oa-map-hidden"' in panel
    assert "http" not in panel.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched from elsewhere
    assert "script-src 'none'" in response["Content-Security-Policy"]


# ------------------------------------------------------------ small cells


def shown_cells(part):
    return [*part.get("bands", []), *part["values"], part["unknown"]]


def test_small_cells_and_their_complement_are_hidden_everywhere(people, courses, analytics_on, settings):
    settings.OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS = 0
    n = itertools.count()
    for _ in range(12):
        learner(next(n), gender="f")
    for _ in range(2):
        learner(next(n), gender="m")  # a small cell: 2 < 5
    for _ in range(7):
        learner(next(n), gender="")  # unknown: the smallest cell of 5 or more, hidden so 21 - 12 cannot give 2
    data = client_for(people["course_staff"]).get(URL).json()
    gender = {c["value"]: c for c in shown_cells(data["gender"])}
    assert data["enrolled"] == 21
    assert gender["female"]["learners"] == 12
    assert gender["male"]["learners"] is None and gender["male"]["suppressed"] == "small"
    assert gender["male"]["share"] is None
    assert gender["unknown"]["learners"] is None and gender["unknown"]["suppressed"] == "complement"
    assert gender["other"]["learners"] == 0
    csv_text = client_for(people["course_staff"]).get(URL, {"format": "csv", "breakdown": "gender"}).content.decode()
    rows = {r["value"]: r for r in csv.DictReader(io.StringIO(csv_text))}
    assert rows["male"]["learners"] == rows["male"]["share"] == "" and rows["male"]["suppressed"] == "small"
    assert rows["unknown"]["learners"] == ""
    response = client(people["course_staff"]).get(page_url(), {"view": "learners"})
    table = {row[0]: row[1:] for row in parse(response).tables["oa-table-learners-gender"][1:]}
    assert table["Male"] == ["fewer than 5", "\u2013"]
    assert table["Unknown"] == ["hidden", "\u2013"]
    assert "Unknown (not given in the profile): hidden" in response.content.decode()


def test_a_hidden_age_band_hides_its_ages_and_ages_in_a_band_are_protected_from_it(courses, settings):
    settings.OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS = 0
    n = itertools.count()
    for born, count in ((1996, 9), (1995, 1), (1980, 3), (1970, 8)):  # 30 x9, 31 x1 | 46 x3, 56 x8
        for _ in range(count):
            learner(next(n), year_of_birth=born)
    for _ in range(6):
        learner(next(n))
    data = learners_api.get_learners(COURSE, today=__import__("datetime").date(THIS_YEAR, 6, 1))
    age = data["age"]
    bands = {c["value"]: c for c in age["bands"]}
    assert bands["26_to_40"]["learners"] == 10 and bands["41_and_over"]["learners"] == 11
    assert bands["25_and_under"]["learners"] == 0
    ages = {c["value"]: c for c in age["values"]}
    # inside 26-40 (shown: 10), 31 is small and 30 its complement: 10 - 30's count cannot give 31's
    assert ages[31]["suppressed"] == "small" and ages[30]["suppressed"] == "complement"
    assert ages[46]["suppressed"] == "small" and ages[56]["suppressed"] == "complement"


def displayed(cells, minimum):
    hidden = small_cells.suppress(dict(enumerate(cells)), minimum)
    return tuple(hidden.get(i) or v for i, v in enumerate(cells)), sum(cells)


@pytest.mark.parametrize("minimum", [1, 2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("size", [2, 3, 4])
def test_no_hidden_count_can_be_recovered_from_what_is_shown(minimum, size):
    """Whoever knows the rule, the total, the cells shown and which cells are hidden and why still finds
    at least two possible counts for every hidden cell that is not empty: every breakdown of ``size`` cells
    with up to 13 learners in each is tried, and those showing the same are grouped."""
    top = 13
    seen = defaultdict(set)
    for cells in itertools.product(range(top + 1), repeat=size):
        seen[displayed(cells, minimum)].add(cells)
    for (shown, total), alike in seen.items():
        if total > top:  # some breakdowns showing the same have a cell over ``top``: not all were tried
            continue
        for i, cell in enumerate(shown):
            if isinstance(cell, str):
                values = {cells[i] for cells in alike}
                assert len(values) > 1 or values == {0}, (shown, total, alike)


def test_nothing_is_hidden_when_no_cell_is_small():
    assert small_cells.suppress({"a": 5, "b": 0, "c": 40}, 5) == {}


def test_a_tiny_course_shows_no_breakdown_at_all():
    assert set(small_cells.suppress({"a": 4, "b": 4}, 5).values()) == {small_cells.ALL}


# ------------------------------------------------------------ pointers, not copies


def test_a_profile_edit_shows_once_the_cached_counts_expire(courses, settings, exact):
    settings.OPENEDX_ANALYTICS_LEARNERS_CACHE_SECONDS = 600
    user = learner(1, gender="f", country="US")
    assert by_value(learners_api.get_learners(COURSE)["gender"])["female"] == 1
    UserProfile.objects.filter(user=user).update(gender="m", country="KE")
    cached = learners_api.get_learners(COURSE)
    assert by_value(cached["gender"])["female"] == 1  # still the counts read before, for up to 600 s
    cache.delete(learners_api._cache_key(COURSE))  # what the cache does after 600 s
    fresh = learners_api.get_learners(COURSE)
    assert by_value(fresh["gender"]) == {"female": 0, "male": 1, "other": 0}
    assert by_value(fresh["country"]) == {"KE": 1}


def test_a_retired_learner_leaves_the_figures_with_nothing_of_ours_to_clean(courses, exact):
    user = learner(1, gender="f", country="US")
    learner(2, gender="m", country="US")
    with CaptureQueriesContext(connections["analytics"]) as ours:
        learners_api.get_learners(COURSE)
    assert not ours.captured_queries  # read from the LMS only: nothing written (or read) on our side
    UserProfile.objects.filter(user=user).update(gender="", country="", year_of_birth=None)  # the LMS scrubs
    data = learners_api.get_learners(COURSE)
    assert by_value(data["gender"])["female"] == 0 and by_value(data["country"]) == {"US": 1}


def test_no_analytics_table_has_a_profile_column():
    profile_columns = {"year_of_birth", "gender", "level_of_education", "country", "education", "age"}
    for model in apps.get_app_config("openedx_analytics").get_models():
        columns = {f.column for f in model._meta.concrete_fields} | {f.name for f in model._meta.concrete_fields}
        assert not columns & profile_columns, (model.__name__, columns & profile_columns)
