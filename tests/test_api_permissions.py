"""Who may see what: every endpoint for every kind of caller (session and JWT)."""
import pytest

from tests.support.api import ALLOWED, COURSE, OTHER, ROLE_NAMES, client_for, endpoints

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

COURSE_ENDPOINTS = [name for name in endpoints() if name != "courses"]


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("endpoint", COURSE_ENDPOINTS)
def test_course_endpoints(people, history_loaded, analytics_on, role, endpoint):
    response = client_for(people[role]).get(endpoints()[endpoint])
    expected = 401 if role == "anonymous" else 200 if role in ALLOWED else 403
    assert response.status_code == expected, (role, endpoint, response.content[:300])
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("JWT")


@pytest.mark.parametrize("role", [r for r in ROLE_NAMES if r != "anonymous"])
@pytest.mark.parametrize("endpoint", ["summary", "enrollment", "courses"])
def test_jwt_gives_the_same_answers_as_the_session(people, history_loaded, analytics_on, role, endpoint):
    url = endpoints()[endpoint]
    by_session = client_for(people[role]).get(url)
    by_jwt = client_for(people[role], jwt=True).get(url)
    assert by_jwt.status_code == by_session.status_code
    assert by_jwt.json() == by_session.json()


def test_a_bad_jwt_is_401(people, history_loaded, analytics_on):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="JWT not.a.token")
    assert client.get(endpoints()["summary"]).status_code == 401


def test_unsafe_methods_are_refused_and_csrf_is_checked(people, history_loaded, analytics_on):
    client = client_for(people["global_staff"])
    response = client.post(endpoints()["summary"], {})
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_course_list_holds_only_permitted_courses(people, history_loaded, analytics_on, role):
    response = client_for(people[role]).get(endpoints()["courses"])
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    listed = [row["course_id"] for row in response.json()["results"]]
    expected = {"learner": [], "other_staff": [OTHER], "global_staff": [COURSE]}.get(role, [COURSE])
    assert listed == expected


def test_an_inactive_global_staff_user_sees_nothing(people, history_loaded, analytics_on):
    user = people["global_staff"]
    user.is_active = False
    user.save()
    assert client_for(None, jwt=False).get(endpoints()["summary"]).status_code == 401
    from openedx_analytics.access import can_view

    assert not can_view(user, COURSE)


def test_unknown_course_is_404_for_global_staff_and_403_for_others(people, history_loaded, analytics_on):
    url = "/api/analytics/v1/courses/course-v1:No+Such+Course/summary/"
    assert client_for(people["global_staff"]).get(url).status_code == 404
    assert client_for(people["course_staff"]).get(url).status_code == 403
