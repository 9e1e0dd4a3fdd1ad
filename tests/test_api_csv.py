"""CSV downloads are spreadsheet-safe in every cell, header included (formula injection)."""
import csv
import datetime as dt
import io

import pytest

from openedx_analytics import conf
from openedx_analytics.api.v1.renderers import cell, to_csv
from openedx_analytics.models import EnrollmentDay
from tests.support.api import COURSE, client_for, endpoints

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

#: Mode names as hostile data can carry them: each would run as a formula in a spreadsheet.
HOSTILE_MODES = ('=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR")


def test_headers_are_escaped_like_cells():
    text = to_csv([{mode: 1 for mode in HOSTILE_MODES} | {"plain": 2}])
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    assert header == [cell(mode) for mode in HOSTILE_MODES] + ["plain"]
    assert all(name.startswith("'") for name in header[:-1])
    assert row == ["1"] * len(HOSTILE_MODES) + ["2"]


def test_a_mode_named_like_a_formula_is_a_quoted_column_of_the_enrollment_csv(people, courses, analytics_on):
    modes = {mode: {"count": 1, "cumulative_count": 1} for mode in HOSTILE_MODES}
    EnrollmentDay.objects.using(conf.analytics_db()).create(
        course_id=COURSE, date=dt.date(2026, 1, 5), count=len(modes), cumulative_count=len(modes),
        enrollments=len(modes), unenrollments=0, modes=modes, last_updated=dt.datetime.now(dt.timezone.utc))
    response = client_for(people["course_staff"]).get(endpoints()["enrollment"], {"format": "csv"})
    assert response.status_code == 200
    header, row = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    for mode in HOSTILE_MODES:
        assert "'" + mode in header, mode
    assert not [name for name in header if name.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert row[header.index("'" + HOSTILE_MODES[0])] == "1"


def test_a_leading_nul_is_neutralized_in_cells_and_headers():
    """ASVS 1.2.10: a NUL first is escaped like a formula start (a reader that drops it runs what follows)."""
    text = to_csv([{"\0=SUM(A1)": "\0=HYPERLINK(\"http://evil.example\")", "plain": "a\0b"}])
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    assert header == ["'\0=SUM(A1)", "plain"]
    assert row == ["'\0=HYPERLINK(\"http://evil.example\")", "a\0b"]  # only a leading NUL starts anything
    assert cell("\0") == "'\0"
