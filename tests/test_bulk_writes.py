"""Bulk fact writes store exactly the values given, once, on every database; their shortcuts match the driver's rules.

``pipeline.bulk.insert_ignore`` skips Django's per-value preparation (UTC datetimes) and,
on MySQL/MariaDB, builds the rows' literals itself instead of letting mysqlclient do it
value by value. These tests write awkward values through it and read them back, and hold
the shortcuts to what Django and the driver produce for the same values.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connections

from openedx_analytics import conf
from openedx_analytics.db.bulk import insert_ignore, utc_datetime_adapter
from openedx_analytics.db.sql_literals import LiteralBuilder, statements
from openedx_analytics.models import EnrollmentFact, VideoEventFact

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

COURSE = "course-v1:Demo+Bulk+2026"
AWKWARD = ["it's", 'say "hi"', "back\\slash", "100%", "%s %(x)s", "new\nline", "tab\t\x1a", "naïve ☕ 😀", ""]
TIME = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.timezone.utc)


def test_awkward_values_are_stored_as_given_and_only_once():
    using = conf.analytics_db()
    rows = [(COURSE, 10 + index, TIME + dt.timedelta(seconds=index), index % 2 == 0, mode, f"fp-bulk-{index:032d}")
            for index, mode in enumerate(AWKWARD)]
    rows.append((COURSE, 99, TIME.replace(microsecond=0), None, "audit", "fp-bulk-null"))
    columns = ("course_id", "user_id", "time", "is_active", "mode", "fingerprint")
    insert_ignore(EnrollmentFact, columns, rows, using)
    insert_ignore(EnrollmentFact, columns, rows[:3], using)  # a re-delivery changes nothing
    stored = set(EnrollmentFact.objects.using(using).filter(course_id=COURSE).values_list(*columns))
    assert stored == set(rows)


def test_floats_and_nulls_round_trip():
    using = conf.analytics_db()
    video = "block-v1:Demo+Bulk+2026+type@video+block@v1"
    columns = ("course_id", "video_id", "user_id", "time", "action", "position", "old_time", "new_time",
               "duration", "fingerprint")
    rows = [(COURSE, video, 7, TIME, "play", 0.1 + 0.2, None, None, 1e-7, "fp-float-1"),
            (COURSE, video, 7, TIME, "seek", None, 12.0, 1234567.125, None, "fp-float-2")]
    insert_ignore(VideoEventFact, columns, rows, using)
    assert set(VideoEventFact.objects.using(using).filter(course_id=COURSE).values_list(*columns)) == set(rows)


@pytest.mark.parametrize("value", [
    TIME, TIME.replace(microsecond=0), dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
    dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
])
def test_the_utc_shortcut_adapts_datetimes_as_django_does(value):
    connection = connections[conf.analytics_db()]
    assert utc_datetime_adapter(connection)(value) == connection.ops.adapt_datetimefield_value(value)


def test_rows_are_built_as_the_driver_builds_them():
    connection = connections[conf.analytics_db()]
    if connection.vendor != "mysql":
        pytest.skip("the row builder is used on MySQL/MariaDB only")
    connection.ensure_connection()
    database = connection.connection
    builder = LiteralBuilder(database)
    values = [*AWKWARD, 0, -5, 2**40, True, False, None, 0.1, 1e300, -2.5, 3.0,
              dt.datetime(2026, 1, 2, 3, 4, 5), dt.datetime(2026, 1, 2, 3, 4, 5, 60)]
    for value in [*values, *AWKWARD]:  # the second time from its memory
        assert builder.value(value) == database.literal(value), value
    assert builder.row(values) == b"(" + b",".join(database.literal(value) for value in values) + b")"
    with pytest.raises(ValueError):
        builder.value(float("nan"))


def test_statements_are_bounded_by_rows_and_bytes(monkeypatch):
    groups = [b"(%d)" % number for number in range(7)]
    assert list(statements(b"I ", b";", groups, 3)) == [b"I (0),(1),(2);", b"I (3),(4),(5);", b"I (6);"]
    monkeypatch.setattr("openedx_analytics.db.sql_literals.MAX_STATEMENT_BYTES", 12)
    assert list(statements(b"I ", b";", [b"(1)", b"(2)", b"(333333333)", b"(4)"], 100)) == [
        b"I (1),(2);", b"I (333333333);", b"I (4);"]
