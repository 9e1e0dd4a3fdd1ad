"""The API's schema and reference under the LMS's REST framework settings, whose default renderers are
JSON only: each view names its own renderers, so a strict ``Accept`` header gets the right answer, not 406."""
import json

import pytest
import yaml
from django.test import override_settings

from openedx_analytics.api.v1 import docs
from tests.support.api import BASE

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

#: What the LMS's settings say (lms/envs/common.py): JSON is its only default renderer.
LMS_RENDERERS = override_settings(REST_FRAMEWORK={
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
    "DEFAULT_PAGINATION_CLASS": "edx_rest_framework_extensions.paginators.DefaultPagination",
    "PAGE_SIZE": 10,
})


@LMS_RENDERERS
@pytest.mark.parametrize("accept", ["text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"])
def test_the_reference_page_answers_a_browser(client, accept):
    response = client.get(f"{BASE}docs/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "/api/analytics/v1/courses/{course_id}/enrollment/" in response.content.decode()


@LMS_RENDERERS
@pytest.mark.parametrize("accept", ["application/vnd.oai.openapi", "application/yaml", "*/*"])
def test_the_schema_answers_its_own_media_type(client, accept):
    response = client.get(f"{BASE}schema/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content) == yaml.safe_load(docs.SCHEMA_FILE.read_text(encoding="utf-8"))


@LMS_RENDERERS
@pytest.mark.parametrize("accept", ["application/vnd.oai.openapi+json", "application/json"])
def test_the_schema_as_json_when_asked_for_json(client, accept):
    response = client.get(f"{BASE}schema/", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert json.loads(response.content) == yaml.safe_load(docs.SCHEMA_FILE.read_text(encoding="utf-8"))


@LMS_RENDERERS
def test_format_json_still_picks_json(client):
    response = client.get(f"{BASE}schema/", {"format": "json"}, HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
