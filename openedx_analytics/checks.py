"""Django system checks: a deploy that missed a step says which one, before events are lost.

Two mistakes are easy to make when the LMS gets a second database, and both lose data
silently: another router (or a later settings layer) answers for our models before our
router does, so facts land in the LMS database; or ``migrate openedx_analytics --database
<alias>`` was never run, so every event batch fails on a missing table. These checks run
with ``./manage.py lms check``, before every management command that runs checks, and at
``runserver`` start-up; ``report_at_startup`` also logs the routing problems from
``AppConfig.ready()`` so gunicorn and Celery processes say them too.

Missing tables are a Warning, not an Error: ``migrate`` runs the checks before it migrates,
and an Error would block the very command that fixes them.
"""
from __future__ import annotations

import logging
import pkgutil
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core import checks
from django.db import DatabaseError, connections, router
from django.db.migrations.recorder import MigrationRecorder

from openedx_analytics import conf
from openedx_analytics.router import APP_LABEL, is_analytics_model
from openedx_analytics.settings.common import ROUTER_PATH

log = logging.getLogger(__name__)

WRONG_DATABASE = "openedx_analytics.E001"
MIGRATES_ELSEWHERE = "openedx_analytics.E002"
TABLES_MISSING = "openedx_analytics.W001"
MIGRATIONS_MISSING = "openedx_analytics.W002"
DATABASE_UNREACHABLE = "openedx_analytics.W003"


def _models(in_analytics: bool) -> list[Any]:
    return [m for m in apps.get_app_config(APP_LABEL).get_models() if is_analytics_model(m) is in_analytics]


def _router_name(candidate: Any) -> str:
    return candidate if isinstance(candidate, str) else f"{type(candidate).__module__}.{type(candidate).__qualname__}"


def _first_answer(method: str, model: Any) -> str:
    """Which router decided for ``model`` (the first one that did not answer None)."""
    for candidate in router.routers:
        if getattr(candidate, method, None) and getattr(candidate, method)(model) is not None:
            return _router_name(candidate)
    return "no router (Django's default)"


def routing_problems() -> list[checks.CheckMessage]:
    """Our models must read, write and migrate in the configured alias, whatever routers answer first."""
    alias = conf.analytics_db()
    fix = (f"Put '{ROUTER_PATH}' first in DATABASE_ROUTERS (the plugin's settings do; a later settings "
           "layer or another plugin replaced or reordered them).")
    messages: list[checks.CheckMessage] = []
    for method in ("db_for_write", "db_for_read"):
        wrong = [m for m in _models(in_analytics=True) if getattr(router, method)(m) != alias]
        if wrong:
            routed = getattr(router, method)(wrong[0])
            messages.append(checks.Error(
                f"openedx_analytics models are routed to database '{routed}' for {method[7:]}s, not to the "
                f"analytics alias '{alias}' (OPENEDX_ANALYTICS_DATABASE): {_first_answer(method, wrong[0])} "
                f"answers first. Affected: {', '.join(m.__name__ for m in wrong)}.",
                hint=fix, id=WRONG_DATABASE,
            ))
    misplaced = [m for m in _models(in_analytics=True) if not router.allow_migrate_model(alias, m)]
    if alias != "default":
        misplaced += [m for m in _models(in_analytics=True) if router.allow_migrate_model("default", m)]
    if misplaced:
        messages.append(checks.Error(
            f"migrate would not create the openedx_analytics tables in '{alias}' alone (the database routers "
            f"allow them elsewhere or not there): {', '.join(sorted({m.__name__ for m in misplaced}))}.",
            hint=fix, id=MIGRATES_ELSEWHERE,
        ))
    return messages


def _migration_names() -> set[str]:
    from openedx_analytics import migrations

    return {name for _finder, name, _pkg in pkgutil.iter_modules(migrations.__path__) if name[:4].isdigit()}


def _table_problems(alias: str, models: Iterable[Any], command: str, consequence: str) -> list[checks.CheckMessage]:
    connection = connections[alias]
    expected = {m._meta.db_table for m in models}
    try:
        with connection.cursor() as cursor:
            present = set(connection.introspection.table_names(cursor))
        applied = {name for app, name in MigrationRecorder(connection).applied_migrations() if app == APP_LABEL}
    except DatabaseError as exc:
        return [checks.Warning(
            f"Could not open database '{alias}' to check the openedx_analytics tables: {exc}",
            hint="Check its DATABASES entry and that the server is reachable.", id=DATABASE_UNREACHABLE,
        )]
    missing = sorted(expected - present)
    if missing:
        return [checks.Warning(
            f"Database '{alias}' lacks {len(missing)} openedx_analytics tables ({', '.join(missing[:5])}"
            f"{', ...' if len(missing) > 5 else ''}): {consequence}.",
            hint=f"Run: {command}", id=TABLES_MISSING,
        )]
    unapplied = sorted(_migration_names() - applied)
    if unapplied:
        return [checks.Warning(
            f"Database '{alias}' has openedx_analytics migrations not applied: {', '.join(unapplied)}.",
            hint=f"Run: {command}", id=MIGRATIONS_MISSING,
        )]
    return []


EVENTS_LOST = "every event batch fails until they exist, and its events are not counted"
CONFIGURATION_UNREADABLE = "the analytics configuration, rollout overrides and service keys cannot be read or edited"


def table_problems() -> list[checks.CheckMessage]:
    """Both migrations have run: our tables in the analytics alias, the configuration tables in default."""
    alias = conf.analytics_db()
    if alias == "default":
        return _table_problems("default", apps.get_app_config(APP_LABEL).get_models(),
                               "./manage.py lms migrate openedx_analytics", EVENTS_LOST)
    return [
        *_table_problems(alias, _models(in_analytics=True),
                         f"./manage.py lms migrate openedx_analytics --database {alias}", EVENTS_LOST),
        *_table_problems("default", _models(in_analytics=False), "./manage.py lms migrate openedx_analytics",
                         CONFIGURATION_UNREADABLE),
    ]


@checks.register()
def check_analytics_routing(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check: our models route to the configured analytics alias."""
    if app_configs is not None and not any(config.label == APP_LABEL for config in app_configs):
        return []
    return routing_problems()


@checks.register()
def check_analytics_tables(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check: the analytics tables exist (``migrate`` ran on each database they live in)."""
    if app_configs is not None and not any(config.label == APP_LABEL for config in app_configs):
        return []
    return table_problems()


def report_at_startup() -> None:
    """Log routing problems once per process (gunicorn and Celery do not run system checks)."""
    try:
        problems = routing_problems()
    except Exception:  # noqa: BLE001 - a check must never stop the LMS from starting
        log.exception("openedx_analytics: could not check the database routing")
        return
    for problem in problems:
        log.error("%s: %s %s", problem.id, problem.msg, problem.hint)
