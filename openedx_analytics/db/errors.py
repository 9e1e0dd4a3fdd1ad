"""Which errors mean "the analytics database is not there right now" and which "this scope is broken".

The two call for opposite handling. An unavailable database (connection refused or lost,
server gone, lock wait timeout, deadlock, tables not created yet because a deploy skipped
``migrate``) is nobody's fault and passes: the task keeps its batch and retries with
backoff. Any other error while recomputing one scope (bad data, an oversized value, a
bug) would fail the same way again: it is contained to that scope, retried a few times,
then quarantined for an operator.
"""
from __future__ import annotations

from django.db import DatabaseError, InterfaceError, OperationalError

#: MySQL/MariaDB error codes of a schema that is not there: 1146 no such table, 1049 no
#: such database, 1054 no such column (a migration not run yet).
_MYSQL_MISSING_SCHEMA = {1049, 1054, 1146}
#: PostgreSQL SQLSTATEs of the same: undefined table, undefined column, invalid catalog.
_POSTGRES_MISSING_SCHEMA = {"42P01", "42703", "3D000"}


class AnalyticsDatabaseUnavailable(Exception):
    """The analytics database could not be used; the task that met it retries later."""


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable, busy or not migrated (worth retrying later)."""
    if isinstance(exc, AnalyticsDatabaseUnavailable):
        return True
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DatabaseError):
        cause = exc.__cause__
        code = exc.args[0] if exc.args else None
        if isinstance(code, int) and code in _MYSQL_MISSING_SCHEMA:
            return True
        if getattr(cause, "pgcode", None) in _POSTGRES_MISSING_SCHEMA:
            return True
        return "no such table" in str(exc)
    return False
