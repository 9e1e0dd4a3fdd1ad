"""The instructor-dashboard section and MFE tab, through the real openedx-filters classes and the
pipelines ``plugin_settings`` registered: who sees them (per role and rollout state), and what."""
import contextlib
from types import SimpleNamespace

import crum
import pytest
from django.conf import settings
from django.test import RequestFactory
from edx_toggles.toggles.testutils import override_waffle_flag
from mako.lookup import TemplateLookup
from opaque_keys.edx.keys import CourseKey
from openedx_filters.learning.filters import InstructorDashboardRenderStarted

from openedx_analytics.dashboard import filters
from openedx_analytics.lms import rollout
from openedx_analytics.models import CourseAnalyticsOverride
from openedx_analytics.settings import common
from tests.support.api import COURSE
from tests.support.pages import client, page_url, parse

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

ALLOWED = ("course_staff", "instructor", "data_researcher", "global_staff")
REFUSED = ("learner", "other_staff")
LEGACY_TEMPLATE = "instructor/instructor_dashboard_2/instructor_dashboard_2.html"
TABS = common.tabs_filter_available()
THEIRS = {"section_key": "course_info", "section_display_name": "Course Info"}


@contextlib.contextmanager
def as_user(user):
    """The current request and user, as the LMS's crum middleware sets them during a dashboard request."""
    request = RequestFactory().get("/courses/x/instructor")
    request.user = user
    crum.set_current_request(request)
    try:
        yield request
    finally:
        crum.set_current_request(None)


def render_dashboard(user, course=COURSE):
    """Run the legacy dashboard's filter as the LMS view does; return the sections it ends with."""
    context = {"course": SimpleNamespace(id=CourseKey.from_string(course)), "sections": [dict(THEIRS)]}
    with as_user(user):
        context, template = InstructorDashboardRenderStarted.run_filter(context=context, template_name=LEGACY_TEMPLATE)
    assert template == LEGACY_TEMPLATE
    return context["sections"]


def ours(sections):
    return [s for s in sections if s["section_key"] == filters.SECTION_KEY]


def test_plugin_settings_registered_our_steps():
    section = settings.OPEN_EDX_FILTERS_CONFIG[common.SECTION_FILTER]
    assert section["pipeline"][-1] == common.SECTION_STEP
    if TABS:
        assert settings.OPEN_EDX_FILTERS_CONFIG[common.TABS_FILTER]["pipeline"][-1] == common.TABS_STEP
    else:
        assert common.TABS_FILTER not in settings.OPEN_EDX_FILTERS_CONFIG


def test_operator_filter_config_is_appended_to_never_replaced():
    operator = {
        common.SECTION_FILTER: {"pipeline": ["theirs.Step"], "fail_silently": False, "extra": 1},
        "org.openedx.learning.other.v1": ["x.Y"],
    }
    target = SimpleNamespace(OPEN_EDX_FILTERS_CONFIG=operator, MAKO_TEMPLATE_DIRS_BASE=["/lms/templates"])
    common.plugin_settings(target)
    common.plugin_settings(target)  # common then production hook: still once
    config = target.OPEN_EDX_FILTERS_CONFIG
    assert config[common.SECTION_FILTER] == {"pipeline": ["theirs.Step", common.SECTION_STEP],
                                             "fail_silently": False, "extra": 1}
    assert config["org.openedx.learning.other.v1"] == ["x.Y"]
    assert operator[common.SECTION_FILTER]["pipeline"] == ["theirs.Step"]  # the operator's dict is not mutated
    assert target.MAKO_TEMPLATE_DIRS_BASE == ["/lms/templates", common.MAKO_TEMPLATES]
    assert common.with_step("a.B", "c.D") == {"pipeline": ["a.B", "c.D"]}
    assert common.with_step(None, "c.D") == {"pipeline": ["c.D"]}


def test_no_mako_setting_no_mako_dirs():
    target = SimpleNamespace()
    common.plugin_settings(target)
    assert not hasattr(target, "MAKO_TEMPLATE_DIRS_BASE")


@pytest.mark.parametrize("role", ALLOWED)
def test_section_for_each_role_the_api_lets_in(people, history_loaded, role):
    with override_waffle_flag(rollout.ENABLED, active=True):
        sections = render_dashboard(people[role])
    assert sections[0] == THEIRS
    (section,) = ours(sections)
    assert section["section_display_name"] == "Analytics"
    assert section["template_path_prefix"] == "/instructor_dashboard/"
    assert section["course_id"] == COURSE
    assert 'id="oa-table-enrollment"' in section["fragment"].body_html()
    assert "openedx_analytics/dashboard.css" in section["fragment"].head_html()


@pytest.mark.parametrize("role", REFUSED)
def test_no_section_for_learners_and_other_course_staff(people, history_loaded, role):
    with override_waffle_flag(rollout.ENABLED, active=True):
        assert render_dashboard(people[role]) == [THEIRS]


@pytest.mark.parametrize("role", ALLOWED)
def test_rollout_gate_decides_the_section(people, history_loaded, role):
    with override_waffle_flag(rollout.ENABLED, active=False):
        assert ours(render_dashboard(people[role])) == []
        key = CourseKey.from_string(COURSE)
        CourseAnalyticsOverride.objects.create(org=key.org, override_choice="on", enabled=True)
        assert len(ours(render_dashboard(people[role]))) == 1
    with override_waffle_flag(rollout.ENABLED, active=True):
        CourseAnalyticsOverride.objects.create(course_id=COURSE, org=key.org, override_choice="off", enabled=True)
        assert ours(render_dashboard(people[role])) == []


def test_section_shows_what_the_page_shows(people, history_loaded):
    user = people["course_staff"]
    with override_waffle_flag(rollout.ENABLED, active=True):
        (section,) = ours(render_dashboard(user))
        page = parse(client(user).get(page_url()))
    embedded = parse(SimpleNamespace(content=section["fragment"].body_html().encode()))
    assert embedded.tables == page.tables
    assert page_url() in section["fragment"].body_html()


def test_mako_template_prints_the_fragment(people, history_loaded):
    with override_waffle_flag(rollout.ENABLED, active=True):
        (section,) = ours(render_dashboard(people["course_staff"]))
    lookup = TemplateLookup(directories=[common.MAKO_TEMPLATES], default_filters=["str", "h"])
    template = lookup.get_template(f"{section['template_path_prefix']}{section['section_key']}.html")
    html = template.render(section_data=section)
    assert section["fragment"].body_html() in html


def test_a_failing_step_leaves_the_dashboard_as_it_was(people, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(filters.access, "visible", broken)
    assert render_dashboard(people["global_staff"]) == [THEIRS]
    step = filters.AddAnalyticsTab(filter_type=common.TABS_FILTER, running_pipeline=[])
    assert step.run_filter(tabs=[{"tab_id": "x"}], user=people["global_staff"], course_key=COURSE) == {
        "tabs": [{"tab_id": "x"}]}


@pytest.mark.parametrize("role", ALLOWED + REFUSED)
def test_tab_step_per_role(people, history_loaded, role):
    step = filters.AddAnalyticsTab(filter_type=common.TABS_FILTER, running_pipeline=[])
    with override_waffle_flag(rollout.ENABLED, active=True), as_user(people[role]):
        tabs = step.run_filter(tabs=[{"tab_id": "grading"}], user=people[role],
                               course_key=CourseKey.from_string(COURSE))["tabs"]
    if role in ALLOWED:
        assert tabs[0] == {"tab_id": "grading"}
        assert tabs[1]["tab_id"] == filters.TAB_ID and tabs[1]["url"].endswith(page_url())
    else:
        assert tabs == [{"tab_id": "grading"}]


@pytest.mark.skipif(not TABS, reason="this openedx-filters release has no InstructorDashboardTabsRequested (< 3.4)")
@pytest.mark.parametrize("role", ALLOWED + REFUSED)
@pytest.mark.parametrize("flag", [True, False])
def test_mfe_tab_through_the_real_filter(people, history_loaded, role, flag, settings):
    from openedx_filters.learning.filters import InstructorDashboardTabsRequested

    settings.LMS_ROOT_URL = "https://lms.example.com"
    with override_waffle_flag(rollout.ENABLED, active=flag), as_user(people[role]):
        result = InstructorDashboardTabsRequested.run_filter(
            tabs=[{"tab_id": "grading", "title": "Grading", "url": "/g", "sort_order": 10}],
            user=people[role], course_key=CourseKey.from_string(COURSE))
    tabs = result[0] if isinstance(result, tuple) else result  # 3.4 returns the tabs; later releases a tuple
    ids = [t["tab_id"] for t in tabs]
    if role in ALLOWED and flag:
        assert ids == ["grading", filters.TAB_ID]
        assert tabs[1]["url"] == f"https://lms.example.com{page_url()}"
    else:
        assert ids == ["grading"]


def test_the_section_is_embedded_not_framed_so_the_page_frame_policy_leaves_it_alone(people, history_loaded):
    """The page refuses frames from other origins; the section is the LMS's own page, never a frame of ours."""
    with override_waffle_flag(rollout.ENABLED, active=True):
        (section,) = ours(render_dashboard(people["course_staff"]))
    body = section["fragment"].body_html()
    assert 'id="oa-table-enrollment"' in body
    assert "<iframe" not in body and "<frame" not in body and "<object" not in body
    assert "frame-ancestors" not in body and "Content-Security-Policy" not in body
