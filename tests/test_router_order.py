"""Our router answers first under the routers a real LMS lists, and only for our own models.

The test host lists edx-django-utils' real ``ReadReplicaRouter`` before the plugin's settings
run, as a Tutor-rendered LMS does; the plugin must put its router in front of it.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.migrations.executor import MigrationExecutor

from openedx_analytics import conf
from openedx_analytics.models import AnalyticsConfiguration, EnrollmentFact
from openedx_analytics.router import AnalyticsRouter
from openedx_analytics.settings.common import ROUTER_PATH, plugin_settings
from tests.support import doors
from tests.support.analytics import analytics_models
from tests.support.doors import FakeRequest
from tests.support.lms import lms_knows

READ_REPLICA = "edx_django_utils.db.read_replica.ReadReplicaRouter"


def test_the_host_lists_the_read_replica_router_and_ours_comes_first():
    assert settings.DATABASE_ROUTERS[0] == ROUTER_PATH
    assert READ_REPLICA in settings.DATABASE_ROUTERS
    assert settings.DATABASE_ROUTERS.count(ROUTER_PATH) == 1


@pytest.mark.parametrize("before", [
    None,
    [],
    [READ_REPLICA],
    [READ_REPLICA, ROUTER_PATH],            # an older plugin version appended ours
    [ROUTER_PATH, READ_REPLICA, ROUTER_PATH],
])
def test_plugin_settings_puts_our_router_first_once_and_is_idempotent(before):
    namespace = SimpleNamespace() if before is None else SimpleNamespace(DATABASE_ROUTERS=list(before))
    plugin_settings(namespace)
    first = list(namespace.DATABASE_ROUTERS)
    plugin_settings(namespace)
    assert namespace.DATABASE_ROUTERS == first
    assert first[0] == ROUTER_PATH and first.count(ROUTER_PATH) == 1
    assert [r for r in first if r != ROUTER_PATH] == [r for r in (before or []) if r != ROUTER_PATH]


def test_router_is_neutral_for_every_model_that_is_not_ours():
    ours = AnalyticsRouter()
    for model in apps.get_models():
        if model in analytics_models():
            continue
        assert ours.db_for_read(model) is None, model
        assert ours.db_for_write(model) is None, model
    # Django's own routing (all routers, in order) still sends other models where the LMS's router says.
    assert router.db_for_write(get_user_model()) == "default"
    assert router.db_for_write(AnalyticsConfiguration) == "default"


def test_our_models_route_to_the_analytics_alias_through_all_routers():
    for model in analytics_models():
        assert router.db_for_read(model) == "analytics", model
        assert router.db_for_write(model) == "analytics", model
        assert router.allow_migrate_model("analytics", model), model
        assert not router.allow_migrate_model("default", model), model


@pytest.mark.django_db(databases=["default", "analytics"])
def test_migrate_database_analytics_plans_only_our_tables():
    """Every operation ``migrate --database analytics`` would apply, from an empty database."""
    executor = MigrationExecutor(connections["analytics"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    applied_apps = set()
    for migration, _backwards in plan:
        for operation in migration.operations:
            model_name = getattr(operation, "model_name", None) or getattr(operation, "name", None)
            if router.allow_migrate("analytics", migration.app_label, model_name=model_name and model_name.lower()):
                applied_apps.add(migration.app_label)
    assert applied_apps == {"openedx_analytics"}
    # And the analytics database pytest-django migrated holds our tables and nothing else.
    with connections["analytics"].cursor() as cursor:
        tables = set(connections["analytics"].introspection.table_names(cursor))
    assert tables - {m._meta.db_table for m in analytics_models()} == {"django_migrations"}


@pytest.fixture
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(doors.COURSE)


@pytest.mark.django_db(transaction=True, databases=["default", "analytics"])
def test_facts_from_a_signal_land_in_the_analytics_database(courses_in_the_lms):
    from openedx_events.learning import signals

    with FakeRequest():  # bracketed like an LMS request: the batch is sent when the request ends
        doors.enroll(signals.COURSE_ENROLLMENT_CREATED, 7, "audit")
    assert EnrollmentFact.objects.using("analytics").filter(user_id=7).exists()
    with connections["default"].cursor() as cursor:
        default_tables = set(connections["default"].introspection.table_names(cursor))
    assert EnrollmentFact._meta.db_table not in default_tables
    assert conf.analytics_db() == "analytics"
