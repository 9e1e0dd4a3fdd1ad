"""The research export over the REST API: a zip streamed as it is written holding the command's files byte for
byte, for data researchers (of the course or org-wide) and global staff only, free text for global staff only,
each download logged, a clear 503 without a key, one export at a time per caller, a time limit."""
import io
import logging
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.http import StreamingHttpResponse
from django.test import override_settings
from opaque_keys.edx.django.models import CourseKeyField

from lms_host.stub.models import CourseAccessRole
from openedx_analytics import api, research
from openedx_analytics.models import CourseAnalyticsOverride
from tests.support.api import BASE, COURSE, OTHER, SISTER, client_for
from tests.support.research import KEY, export, facts

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

URL = f"{BASE}courses/{COURSE}/research_export/"
ORG_URL = f"{BASE}orgs/Org/research_export/"
FOLDER = "course-v1_Org_Api_2026"


@pytest.fixture
def exported(people, analytics_on, monkeypatch):
    """Facts in the three API courses (two of org Org); an org-wide data researcher of Org; the key set."""
    for course in (COURSE, SISTER, OTHER):
        facts(course)
    monkeypatch.setattr(api, "known_course_ids", lambda: sorted([COURSE, SISTER, OTHER]))
    people["org_researcher"] = get_user_model().objects.create_user("org_researcher", "or@example.com")
    CourseAccessRole.objects.create(user=people["org_researcher"], org="Org", course_id=CourseKeyField.Empty,
                                    role="data_researcher")
    with override_settings(OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY=KEY):
        yield people


def download(user, url: str = URL):
    response = client_for(user).get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def zip_files(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def command_files(tmp_path, *args: str) -> dict[str, bytes]:
    export(tmp_path, *args)
    return {str(path.relative_to(tmp_path)): path.read_bytes() for path in sorted(tmp_path.rglob("*.csv"))}


def test_the_zip_holds_the_commands_files_byte_for_byte(exported, tmp_path):
    response, body = download(exported["data_researcher"])
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{FOLDER}_research_export.zip"'
    assert response["Cache-Control"] == "private, no-store"
    files = zip_files(body)
    expected = command_files(tmp_path, "--course", COURSE)
    assert len(expected) == 8 and sorted(files) == sorted(expected)
    assert files == expected


def test_the_org_zip_holds_the_commands_org_export(exported, tmp_path):
    response, body = download(exported["org_researcher"], ORG_URL)
    assert response.status_code == 200
    files = zip_files(body)
    assert {name.split("/")[0] for name in files} == {FOLDER, "course-v1_Org_Two_2026"}
    assert files == command_files(tmp_path, "--org", "Org")


@pytest.mark.parametrize(("role", "status"), [
    ("data_researcher", 200), ("org_researcher", 200), ("global_staff", 200),
    ("course_staff", 403), ("instructor", 403), ("learner", 403), ("other_staff", 403), ("anonymous", 401),
])
def test_who_may_download_a_course(exported, role, status):
    response, body = download(exported[role])
    assert response.status_code == status, body
    if status == 403:
        assert response.json() == {"detail": "Only data researchers of this course or its organization, and "
                                             "global staff, can download its research export."}
    if status == 200:
        assert f"{FOLDER}/enrollments.csv" in zip_files(body)


@pytest.mark.parametrize(("role", "status"), [
    ("org_researcher", 200), ("global_staff", 200),
    ("data_researcher", 403), ("course_staff", 403), ("instructor", 403), ("learner", 403), ("anonymous", 401),
])
def test_who_may_download_an_org(exported, role, status):
    response, _body = download(exported[role], ORG_URL)
    assert response.status_code == status


def test_the_org_researcher_of_one_org_cannot_export_another(exported):
    response, _body = download(exported["org_researcher"], f"{BASE}courses/{OTHER}/research_export/")
    assert response.status_code == 403
    response, _body = download(exported["org_researcher"], f"{BASE}orgs/Other/research_export/")
    assert response.status_code == 403


def test_free_text_is_for_global_staff_only(exported):
    response, body = download(exported["data_researcher"], URL + "?include_free_text=true")
    assert response.status_code == 403
    assert "free-text" in response.json()["detail"]
    response, body = download(exported["global_staff"], URL + "?include_free_text=true")
    assert response.status_code == 200
    assert b"my secret essay" in zip_files(body)[f"{FOLDER}/problem_submissions.csv"]
    _response, body = download(exported["global_staff"], URL + "?include_free_text=false")
    assert b"my secret essay" not in zip_files(body)[f"{FOLDER}/problem_submissions.csv"]
    response, _body = download(exported["global_staff"], URL + "?include_free_text=maybe")
    assert response.status_code == 400 and "include_free_text" in response.json()


def test_without_a_key_a_clear_503(exported):
    with override_settings(OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY=""):
        response, _body = download(exported["data_researcher"])
    assert response.status_code == 503
    assert "OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY" in response.json()["detail"]
    with override_settings(OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY=""):
        response, _body = download(exported["learner"])
    assert response.status_code == 403  # a refused role learns nothing about the site's set-up


def test_unknown_and_malformed_courses_and_orgs(exported):
    unknown = f"{BASE}courses/course-v1:Org+Nope+2026/research_export/"
    assert download(exported["global_staff"], unknown)[0].status_code == 404
    assert download(exported["org_researcher"], unknown)[0].status_code == 404
    assert download(exported["learner"], unknown)[0].status_code == 403  # existence stays private
    response, _body = download(exported["global_staff"], f"{BASE}courses/not-a-course/research_export/")
    assert response.status_code == 400 and "course_id" in response.json()
    assert download(exported["global_staff"], f"{BASE}orgs/Nope/research_export/")[0].status_code == 404


def test_a_course_in_the_lms_but_turned_off_is_404(people, monkeypatch):
    with override_settings(OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY=KEY):  # no analytics_on: the gate is closed
        assert download(people["data_researcher"])[0].status_code == 404


def test_errors_are_json_whatever_the_client_accepts(exported):
    response = client_for(exported["learner"]).get(URL, HTTP_ACCEPT="application/zip")
    assert response.status_code == 403 and response["Content-Type"] == "application/json"


def test_the_zip_streams_before_the_export_is_read(exported, monkeypatch):
    """The first piece leaves before the second file's rows are read: nothing waits for the whole export."""
    reads = []
    pages = research._pages

    def spy(model, course_id, fields):
        reads.append(model.__name__)
        yield from pages(model, course_id, fields)

    monkeypatch.setattr(research, "_pages", spy)
    monkeypatch.setattr(research, "ZIP_PIECE_BYTES", 1)
    response = client_for(exported["data_researcher"]).get(URL)
    assert isinstance(response, StreamingHttpResponse)
    assert reads == []  # the view returned without reading a row
    pieces, stages = [], []
    for piece in response.streaming_content:
        pieces.append(piece)
        stages.append(len(reads))  # how many files' rows had been asked for when this piece left
    assert pieces[0].startswith(b"PK\x03\x04")  # a zip's first local file header
    assert stages[0] == 0  # the first piece left before any row was read
    assert stages == sorted(stages) and len(set(stages)) == len(research.TABLES) + 1  # and pieces between files
    body = b"".join(pieces)
    assert f"{FOLDER}/data_dictionary.csv" in zip_files(body)


def test_one_export_at_a_time_per_caller(exported):
    client = client_for(exported["data_researcher"])
    running = client.get(URL)
    pieces = iter(running.streaming_content)
    first = next(pieces)
    second = client.get(URL)
    assert second.status_code == 429 and "still running" in second.json()["detail"]
    assert download(exported["global_staff"])[0].status_code == 200  # another caller may
    zip_files(first + b"".join(pieces))  # read to the end: the response closes, the caller may export again
    again, body = download(exported["data_researcher"])
    assert again.status_code == 200 and zip_files(body)


def test_a_reader_that_leaves_frees_the_caller(exported, caplog, monkeypatch):
    monkeypatch.setattr(research, "ZIP_PIECE_BYTES", 1)  # the first piece leaves mid-export
    client = client_for(exported["data_researcher"])
    running = client.get(URL)
    next(iter(running.streaming_content))
    with caplog.at_level(logging.INFO, logger="openedx_analytics.reports"):
        running._iterator.close()  # what the server does when the client goes away: the response is closed
    assert any("incomplete: the reader went away" in record.getMessage() for record in caplog.records)
    assert download(exported["data_researcher"])[0].status_code == 200


def test_past_the_time_limit_the_zip_says_it_is_incomplete(exported, monkeypatch, caplog):
    monkeypatch.setattr(research, "ROWS_PER_CLOCK_CHECK", 1)
    with override_settings(OPENEDX_ANALYTICS_RESEARCH_EXPORT_SECONDS=-1), \
            caplog.at_level(logging.INFO, logger="openedx_analytics.reports"):
        response, body = download(exported["data_researcher"])
    files = zip_files(body)
    assert b"time limit" in files[research.INCOMPLETE_FILE]
    assert f"{FOLDER}/enrollments.csv" in files and f"{FOLDER}/activity.csv" not in files
    assert any("incomplete" in record.getMessage() for record in caplog.records)


def test_a_failed_read_ends_the_zip_saying_so(exported, monkeypatch):
    def broken(model, course_id, fields):
        raise RuntimeError("database gone")
        yield  # pragma: no cover

    monkeypatch.setattr(research, "_pages", broken)
    response, body = download(exported["data_researcher"])
    assert response.status_code == 200
    assert b"reading the data failed" in zip_files(body)[research.INCOMPLETE_FILE]


def test_each_download_is_logged_with_who_and_what(exported, caplog):
    with caplog.at_level(logging.INFO, logger="openedx_analytics.reports"):
        download(exported["org_researcher"], ORG_URL)
        download(exported["global_staff"], URL + "?include_free_text=true")
    lines = [r.getMessage() for r in caplog.records if r.name == "openedx_analytics.reports"]
    who, staff = exported["org_researcher"].pk, exported["global_staff"].pk
    assert any(f"report research_export of course {COURSE} downloaded by user id {who} at " in line
               for line in lines)
    assert any(f"report research_export of course {SISTER} downloaded by user id {who} at " in line
               for line in lines)
    assert any(f"research_export of Org for user id {who} ended: 8 rows in 2 course(s)" in line for line in lines)
    assert any(f"report research_export_with_free_text of course {COURSE} downloaded by user id {staff}" in line
               for line in lines)


def test_a_course_of_the_org_turned_off_is_left_out_of_the_org_zip(exported):
    CourseAnalyticsOverride.objects.create(course_id=SISTER, override_choice=CourseAnalyticsOverride.OFF,
                                           enabled=True)
    _response, body = download(exported["org_researcher"], ORG_URL)
    assert {name.split("/")[0] for name in zip_files(body)} == {FOLDER}
