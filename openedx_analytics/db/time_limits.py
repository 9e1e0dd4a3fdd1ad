"""A time budget for the database work of one request: no page, section or API answer waits on the database without end.

The figures are read on request (a year of daily rows, a range of content activity, the
LMS's profile counts for the learners view, thousands of courses for the site overview).
Most reads take milliseconds, but a long range on a huge course, a missing index after an
upgrade or a replica under load can make one take minutes, and the instructor dashboard's
Analytics section is read *inside the LMS's own request*. So everything read while
answering runs under one budget (``OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS``): each
``SELECT`` may take at most what is left of it, and the database itself stops it there.

How each database is told, per statement, without a session setting left behind:

- MariaDB: ``SET STATEMENT max_statement_time=<seconds> FOR SELECT ...`` (error 1969 when hit);
- MySQL 5.7.8+: the optimizer hint ``SELECT /*+ MAX_EXECUTION_TIME(<ms>) */ ...`` (error 3024);
- SQLite (tests, the demo): a progress handler that interrupts the statement past its
  deadline (``OperationalError: interrupted``);
- other databases: not bounded here (the LMS runs on MySQL or MariaDB).

Writes are cut short only where the caller asks (``writes=True``: the ingest gateway, whose
writes run in one transaction that is then rolled back whole); a page's incidental writes
never are. A statement that runs out of budget raises ``TimeLimitExceeded``; the faces turn it into a
clear answer (503 with ``Retry-After`` for the API, a notice in place of the figures on the
page) instead of an error page. Rows streamed after the view has returned (the CSV reports)
are read outside the budget: they are long on purpose, and read in bounded chunks.
"""
from __future__ import annotations

import contextlib
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.db import DatabaseError, OperationalError, connections

from openedx_analytics import conf

#: MariaDB's "max_statement_time exceeded" and MySQL's "maximum statement execution time exceeded".
_MYSQL_TIME_LIMIT_CODES = frozenset({1969, 3024})
#: SQLite's message for a statement a progress handler stopped.
_SQLITE_INTERRUPTED = "interrupted"
#: How many SQLite virtual-machine steps between two looks at the clock (cheap: a comparison).
_SQLITE_STEPS = 10_000
#: The least a statement is given: a budget nearly spent still lets a trivial read through.
_LEAST_SECONDS = 0.01


class TimeLimitExceeded(Exception):
    """The request's database work took longer than its budget; the database stopped the statement."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the database work took longer than {seconds:g} s")
        self.seconds = seconds


def configured_seconds() -> float:
    """The budget of one request's reads (``OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS``; 0 or less: none)."""
    try:
        return float(conf.get("OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS") or 0)
    except (TypeError, ValueError):
        return 0.0


def hit_time_limit(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) is a database stopping a statement that ran past its time."""
    for error in (exc, exc.__cause__):
        if error is None:
            continue
        if isinstance(error, TimeLimitExceeded):
            return True
        code = error.args[0] if error.args else None
        if isinstance(code, int) and code in _MYSQL_TIME_LIMIT_CODES:
            return True
        if isinstance(error, (sqlite3.OperationalError, OperationalError)) and str(error) == _SQLITE_INTERRUPTED:
            return True
    return False


_READS = ("SELECT", "WITH")
#: Writes a ``writes=True`` budget bounds: data changes only, never SAVEPOINT, SET or DDL.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _first_word(sql: str) -> str:
    head = sql.lstrip(" \t\r\n(")[:8].split(None, 1)
    return head[0].upper() if head else ""


class _Budget:
    """The deadline of one request's database work, and the statement wrapper that hands each statement its share."""

    def __init__(self, seconds: float, writes: bool) -> None:
        self.seconds = seconds
        self.writes = writes
        self.deadline = time.monotonic() + seconds
        #: SQLite: the deadline of the statement running now (None while an unbounded one runs, or none).
        self.statement_deadline: float | None = None
        self.handled_sqlite: list[Any] = []
        #: Set while Django asks a MySQL-family server what it is (``_is_mariadb``).
        self.asking_server = False

    def _is_mariadb(self, connection: Any) -> bool:
        """Whether ``connection`` talks to MariaDB. Django asks the server once per connection, through
        this very wrapper: that query is let through unbounded (``asking_server``) rather than recursing."""
        self.asking_server = True
        try:
            return bool(connection.mysql_is_mariadb)
        finally:
            self.asking_server = False

    def left(self) -> float:
        """Seconds left for the next statement; raises once the budget is spent."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeLimitExceeded(self.seconds)
        return max(left, _LEAST_SECONDS)

    def _sqlite_progress(self) -> int:
        deadline = self.statement_deadline
        return 1 if deadline is not None and time.monotonic() > deadline else 0

    def wrap(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        """``connection.execute_wrapper`` hook: bound a read (and a write, if asked) by what is left of the budget."""
        connection = context["connection"]
        word = _first_word(sql) if isinstance(sql, str) else ""
        if not (word in _READS and not many) and not (self.writes and word in _WRITES):
            if connection.vendor == "sqlite":
                self.statement_deadline = None
            return execute(sql, params, many, context)
        if self.asking_server:  # the server's version query, made while bounding a statement: let it through
            return execute(sql, params, many, context)
        left = self.left()
        if connection.vendor == "mysql":
            if self._is_mariadb(connection):
                sql = f"SET STATEMENT max_statement_time={left:.3f} FOR {sql.lstrip()}"
            else:
                stripped = sql.lstrip()
                if stripped[:6].upper() == "SELECT":  # MySQL bounds SELECTs only
                    sql = f"SELECT /*+ MAX_EXECUTION_TIME({math.ceil(left * 1000)}) */{stripped[6:]}"
        elif connection.vendor == "sqlite":
            raw = connection.connection
            if raw is not None and not any(raw is seen for seen in self.handled_sqlite):
                raw.set_progress_handler(self._sqlite_progress, _SQLITE_STEPS)
                self.handled_sqlite.append(raw)
            self.statement_deadline = time.monotonic() + left
        try:
            return execute(sql, params, many, context)
        except DatabaseError as error:
            if hit_time_limit(error):
                raise TimeLimitExceeded(self.seconds) from error
            raise

    def release(self) -> None:
        """Take the SQLite progress handlers off again (the connection outlives the request)."""
        self.statement_deadline = None
        for raw in self.handled_sqlite:
            with contextlib.suppress(Exception):
                raw.set_progress_handler(None, 0)
        self.handled_sqlite.clear()


@contextlib.contextmanager
def time_budget(seconds: float | None = None, *, writes: bool = False) -> Iterator[None]:
    """Bound every read (and with ``writes``, every write) of every database made inside the block by one
    budget of ``seconds`` (default ``OPENEDX_ANALYTICS_READ_TIME_LIMIT_SECONDS``; 0 or less: unbounded).

    Raises ``TimeLimitExceeded`` when a statement runs past what is left (also when a read's
    rows, fetched after it started, take the time: SQLite fetches lazily).
    """
    seconds = configured_seconds() if seconds is None else seconds
    if seconds <= 0:
        yield
        return
    budget = _Budget(seconds, writes)
    with contextlib.ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(budget.wrap))
        try:
            yield
        except DatabaseError as error:
            if hit_time_limit(error):
                raise TimeLimitExceeded(seconds) from error
            raise
        finally:
            budget.release()
