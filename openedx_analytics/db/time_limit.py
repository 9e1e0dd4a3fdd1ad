"""A bound on how long each database statement of a block may take, for requests that must answer in time.

On MariaDB the session's ``max_statement_time`` and ``innodb_lock_wait_timeout`` are set for
the block and put back after it (the connection serves other requests of the LMS later). A
statement past the bound fails with a database error the caller answers (the ingest gateway:
503, send again). Other databases run the block unbounded: SQLite (tests, the demo) has no such
setting, and a bounded batch's statements there are short.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections


@contextmanager
def statement_time_limit(using: str, seconds: float) -> Iterator[None]:
    """Hold each statement (and lock wait) on ``using`` to ``seconds`` inside the block (MariaDB only)."""
    connection = connections[using]
    if connection.vendor != "mysql" or not connection.mysql_is_mariadb or seconds <= 0:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@SESSION.max_statement_time, @@SESSION.innodb_lock_wait_timeout")
        statement, lock_wait = cursor.fetchone()
        cursor.execute("SET SESSION max_statement_time = %s, innodb_lock_wait_timeout = %s",
                       [float(seconds), max(1, math.ceil(seconds))])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION max_statement_time = %s, innodb_lock_wait_timeout = %s",
                           [statement, lock_wait])
