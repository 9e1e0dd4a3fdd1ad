"""Engagement by content: events in (live doors, or a tracking log through the backfill), learners per
section, subsection and unit out (Python API, REST JSON and CSV, the page), bounded per learner."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from openedx_analytics import api, conf
from openedx_analytics.models import ContentActivityFact
from openedx_analytics.privacy import retirement
from openedx_analytics.worker import tasks
from tests.support import api as api_history
from tests.support import doors
from tests.support.api import client_for
from tests.support.commands import backfill
from tests.support.doors import FakeRequest
from tests.support.lms import block_key, lms_knows, lms_outline
from tests.support.logs import line
from tests.support.pages import client, page_url, parse

COURSE = doors.COURSE
WEEK1, S1, U1 = (block_key(COURSE, kind, name) for kind, name in
                 (("chapter", "week1"), ("sequential", "s1"), ("vertical", "u1")))
WEEK2, S2, U2 = (block_key(COURSE, kind, name) for kind, name in
                 (("chapter", "week2"), ("sequential", "s2"), ("vertical", "u2")))
P2 = "block-v1:Demo+Live+2026+type@problem+block@p2"

#: The figures of the scenario below, worked out by hand: (viewed, played_video, attempted_problem).
EXPECTED = {
    None: {WEEK1: (4, 2, 2), WEEK2: (2, 0, 0)},
    WEEK1: {S1: (3, 2, 2)},
    WEEK2: {S2: (2, 0, 0)},
    S1: {U1: (2, 2, 2)},
    S2: {U2: (2, 0, 0)},
}


def figures(parent: str | None = None, **dates: dt.date) -> dict[str, tuple[int, int, int]]:
    found = api.get_engagement_by_content(COURSE, parent=parent, **dates)
    return {part["block_id"]: (part["viewed"], part["played_video"], part["attempted_problem"])
            for part in found["parts"]}


def assert_expected() -> None:
    for parent, parts in EXPECTED.items():
        assert figures(parent) == parts, parent


@pytest.mark.django_db(transaction=True, databases=["default", "analytics"])
def test_live_events_count_per_section_subsection_and_unit():
    """Learners 1 and 3 play the video and answer the problem of u1 (the doors' scenario); learner 4 opens
    the section week1, learner 6 the subsection s1; learner 5 jumps to u2, learner 7 opens p2 of u2."""
    lms_knows(COURSE)
    doors.scenario_outline()
    with FakeRequest():
        doors.run_scenario()
        path = f"/courses/{COURSE}/courseware/week1/s1/"
        doors.emit(path, {}, 6, course_id=None, path=path)
        doors.emit("edx.ui.lms.outline.selected", {}, 5, page=f"https://lms.test/courses/{COURSE}/jump_to/{U2}")
        doors.emit("problem_show", {"problem": P2}, 7, event_source="browser", module={"usage_key": P2})
    assert_expected()
    found = api.get_engagement_by_content(COURSE)
    assert found["enrolled"] == 2  # learners 1 and 3 at the end of today
    assert found["parts"][0]["viewed_share"] == 2.0 and found["parts"][1]["played_video_share"] == 0.0
    assert found["level"] == "chapter" and [p["display_name"] for p in found["parts"]] == ["week1", "week2"]
    yesterday = doors.now().date() - dt.timedelta(days=1)
    assert figures(start=yesterday - dt.timedelta(days=5), end=yesterday) == {WEEK1: (0, 0, 0), WEEK2: (0, 0, 0)}


def log_lines(today: dt.datetime) -> list[dict]:
    """The same activity as the live test, as the LMS writes it to its tracking log."""
    video = {"id": doors.VIDEO, "code": "html5", "duration": 60}

    def check(user: int, attempts: int, correct: bool) -> dict:
        event = {"problem_id": doors.PROBLEM, "attempts": attempts, "grade": int(correct), "max_grade": 1,
                 "success": "correct" if correct else "incorrect", "answers": {"p1_2_1": "x"},
                 "correct_map": {"p1_2_1": {"correctness": "correct" if correct else "incorrect"}}}
        return line("problem_check", today, user, COURSE, event, module={"usage_key": doors.PROBLEM})

    lines = [
        line("edx.course.enrollment.activated", today, 1, COURSE, {"course_id": COURSE, "user_id": 1, "mode": "audit"}),
        line("edx.course.enrollment.activated", today, 3, COURSE, {"course_id": COURSE, "user_id": 3, "mode": "audit"}),
        line("play_video", today, 1, COURSE, json.dumps({**video, "currentTime": 0}), source="browser"),
        line("pause_video", today, 1, COURSE, json.dumps({**video, "currentTime": 12}), source="browser"),
        line("edx.video.played", today, 3, COURSE, {**video, "currentTime": 0}, source="mobile"),
        check(1, 1, False), check(1, 2, True), check(3, 1, True),
        line(f"/courses/{COURSE}/courseware/week1/", today, 4, None, {}, path=f"/courses/{COURSE}/courseware/week1/"),
        line(f"/courses/{COURSE}/courseware/week1/s1/", today, 6, None, {},
             path=f"/courses/{COURSE}/courseware/week1/s1/"),
        line("edx.ui.lms.outline.selected", today, 5, COURSE, {}, source="browser",
             page=f"https://lms.test/courses/{COURSE}/jump_to/{U2}"),
        line("problem_show", today, 7, COURSE, json.dumps({"problem": P2}), source="browser"),
    ]
    lines[-1]["context"]["module"] = {"usage_key": P2}
    for entry in lines[:-1]:
        if "module" in entry:
            entry["context"]["module"] = entry.pop("module")
    return lines


@pytest.mark.django_db(transaction=True, databases=["default", "analytics"])
def test_a_backfilled_tracking_log_gives_the_live_numbers(tmp_path):
    lms_knows(COURSE)
    doors.scenario_outline()
    log = tmp_path / "tracking.log"
    today = doors.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    log.write_text("".join(json.dumps(entry) + "\n" for entry in log_lines(today)))
    backfill("--tracking-logs", str(log))
    assert_expected()
    assert api.get_engagement_by_content(COURSE)["enrolled"] == 2


# ---------------------------------------------------------------- bounds and privacy


def send(events: list[dict]) -> dict:
    return tasks.process_event_batch.apply(args=[events, "live"]).get()


def browser_event(user: int, **context: object) -> dict:
    return api_history.tracking_event("problem_show", api_history.at(doors.now().date().isoformat()), {}, user,
                                      course=COURSE, event_source="browser", **context)


@pytest.mark.django_db(databases=["default", "analytics"])
def test_one_learner_cannot_flood_engagement_by_content():
    """A thousand invented blocks of this course, blocks of another course and a thousand events on one
    real block: the learner adds one row per part and kind of the real block, nothing else."""
    lms_knows(COURSE)
    doors.scenario_outline()
    invented = [browser_event(9, module={"usage_key": f"block-v1:Demo+Live+2026+type@problem+block@fake{i}"})
                for i in range(1000)]
    invented += [browser_event(9, page=f"https://lms.test/courses/{COURSE}/jump_to/block-v1:Demo+Live+2026+type@"
                                      f"vertical+block@x{i}") for i in range(500)]
    invented.append(browser_event(9, module={"usage_key": "block-v1:Other+X+2026+type@problem+block@p1"}))
    invented.append(browser_event(9, module={"usage_key": "block-v1:Demo+Live+2026+type@problem+block@" + "x" * 600}))
    real = [browser_event(9, module={"usage_key": P2}) for _ in range(1000)]
    result = send(invented + real)
    assert result["rejected"] == {}, result  # the events still count as the learner's activity
    rows = ContentActivityFact.objects.using(conf.analytics_db()).filter(user_id=9)
    assert sorted(rows.values_list("node_id", "kind")) == sorted([(WEEK2, "any"), (S2, "any"), (U2, "any")])


@pytest.mark.django_db(databases=["default", "analytics"])
def test_a_block_whose_outline_is_unknown_stores_nothing_and_keeps_the_event():
    lms_knows(COURSE)  # no outline rows: the LMS has no block structure for the course
    result = send([browser_event(9, module={"usage_key": P2})])
    assert result["accepted"] == 1 and result["rejected"] == {}
    assert not ContentActivityFact.objects.using(conf.analytics_db()).exists()
    assert api.get_engagement_by_content(COURSE)["parts"] == []


# ---------------------------------------------------------------- REST API and page

API_COURSE = api_history.COURSE


@pytest.fixture
def content_loaded(courses: tuple[str, str, str]) -> dict[str, str]:
    """The API history's course with an outline (ch1 > s1 > u1 holds its video and problem; ch2 > s2 > u2
    holds nothing), then its two weeks of events sent through the live task."""
    keys = lms_outline(API_COURSE, {
        "ch1": {"s1": {"u1": [("video", f"block-v1:Org+Api+2026+type@video+block@{api_history.VIDEO_BLOCK}"),
                              ("problem", api_history.PROBLEM)]}},
        "ch2": {"s2": {"u2": []}},
    })
    result = send(api_history.history())
    assert result["rejected"] == {}, result
    return keys


DATES = {"start_date": "2026-01-05", "end_date": "2026-01-19"}


@pytest.mark.django_db(databases=["default", "analytics"])
def test_the_rest_api_gives_one_level_as_json_and_csv(people, analytics_on, content_loaded):
    url = f"{api_history.BASE}courses/{API_COURSE}/content/"
    staff = client_for(people["course_staff"])
    body = staff.get(url, DATES).json()
    assert body["level"] == "chapter" and body["enrolled"] == 3
    assert body["start_date"] == "2026-01-05" and body["end_date"] == "2026-01-19"
    assert [(p["display_name"], p["viewed"], p["played_video"], p["attempted_problem"]) for p in body["parts"]] == [
        ("ch1", 2, 1, 2), ("ch2", 0, 0, 0)]
    assert body["parts"][0]["viewed_share"] == round(2 / 3, 4)
    second_week = staff.get(url, {**DATES, "start_date": "2026-01-12"}).json()
    assert [(p["viewed"], p["played_video"], p["attempted_problem"]) for p in second_week["parts"]] == [
        (1, 0, 1), (0, 0, 0)]
    units = staff.get(url, {**DATES, "parent": content_loaded["s1"]}).json()
    assert units["level"] == "vertical" and [(p["display_name"], p["viewed"]) for p in units["parts"]] == [("u1", 2)]
    csv_text = staff.get(url, {**DATES, "parent": content_loaded["ch1"], "format": "csv"}).content.decode()
    assert csv_text.splitlines()[0].startswith("block_id,display_name,viewed,played_video,attempted_problem")
    assert ",s1,2,1,2," in csv_text
    assert staff.get(url, {"parent": "block-v1:Org+Api+2026+type@chapter+block@nope"}).status_code == 400
    assert client_for(people["learner"]).get(url).status_code == 403


@pytest.mark.django_db(databases=["default", "analytics"])
def test_the_page_drills_from_sections_to_units_keeping_its_dates(people, analytics_on, content_loaded):
    staff = client(people["course_staff"])
    page = parse(staff.get(page_url(), DATES))
    table = page.tables["oa-table-content"]
    assert table[0][:3] == ["#", "Section", "Viewed"]
    assert [row[1:3] for row in table[1:]] == [["ch1", "2"], ["ch2", "0"]]
    drill = next(link for link in page.links if "content_section=" in (link or ""))
    assert "start_date=2026-01-05" in drill and drill.endswith("#content")
    subsections = parse(staff.get(drill))
    assert [row[1:3] for row in subsections.tables["oa-table-content"][1:]] == [["s1", "2"]]
    deeper = next(link for link in subsections.links if "content_subsection=" in (link or ""))
    units = parse(staff.get(deeper)).tables["oa-table-content"]
    assert units[0][1] == "Unit" and [row[1:3] for row in units[1:]] == [["u1", "2"]]
    html = staff.get(deeper).content.decode()
    assert "/content/?format=csv" in html and "Last updated" in html
    # The date form keeps the drill-down: new dates show the same subsection's units.
    assert f'<input type="hidden" name="content_subsection" value="{content_loaded["s1"]}">' in html


@pytest.mark.django_db(transaction=True, databases=["default", "analytics"])
def test_a_retired_learner_leaves_no_row_and_no_longer_counts():
    lms_knows(COURSE)
    doors.scenario_outline()
    with FakeRequest():
        doors.run_scenario()
    assert figures() == {WEEK1: (3, 2, 2), WEEK2: (0, 0, 0)}  # learners 1, 3 and 4 (the section's page)
    retirement.retire_learner(1)
    assert not ContentActivityFact.objects.using(conf.analytics_db()).filter(user_id=1).exists()
    assert figures() == {WEEK1: (2, 1, 1), WEEK2: (0, 0, 0)}
