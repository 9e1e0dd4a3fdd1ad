"""Which tables live in which database, on real MariaDB, and the router's single-database fallback."""
import pytest
from django.apps import apps
from django.db import connections
from django.test import override_settings

from openedx_analytics.router import AnalyticsRouter

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])




def _tables(alias: str) -> set[str]:
    with connections[alias].cursor() as cursor:
        return set(connections[alias].introspection.table_names(cursor))


def _our_models(in_default: bool) -> list:
    return [m for m in apps.get_app_config("openedx_analytics").get_models()
            if bool(getattr(m, "ANALYTICS_DEFAULT_DB", False)) is in_default]


@pytest.mark.skipif(connections["default"].vendor != "mysql", reason="the two-database layout is checked on MariaDB")
def test_analytics_tables_only_in_analytics_and_configuration_only_in_default():
    default, analytics = _tables("default"), _tables("analytics")
    assert connections["default"].settings_dict["NAME"] != connections["analytics"].settings_dict["NAME"]

    analytics_tables = {m._meta.db_table for m in _our_models(in_default=False)}
    names = {m.__name__ for m in _our_models(in_default=False)}
    assert {"DirtyScope", "ScopeLock", "BackfillCheckpoint", "EnrollmentDay", "CourseGrades"} <= names
    assert any("fact" in m._meta.db_table for m in _our_models(in_default=False))
    assert analytics_tables <= analytics
    assert not analytics_tables & default

    configuration_tables = {m._meta.db_table for m in _our_models(in_default=True)}
    assert {m.__name__ for m in _our_models(in_default=True)} >= {"AnalyticsConfiguration", "CourseAnalyticsOverride"}
    configuration_tables |= {"waffle_switch", "waffle_flag", "auth_user", "auth_group"}
    assert configuration_tables <= default
    assert not configuration_tables & analytics

    # Nothing but our analytics tables (and Django's migration ledger) in the analytics database.
    assert analytics - analytics_tables == {"django_migrations"}


def test_without_the_alias_everything_goes_to_default():
    router = AnalyticsRouter()
    fact_models = _our_models(in_default=False)
    with override_settings(OPENEDX_ANALYTICS_DATABASE="reporting"):  # an alias DATABASES does not have
        for model in fact_models:
            assert router.db_for_read(model) == "default"
            assert router.db_for_write(model) == "default"
            assert router.allow_migrate("default", "openedx_analytics", model._meta.model_name) is True
        assert router.allow_migrate("default", "auth", "user") is None
    # With the alias present, the same models go to it and no longer to default.
    for model in fact_models:
        assert router.db_for_write(model) == "analytics"
        assert router.allow_migrate("default", "openedx_analytics", model._meta.model_name) is False
        assert router.allow_migrate("analytics", "openedx_analytics", model._meta.model_name) is True
    assert router.allow_migrate("analytics", "auth", "user") is False
