"""schemathesis drives every operation of the OpenAPI schema the package ships, as global staff.

Cases come from the committed ``openapi.yaml`` (the file the package serves, kept equal to
the generated schema by another test). Path ids are either generated or real ones of the
course history, so that the views' real code paths meet arbitrary query strings. Every
answer must be a non-5xx whose body, for a 200, matches the schema; no stored row may
change. Half the cases are schema-valid, half deliberately not (wrong types, out-of-range
values). The number of cases run is printed.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.apps import apps
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, router
from django.test import override_settings
from edx_rest_framework_extensions.auth.jwt.tests.utils import (
    generate_asymmetric_jwt_token,
    generate_latest_version_payload,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from openedx_analytics.api.v1 import docs
from tests.support.api import COURSE, EXPECTED_PROBLEMS, EXPECTED_VIDEOS, OLD_COURSE

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

#: Cases per operation: enough to meet every parameter's odd values, few enough for tens of seconds.
#: ``OA_SCHEMATHESIS_EXAMPLES=<n>`` explores further, with fresh random cases on each run.
EXPLORE = os.environ.get("OA_SCHEMATHESIS_EXAMPLES")
EXAMPLES = int(EXPLORE or 30)
#: Real ids of the history, swapped in for generated ones in part of the cases.
REAL_IDS = {
    "course_id": [COURSE, OLD_COURSE],
    "video_id": [video for videos in EXPECTED_VIDEOS.values() for video in videos],
    "problem_id": [problem for problems in EXPECTED_PROBLEMS.values() for problem in problems],
    "org": ["Org"],
    # the Insights-compatible API: a module is a problem, a video (also as <course>|<video>) or a subsection
    "module_id": [*(problem for problems in EXPECTED_PROBLEMS.values() for problem in problems),
                  *(video for videos in EXPECTED_VIDEOS.values() for video in videos),
                  *(f"{course}|{video}" for course, videos in EXPECTED_VIDEOS.items() for video in videos)],
    "report_name": ["problem_response", "learner_profile"],
}


def _stored_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of every model of the plugin, by model."""
    return {
        model.__name__: list(model.objects.using(router.db_for_read(model)).order_by("pk").values())
        for model in apps.get_app_config("openedx_analytics").get_models()
    }


@pytest.fixture
def wsgi_requests() -> Iterator[None]:
    """Serve through the real WSGI handler without it closing the test's database connections
    (what Django's own test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@override_settings(OPENEDX_ANALYTICS_API_THROTTLE_RATE=None, OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY="k" * 40)
def test_every_operation_of_the_schema(people, history_loaded, old_and_new, analytics_on, wsgi_requests, capsys):
    schema = schemathesis.openapi.from_path(docs.SCHEMA_FILE)
    schema.app = get_wsgi_application()
    operations = [result.ok() for result in schema.get_all_operations()]
    token = generate_asymmetric_jwt_token(generate_latest_version_payload(people["global_staff"]))
    before = _stored_rows()
    counts: dict[str, int] = {}
    statuses: dict[int, int] = {}
    started = time.monotonic()

    for operation in operations:
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE))

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not EXPLORE,
                  suppress_health_check=list(HealthCheck))
        @given(case=cases, real=st.booleans(), data=st.data())
        def run(case: Any, real: bool, data: st.DataObject) -> None:
            if real:
                for name in case.path_parameters or {}:
                    case.path_parameters[name] = data.draw(st.sampled_from(REAL_IDS[name]))
            response = case.call(headers={"Authorization": f"JWT {token}"})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            counts[case.operation.label] = counts.get(case.operation.label, 0) + 1

        run()

    assert _stored_rows() == before
    assert len(counts) == len(operations) >= 9
    with capsys.disabled():
        print(f"\nschemathesis: {sum(counts.values())} cases over {len(counts)} operations in "
              f"{time.monotonic() - started:.1f} s; statuses {dict(sorted(statuses.items()))}")
