"""The research export: learners pseudonymized per organization (stable within one, different across them, the
key never written), choice answers only unless free text is asked for, a data dictionary of every column."""
import csv
import hashlib
import hmac
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.support.research import KEY, LEARNER, export, facts

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"])]

ORG_A, ORG_A2, ORG_B = "course-v1:Org+Api+2026", "course-v1:Org+Two+2026", "course-v1:Other+Api+2026"


def read(folder, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / name).read_text(encoding="utf-8"), newline="")))


@pytest.fixture
def three_courses():
    for course in (ORG_A, ORG_A2, ORG_B):
        facts(course)


def test_pseudonyms_are_stable_within_an_org_and_differ_across_orgs(three_courses, tmp_path):
    export(tmp_path, "--course", ORG_A, "--course", ORG_A2, "--course", ORG_B)
    learners = {course: {row["learner"] for name in ("enrollments.csv", "problem_submissions.csv")
                         for row in read(tmp_path / course.replace(":", "_").replace("+", "_"), name)}
                for course in (ORG_A, ORG_A2, ORG_B)}
    assert all(len(found) == 1 for found in learners.values()), learners
    assert learners[ORG_A] == learners[ORG_A2]  # one organization: one pseudonym
    assert learners[ORG_A] != learners[ORG_B]  # another organization: another
    expected = hmac.new(KEY.encode(), f"Org\n{LEARNER}".encode(), hashlib.sha256).hexdigest()
    assert learners[ORG_A] == {expected}
    for path in tmp_path.rglob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert KEY not in text
        assert "user_id" not in text and ",42," not in text


def test_a_second_export_gives_the_same_pseudonyms(three_courses, tmp_path):
    export(tmp_path / "one", "--course", ORG_A)
    export(tmp_path / "two", "--course", ORG_A)
    folder = "course-v1_Org_Api_2026"
    assert (tmp_path / "one" / folder / "enrollments.csv").read_bytes() == \
        (tmp_path / "two" / folder / "enrollments.csv").read_bytes()


def test_only_choice_answers_unless_free_text_is_asked_for(three_courses, tmp_path):
    printed = export(tmp_path / "choices", "--course", ORG_A)
    rows = read(tmp_path / "choices" / "course-v1_Org_Api_2026", "problem_submissions.csv")
    assert [(r["part_id"], r["input_type"], r["answer"]) for r in rows] == [
        ("p1_2_1", "choicegroup", "Paris"), ("p1_3_1", "textline", ""), ("p1_4_1", "", "")]
    assert "(2 non-choice answers left out)" in printed
    export(tmp_path / "all", "--course", ORG_A, "--include-free-text")
    rows = read(tmp_path / "all" / "course-v1_Org_Api_2026", "problem_submissions.csv")
    assert [r["answer"] for r in rows] == ["Paris", "my secret essay", "older event"]


def test_an_org_exports_its_courses_with_progress_and_a_summary(three_courses, tmp_path, monkeypatch):
    from openedx_analytics import api

    monkeypatch.setattr(api, "known_course_ids", lambda: sorted([ORG_A, ORG_A2, ORG_B]))
    printed = export(tmp_path, "--org", "Org")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course-v1_Org_Api_2026", "course-v1_Org_Two_2026"]
    assert f"{ORG_A}: enrollments.csv 1 rows" in printed
    assert "Exported 2 course(s)" in printed


def test_the_data_dictionary_describes_every_column_of_every_file(three_courses, tmp_path):
    export(tmp_path, "--course", ORG_A)
    folder = tmp_path / "course-v1_Org_Api_2026"
    described = {(row["file"], row["column"]) for row in read(folder, "data_dictionary.csv")}
    files = sorted(p.name for p in folder.glob("*.csv") if p.name != "data_dictionary.csv")
    assert len(files) == 7
    for name in files:
        header = next(csv.reader(io.StringIO((folder / name).read_text(encoding="utf-8"))))
        for column in header:
            assert (name, column) in described, (name, column)


def test_no_key_no_export(three_courses, tmp_path):
    with override_settings(OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY=""), \
            pytest.raises(CommandError, match="OPENEDX_ANALYTICS_RESEARCH_EXPORT_KEY"):
        call_command("export_research_data", "--course", ORG_A, "--output", str(tmp_path))
    assert not list(tmp_path.iterdir())


def test_a_bad_course_id_is_refused(tmp_path):
    with pytest.raises(CommandError, match="Not a course id"):
        export(tmp_path, "--course", "not a course")


def test_a_choice_answered_through_the_event_path_is_exported(history_loaded, tmp_path):
    """The server's problem_check names each part's input type; the pipeline keeps it, the export reads it."""
    from tests.support.api import COURSE

    export(tmp_path, "--course", COURSE)
    rows = read(tmp_path / "course-v1_Org_Api_2026", "problem_submissions.csv")
    assert rows and {r["input_type"] for r in rows} == {"choicegroup"}
    assert all(r["answer"] for r in rows)
