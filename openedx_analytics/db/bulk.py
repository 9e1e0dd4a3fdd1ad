"""Fast idempotent bulk inserts of plain tuples: what ``bulk_create(ignore_conflicts=True)`` does, minus the ORM cost.

Backfills write millions of fact rows; building a model instance and running every
field's preparation per value costs more than parsing the event. This writes tuples
using Django's own per-vendor SQL for "insert, ignoring duplicates" (``INSERT OR IGNORE``
on SQLite, ``INSERT IGNORE`` on MySQL, ``ON CONFLICT DO NOTHING`` on PostgreSQL), so no
vendor SQL is written here: one ``executemany`` per batch, except on MySQL/MariaDB,
where the driver would build each row's literals value by value in Python and the
statement is built from whole rows instead (``sql_literals``; same SQL, same values).
Aware UTC datetimes, the only kind the pipeline stores, skip Django's general
conversion (same text, less work); anything else goes through it.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models
from django.db.models.constants import OnConflict

from openedx_analytics.db.sql_literals import LiteralBuilder, statements

BATCH = 1000
_UTC = dt.timezone.utc


def utc_datetime_adapter(connection: Any) -> Callable[[Any], Any]:
    """The connection's datetime adaptation, with a shortcut for aware UTC values when the connection is in UTC.

    Django makes an aware value naive in the connection's time zone and stores its text;
    for a UTC value on a UTC connection that is the value without its zone.
    """
    general = connection.ops.adapt_datetimefield_value
    if connection.timezone_name != "UTC":
        return general

    def adapt(value: Any) -> Any:
        if type(value) is dt.datetime and value.tzinfo is _UTC:
            return str(value.replace(tzinfo=None))
        return general(value)

    return adapt


def _adapter(field: models.Field, connection: Any) -> Callable[[Any], Any] | None:
    if isinstance(field, models.DateTimeField):
        return utc_datetime_adapter(connection)
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        return json.dumps
    return None


def _builder(connection: Any) -> LiteralBuilder:
    """The connection's ``LiteralBuilder``, made once per database connection (its string memory with it)."""
    database = connection.connection
    builder = getattr(connection, "_openedx_analytics_literals", None)
    if builder is None or builder.database is not database:
        builder = LiteralBuilder(database)
        connection._openedx_analytics_literals = builder
    return builder


def insert_ignore(model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple], using: str,
                  *, ignore_conflicts: bool = True) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``model``'s table, skipping rows that conflict."""
    if not rows:
        return
    connection = connections[using]
    fields = [model._meta.get_field(name) for name in columns]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    quote = connection.ops.quote_name
    head = "{insert} {table} ({columns}) VALUES ".format(
        insert=connection.ops.insert_statement(on_conflict=on_conflict),
        table=quote(model._meta.db_table),
        columns=", ".join(quote(field.column) for field in fields),
    )
    suffix = (" " + connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None)).rstrip() \
        if ignore_conflicts else ""
    adapters = [(index, adapter) for index, field in enumerate(fields)
                if (adapter := _adapter(field, connection)) is not None]
    if adapters:
        prepared: list[Any] = []
        for row in rows:
            values = list(row)
            for index, adapter in adapters:
                if values[index] is not None:
                    values[index] = adapter(values[index])
            prepared.append(values)
    else:
        prepared = list(rows)
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            builder = _builder(connection)
            encoding = builder.database.encoding
            for statement in statements(head.encode(encoding), suffix.encode(encoding),
                                        map(builder.row, prepared), BATCH):
                cursor.execute(statement)
            return
        sql = head + "(" + ", ".join(["%s"] * len(fields)) + ")" + suffix
        for start in range(0, len(prepared), BATCH):
            cursor.executemany(sql, prepared[start:start + BATCH])


def upsert(model: type[models.Model], objects: Sequence[models.Model], unique_fields: Sequence[str],
           update_fields: Sequence[str], using: str) -> None:
    """Insert ``objects``, updating ``update_fields`` of rows that already exist (by ``unique_fields``).

    Django's ``bulk_create(update_conflicts=True)``; MySQL/MariaDB take no conflict target
    (they upsert on any unique key), the other databases need one.
    """
    if not objects:
        return
    with_target = connections[using].features.supports_update_conflicts_with_target
    model.objects.using(using).bulk_create(
        objects, update_conflicts=True, update_fields=list(update_fields),
        unique_fields=list(unique_fields) if with_target else None, batch_size=BATCH,
    )
