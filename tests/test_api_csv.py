"""CSV downloads: spreadsheet-safe in every cell, header included (formula injection); a header even when
empty; blocks named and placed in the outline, in course order; columns named for what they count."""
import csv
import datetime as dt
import io

import pytest
from opaque_keys.edx.keys import CourseKey

from openedx_analytics import conf
from openedx_analytics.api.v1.renderers import cell, to_csv
from openedx_analytics.models import ActivityWeek, EnrollmentDay, ProblemSummary, VideoSegment, VideoSummary
from tests.support.api import COURSE, PROBLEM, client_for, endpoints

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


# ---------------------------------------------------------------- headers, names, course order, words

NOW = dt.datetime.now(dt.timezone.utc)
BLOCK = "block-v1:Org+Api+2026+type@{kind}+block@{name}"

#: Each endpoint's CSV header, rows or none.
HEADERS = {
    "enrollment": "date,enrolled,ever_enrolled,audit,verified,honor,professional,credit,masters,enrollments,"
                  "unenrollments,partial",
    "activity": "week_of,week_ends_before,active_learners,learners_who_watched_a_video,learners_who_tried_a_problem,"
                "learners_who_posted_in_the_forum,enrolled_at_end_of_week,partial",
    "videos": "position,section,subsection,video,video_id,duration_seconds,duration_inferred,learners_started,"
              "learners_finished,end_mark_second,views,timeline_url",
    "timeline": "segment,from_second,unique_viewers,replays,views,end_mark",
    "problems": "position,section,subsection,problem,problem_id,parts,learners_submitted,"
                "learners_last_answer_correct,learners_last_answer_incorrect,learners_first_answer_correct,"
                "submissions,mean_attempts_per_learner,answers_url",
    "answers": "question,part_id,answer,correct,learners,variant",
}


def csv_of(user, url, **query):
    response = client_for(user).get(url, {"format": "csv", **query})
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode()


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_an_empty_course_gives_each_csv_its_header(people, courses, analytics_on, name):
    """A course without figures gave a 2-byte file with no header; now its header and nothing else."""
    text = csv_of(people["course_staff"], endpoints()[name])
    assert text == HEADERS[name] + "\r\n"


def test_an_empty_daily_activity_and_course_list_have_their_headers(people, courses, analytics_on):
    text = csv_of(people["course_staff"], endpoints()["activity"], granularity="day")
    assert text.splitlines() == ["date,active_learners,learners_who_watched_a_video,learners_who_tried_a_problem,"
                                 "learners_who_posted_in_the_forum,enrolled_at_end_of_day,partial"]
    text = csv_of(people["global_staff"], endpoints()["courses"], search="no such course")
    assert text.splitlines() == ["course_id,enrolled,ever_enrolled,enrolled_change_7_days,passing_learners,"
                                 "certificates,active_learners_last_week,last_updated,summary_url"]
    assert len(text.splitlines()) == 1


@pytest.fixture
def outline():
    """A course outline in which the videos and problems run against the order of their ids."""
    from lms_host.stub.models import CourseBlock

    key = CourseKey.from_string(COURSE)
    root = BLOCK.format(kind="course", name="course")
    blocks = [(root, "course", "Python", "")]
    for n, (chapter, sequential) in enumerate((("Week 1", "Types"), ("Week 2", "Loops")), 1):
        ch, sq = BLOCK.format(kind="chapter", name=f"c{n}"), BLOCK.format(kind="sequential", name=f"s{n}")
        blocks += [(ch, "chapter", chapter, root), (sq, "sequential", sequential, ch)]
    blocks += [(BLOCK.format(kind="video", name="z"), "video", "Welcome", BLOCK.format(kind="sequential", name="s1")),
               (BLOCK.format(kind="problem", name="z"), "problem", "Types quiz",
                BLOCK.format(kind="sequential", name="s1")),
               (BLOCK.format(kind="video", name="a"), "video", "For loops", BLOCK.format(kind="sequential", name="s2")),
               (BLOCK.format(kind="problem", name="a"), "problem", "Loops quiz",
                BLOCK.format(kind="sequential", name="s2"))]
    for position, (usage_key, kind, name, parent) in enumerate(blocks):
        CourseBlock.objects.create(course_id=key, usage_key=usage_key, block_type=kind, display_name=name,
                                   parent=parent, position=position)
    db = conf.analytics_db()
    for name, duration, end in (("z", 184, 53), ("a", 60, 20)):
        VideoSummary.objects.using(db).create(course_id=COURSE, video_id=BLOCK.format(kind="video", name=name),
                                              duration=duration, segment_length=5, users_at_start=80,
                                              users_at_end=end, views=100, last_updated=NOW)
    VideoSummary.objects.using(db).create(course_id=COURSE, video_id=BLOCK.format(kind="video", name="gone"),
                                          duration=30, segment_length=5, users_at_start=1, users_at_end=1, views=1,
                                          last_updated=NOW)
    for name, correct in (("z", 7), ("a", 2)):
        ProblemSummary.objects.using(db).create(
            course_id=COURSE, problem_id=BLOCK.format(kind="problem", name=name), part_ids=[f"{name}_2_1"],
            users_attempted=10, total_submissions=14, correct_submissions=correct, first_attempt_correct=1,
            attempts_mean=1.4, last_updated=NOW)


def test_the_videos_csv_names_and_places_each_video_in_course_order(people, analytics_on, outline):
    rows = list(csv.DictReader(io.StringIO(csv_of(people["course_staff"], endpoints()["videos"]))))
    assert [(r["position"], r["section"], r["subsection"], r["video"]) for r in rows] == [
        ("1", "Week 1", "Types", "Welcome"), ("2", "Week 2", "Loops", "For loops"),
        ("3", "", "", BLOCK.format(kind="video", name="gone"))]  # not in the outline: last, by its id
    first = rows[0]
    assert (first["learners_started"], first["learners_finished"], first["end_mark_second"],
            first["duration_seconds"]) == ("80", "53", "170", "184")


def test_the_problems_csv_names_what_correct_submissions_counts(people, analytics_on, outline):
    staff = client_for(people["course_staff"])
    rows = list(csv.DictReader(io.StringIO(csv_of(people["course_staff"], endpoints()["problems"]))))
    assert [(r["position"], r["problem"], r["section"]) for r in rows] == [("1", "Types quiz", "Week 1"),
                                                                           ("2", "Loops quiz", "Week 2")]
    assert (rows[0]["learners_last_answer_correct"], rows[0]["learners_last_answer_incorrect"],
            rows[0]["learners_submitted"], rows[0]["parts"]) == ("7", "3", "10", "z_2_1")
    json_rows = {r["problem_id"]: r for r in staff.get(endpoints()["problems"]).json()}
    assert json_rows[rows[0]["problem_id"]]["correct_submissions"] == 7  # the JSON keeps its fields


def test_the_activity_csv_gives_the_enrollment_its_shares_divide_by(people, courses, analytics_on):
    db = conf.analytics_db()
    for day, count in ((dt.date(2026, 10, 1), 5), (dt.date(2026, 10, 11), 7), (dt.date(2026, 11, 30), 700)):
        EnrollmentDay.objects.using(db).create(course_id=COURSE, date=day, count=count, cumulative_count=count,
                                               enrollments=0, unenrollments=0, modes={}, last_updated=NOW)
    ActivityWeek.objects.using(db).create(course_id=COURSE, interval_start=dt.date(2026, 10, 5), any=2,
                                          attempted_problem=1, played_video=2, posted_forum=0, last_updated=NOW)
    (row,) = csv.DictReader(io.StringIO(csv_of(people["course_staff"], endpoints()["activity"])))
    assert row == {"week_of": "2026-10-05", "week_ends_before": "2026-10-12", "active_learners": "2",
                   "learners_who_watched_a_video": "2", "learners_who_tried_a_problem": "1",
                   "learners_who_posted_in_the_forum": "0", "enrolled_at_end_of_week": "7", "partial": "false"}


def test_the_timeline_csv_marks_the_segment_finished_counts(people, analytics_on, outline):
    video = BLOCK.format(kind="video", name="z")
    VideoSegment.objects.using(conf.analytics_db()).bulk_create(
        VideoSegment(course_id=COURSE, video_id=video, segment=s, num_users=50, num_views=60) for s in range(37))
    url = f"{endpoints()['videos']}{video}/timeline/"
    rows = list(csv.DictReader(io.StringIO(csv_of(people["course_staff"], url))))
    assert [r["from_second"] for r in rows if r["end_mark"] == "true"] == ["170"]
    assert rows[1] == {"segment": "1", "from_second": "5", "unique_viewers": "50", "replays": "10", "views": "60",
                       "end_mark": "false"}


def test_the_summary_csv_names_its_figures_and_modes(people, courses, analytics_on):
    EnrollmentDay.objects.using(conf.analytics_db()).create(
        course_id=COURSE, date=dt.date(2026, 11, 30), count=9, cumulative_count=12, enrollments=0, unenrollments=0,
        modes={"verified": {"count": 4, "cumulative_count": 5}, "audit": {"count": 5, "cumulative_count": 7}},
        last_updated=NOW)
    (row,) = csv.DictReader(io.StringIO(csv_of(people["course_staff"], endpoints()["summary"])))
    assert list(row)[:4] == ["course_id", "enrolled", "ever_enrolled", "enrolled_change_7_days"]
    assert (row["enrolled"], row["ever_enrolled"], row["enrolled_verified"], row["ever_enrolled_audit"]) == (
        "9", "12", "4", "7")
    assert "count" not in row and not [name for name in row if "." in name]


def test_the_answers_csv_numbers_questions_as_the_page_does(people, courses, analytics_on):
    from openedx_analytics.models import ProblemAnswer

    db = conf.analytics_db()
    ProblemSummary.objects.using(db).create(
        course_id=COURSE, problem_id=PROBLEM, part_ids=["py_types_2_1", "py_types_3_1"], users_attempted=3,
        total_submissions=3, correct_submissions=2, first_attempt_correct=2, attempts_mean=1.0, last_updated=NOW)
    ProblemAnswer.objects.using(db).bulk_create(
        ProblemAnswer(course_id=COURSE, problem_id=PROBLEM, part_id=part, answer_value=value, correct=ok, count=n)
        for part, value, ok, n in (("py_types_2_1", "int", True, 2), ("py_types_2_1", "str", False, 1),
                                   ("py_types_3_1", "list", True, 3)))
    rows = list(csv.DictReader(io.StringIO(csv_of(people["course_staff"], endpoints()["answers"]))))
    assert [(r["question"], r["part_id"], r["answer"], r["learners"]) for r in rows] == [
        ("1", "py_types_2_1", "int", "2"), ("1", "py_types_2_1", "str", "1"), ("2", "py_types_3_1", "list", "3")]
