"""The one classifier of database errors: back off, rerun now, or contain the scope.

Three verdicts call for three handlings, on the live path (the drain and the tasks) and in
the backfill alike:

- ``UNAVAILABLE``: the analytics database cannot be used right now (connection refused or
  lost, server gone, tables not created yet because a deploy skipped ``migrate``). Nobody
  is at fault and nothing is gained by hammering it: the task keeps its batch and retries
  later, with backoff.
- ``LOST_LOCK_RACE``: the transaction was picked as a deadlock victim or waited too long
  for a row lock (MySQL/MariaDB 1213, 1205; SQLite "database is locked"; PostgreSQL
  40P01, 40001). The database is fine and the other transaction has moved on: the same
  transaction, run again at once (outside any outer transaction), almost always passes.
- ``BROKEN``: anything else (bad data, an oversized value, a bug) would fail the same way
  again: it is contained to the scope that met it, retried a few times, then quarantined.

Every other ``OperationalError`` or ``InterfaceError`` counts as unavailable: PEP 249
reserves them for errors of the database's operation (disconnects, a data source not
found, memory), which is what each driver raises for a connection in trouble.
"""
from __future__ import annotations

import enum

from django.db import DatabaseError, InterfaceError, OperationalError

#: MySQL/MariaDB error codes of a lost lock race: 1213 deadlock, 1205 lock wait timeout.
MYSQL_LOCK_RACES = frozenset({1213, 1205})
#: PostgreSQL SQLSTATEs of the same: deadlock detected, serialization failure.
POSTGRES_LOCK_RACES = frozenset({"40P01", "40001"})
#: SQLite's messages for a lock another connection holds.
SQLITE_LOCK_RACES = ("database is locked", "database table is locked")
#: MySQL/MariaDB error codes of a schema that is not there: 1146 no such table, 1049 no
#: such database, 1054 no such column (a migration not run yet).
_MYSQL_MISSING_SCHEMA = frozenset({1049, 1054, 1146})
#: PostgreSQL SQLSTATEs of the same: undefined table, undefined column, invalid catalog.
_POSTGRES_MISSING_SCHEMA = frozenset({"42P01", "42703", "3D000"})


class Verdict(enum.Enum):
    """What to do about a database error (see the module's description)."""

    UNAVAILABLE = "unavailable"
    LOST_LOCK_RACE = "lost lock race"
    BROKEN = "broken"


class AnalyticsDatabaseUnavailable(Exception):
    """The analytics database could not be used; the task that met it retries later."""


def _mysql_code(exc: BaseException) -> int | None:
    code = exc.args[0] if exc.args else None
    return code if isinstance(code, int) else None


def _sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE of ``exc``'s driver error (psycopg2 ``pgcode``, psycopg 3 ``sqlstate``)."""
    for error in (exc, exc.__cause__):
        code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def _lost_lock_race(exc: BaseException) -> bool:
    code = _mysql_code(exc)
    if code is not None:
        return code in MYSQL_LOCK_RACES
    if _sqlstate(exc) in POSTGRES_LOCK_RACES:
        return True
    text = str(exc)
    return any(message in text for message in SQLITE_LOCK_RACES)


def _schema_missing(exc: BaseException) -> bool:
    if _mysql_code(exc) in _MYSQL_MISSING_SCHEMA:
        return True
    if _sqlstate(exc) in _POSTGRES_MISSING_SCHEMA:
        return True
    return "no such table" in str(exc)


def classify(exc: BaseException) -> Verdict:
    """The verdict on ``exc``: ``UNAVAILABLE`` (retry later), ``LOST_LOCK_RACE`` (rerun now) or ``BROKEN``."""
    if isinstance(exc, (AnalyticsDatabaseUnavailable, InterfaceError)):  # PEP 249: not a DatabaseError
        return Verdict.UNAVAILABLE
    if not isinstance(exc, DatabaseError):
        return Verdict.BROKEN
    if _lost_lock_race(exc):
        return Verdict.LOST_LOCK_RACE
    if isinstance(exc, OperationalError) or _schema_missing(exc):
        return Verdict.UNAVAILABLE
    return Verdict.BROKEN


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable or not migrated (worth retrying later, with backoff)."""
    return classify(exc) is Verdict.UNAVAILABLE


def lost_lock_race(exc: BaseException) -> bool:
    """Whether ``exc`` is a deadlock or a lock wait timeout (SQLite: database locked), worth rerunning at once."""
    return classify(exc) is Verdict.LOST_LOCK_RACE


def retry_later(exc: BaseException) -> bool:
    """Whether the task that met ``exc`` should retry later: the database is unavailable, or a transaction
    kept losing lock races after its immediate reruns."""
    return classify(exc) is not Verdict.BROKEN
