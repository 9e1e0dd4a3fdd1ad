"""``openedx_analytics.access``: one set of access rules, with its own refusal, under both faces.

The REST API translates a ``Refused`` into DRF's exception of the same status; the page,
the section and the tab use ``access`` directly, and nothing of the dashboard reaches
into the REST package for its rules or its parameter parsing.
"""
from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.http import QueryDict
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from openedx_analytics import access
from openedx_analytics.api import params
from openedx_analytics.api.v1 import permissions
from tests.support.api import COURSE, OTHER, SISTER

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

PACKAGE = Path(__file__).resolve().parent.parent / "openedx_analytics"
UNKNOWN = "course-v1:No+Such+Course"


def refusal(user, course: str) -> int | None:
    try:
        access.course_for(user, course)
    except access.Refused as refused:
        return refused.status
    return None


def test_refusals_come_in_the_order_that_keeps_a_course_private(people, analytics_on):
    assert refusal(people["learner"], "not a course") == 400
    assert refusal(people["learner"], COURSE) == 403
    assert refusal(people["learner"], UNKNOWN) == 403  # the same answer whether or not the course exists
    assert refusal(people["global_staff"], UNKNOWN) == 404
    assert refusal(people["course_staff"], COURSE) is None
    assert access.course_for(people["course_staff"], COURSE) == COURSE


def test_the_rollout_gate_hides_a_course_as_unknown(people):
    assert refusal(people["course_staff"], COURSE) == 404
    assert access.visible(people["course_staff"], COURSE) is None


def test_the_rest_api_answers_each_refusal_with_drfs_exception_of_the_same_status(people, analytics_on):
    cases = [("not a course", ValidationError), (COURSE, PermissionDenied), (UNKNOWN, PermissionDenied)]
    for course, kind in cases:
        with pytest.raises(kind) as raised:
            permissions.course_for(people["learner"], course)
        assert raised.value.status_code == refusal(people["learner"], course)
    with pytest.raises(NotFound):
        permissions.course_for(people["global_staff"], UNKNOWN)
    with pytest.raises(ValidationError) as malformed:
        permissions.course_for(people["learner"], "not a course")
    assert list(malformed.value.detail) == ["course_id"]


def test_the_course_list_is_narrowed_then_gated(people, analytics_on):
    staff = people["global_staff"]
    assert access.readable_courses(people["course_staff"]) == [COURSE]
    assert access.visible_courses(people["course_staff"]) == [COURSE]
    assert access.visible_courses(people["other_staff"], wanted=[COURSE]) == []
    assert access.visible_courses(people["other_staff"], search="other") == [OTHER]
    assert access.visible_courses(staff, wanted=[SISTER]) == []  # global staff list courses that have analytics
    assert access.visible_courses(people["learner"]) == []


def test_parameters_are_read_without_a_rest_framework():
    assert params.date_range(QueryDict("start_date=2026-01-01")) == (dt.date(2026, 1, 1), None)
    assert params.granularity(None) == "week" and params.granularity("") == "week"
    with pytest.raises(params.InvalidParameter) as bad:
        params.granularity("hour")
    assert bad.value.name == "granularity" and "hour" in bad.value.message
    with pytest.raises(params.InvalidParameter) as backwards:
        params.date_range({"start_date": "2026-02-01", "end_date": "2026-01-01"})
    assert backwards.value.name == "end_date"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", [PACKAGE / "access.py", *sorted((PACKAGE / "dashboard").glob("*.py")),
                                  PACKAGE / "api" / "params.py", PACKAGE / "api" / "rows.py"],
                         ids=lambda path: str(path.relative_to(PACKAGE)))
def test_the_rules_and_the_dashboard_import_nothing_of_the_rest_api(path):
    reaching = sorted(name for name in _imports(path)
                      if name.startswith(("openedx_analytics.api.v1", "rest_framework")))
    assert reaching == []
