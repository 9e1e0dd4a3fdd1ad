"""The rollout gate: the waffle flag for users and everyone, org and course overrides, LMS overrides first."""
from unittest import mock

import pytest
from opaque_keys.edx.keys import CourseKey
from waffle.models import Flag

from lms_host.stub.models import WaffleFlagCourseOverrideModel, WaffleFlagOrgOverrideModel
from openedx_analytics.lms import rollout
from openedx_analytics.models import CourseAnalyticsOverride
from tests.support.api import BASE, COURSE, OTHER, SISTER, clear_caches, client_for

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]


def status(user, course):
    clear_caches()
    return client_for(user).get(f"{BASE}courses/{course}/summary/").status_code


def listed(user):
    clear_caches()
    return [row["course_id"] for row in client_for(user).get(f"{BASE}courses/").json()["results"]]


def override(choice, org="", course_id=""):
    CourseAnalyticsOverride.objects.create(org=org, course_id=course_id, override_choice=choice, enabled=True)


@pytest.fixture
def staff(people):
    """Global staff, who may see every course: only the gate decides."""
    return people["global_staff"]


def test_off_for_everyone(staff, people):
    assert status(staff, COURSE) == 404
    assert status(people["course_staff"], COURSE) == 404
    assert status(people["learner"], COURSE) == 403  # a learner learns nothing about the course
    assert listed(staff) == []


def test_on_for_one_user(staff, people):
    flag = Flag.objects.create(name=rollout.FLAG_NAME, everyone=None)
    flag.users.add(people["course_staff"])
    assert status(people["course_staff"], COURSE) == 200
    assert status(people["instructor"], COURSE) == 404
    assert status(staff, COURSE) == 404


def test_on_for_everyone_through_the_flag(staff):
    Flag.objects.create(name=rollout.FLAG_NAME, everyone=True)
    assert status(staff, COURSE) == 200 and status(staff, OTHER) == 200


def test_on_for_one_org(staff):
    override(CourseAnalyticsOverride.ON, org="Org")
    assert status(staff, COURSE) == 200 and status(staff, SISTER) == 200
    assert status(staff, OTHER) == 404


def test_on_for_one_course(staff):
    override(CourseAnalyticsOverride.ON, course_id=COURSE)
    assert status(staff, COURSE) == 200
    assert status(staff, SISTER) == 404 and status(staff, OTHER) == 404


def test_off_for_one_course_while_on_for_its_org(staff):
    override(CourseAnalyticsOverride.ON, org="Org")
    override(CourseAnalyticsOverride.OFF, course_id=COURSE)
    assert status(staff, COURSE) == 404
    assert status(staff, SISTER) == 200


def test_overrides_beat_the_flag_both_ways(staff):
    Flag.objects.create(name=rollout.FLAG_NAME, everyone=True)
    override(CourseAnalyticsOverride.OFF, org="Other")
    assert status(staff, COURSE) == 200 and status(staff, OTHER) == 404


def test_the_newest_row_of_a_key_wins_and_disabled_rows_do_not_count(staff):
    override(CourseAnalyticsOverride.ON, course_id=COURSE)
    override(CourseAnalyticsOverride.OFF, course_id=COURSE)
    assert status(staff, COURSE) == 404
    CourseAnalyticsOverride.objects.create(course_id=COURSE, override_choice="on", enabled=False)
    assert status(staff, COURSE) == 404  # newest row is disabled: no override, flag is off


def test_the_course_list_follows_the_gate(staff):
    override(CourseAnalyticsOverride.ON, org="Org")
    override(CourseAnalyticsOverride.OFF, course_id=SISTER)
    with mock.patch("openedx_analytics.api.known_course_ids", return_value=[COURSE, SISTER, OTHER]):
        assert listed(staff) == [COURSE]


def lms_override(model, choice, **key):
    """A row of the LMS's waffle flag override admin (the stub host's stand-in of its model)."""
    model.objects.create(waffle_flag=rollout.FLAG_NAME, override_choice=choice, enabled=True, **key)


def test_lms_overrides_come_first(staff):
    """The LMS's course/org flag overrides, read through openedx_analytics.lms, decide before our own rows."""
    override(CourseAnalyticsOverride.ON, course_id=COURSE)
    override(CourseAnalyticsOverride.OFF, org="Other")
    lms_override(WaffleFlagCourseOverrideModel, "off", course_id=CourseKey.from_string(COURSE))
    lms_override(WaffleFlagOrgOverrideModel, "on", org="Other")
    assert status(staff, COURSE) == 404
    assert status(staff, OTHER) == 200
    assert status(staff, SISTER) == 404  # no override anywhere for it: the flag (off) decides


def test_an_override_row_names_an_org_or_a_course():
    from django.core.exceptions import ValidationError

    for org, course in (("", ""), ("Org", COURSE)):
        with pytest.raises(ValidationError):
            CourseAnalyticsOverride(org=org, course_id=course).clean()
    with pytest.raises(ValidationError):
        CourseAnalyticsOverride(course_id="nope").clean()
    row = CourseAnalyticsOverride(course_id=f" {COURSE} ")
    row.clean()
    assert row.course_id == COURSE
