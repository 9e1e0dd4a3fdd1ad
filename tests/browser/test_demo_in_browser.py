"""The demo in a real browser (Debian's Chromium), as course staff and as people without access.

``demo.sh`` serves a freshly seeded demo; course staff log in through the login page, open
their course's analytics page from the course list, and every card, table and chart must
show exactly what the REST API answers them (fetched in the same browser session). They
follow a video and a problem drill-down, download a CSV, and open the legacy instructor
dashboard, whose Analytics section comes from the real openedx-filters pipeline: there they
follow the drill-downs, the Daily toggle and the date form and stay in the dashboard, and
find their way back from the page on its own. A learner
and a staff member of another course see no tab and get 403 on the page. Screenshots of
each step are saved (see ``conftest``).
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from lms_host.management.commands.seed_demo import COURSES
from tests.support.browser import API, Session
from tests.support.reading import chart, number, query_value, table

PY101 = next(course for course in COURSES if course.course_id == "course-v1:DemoX+Py101+2026_T1")
ENGAGEMENT = {"Active learners": "any", "Watched a video": "played_video", "Tried a problem": "attempted_problem",
              "Posted in the forum": "posted_forum"}


@pytest.fixture(scope="module")
def staff(chromium: Any, demo_host: Any, output_dir: Path) -> Iterator[Session]:
    """Course staff of Python for Everyone, logged in."""
    session = Session(chromium, demo_host.url, output_dir)
    session.page.goto("/")
    session.shot("01-login")
    session.log_in("staff")
    yield session
    session.close()


def test_the_demo_prints_its_address_and_accounts_and_nothing_noisy(demo_host: Any) -> None:
    output = demo_host.output
    assert "warning" not in output.lower(), output
    tail = demo_host.lines[-7:]
    assert tail[0] == f"Open {demo_host.url} and log in as one of these (the password is the user name):"
    assert [line.split()[0] for line in tail[1:]] == ["staff", "instructor", "researcher", "otherstaff", "learner",
                                                      "admin"]
    assert len(demo_host.lines) < 25, output


def open_analytics(staff: Session) -> None:
    """From the course list, the analytics page of Python for Everyone."""
    staff.page.goto("/")
    staff.shot("02-course-list")
    row = staff.page.locator(f'tr.course[data-course-id="{PY101.course_id}"]')
    row.get_by_role("link", name="Analytics").click()
    staff.page.wait_for_selector("#oa-dashboard")
    assert staff.page.inner_text("h1") == f"Analytics: {PY101.name}"


def test_course_staff_see_every_number_the_api_gives(staff: Session) -> None:
    open_analytics(staff)
    staff.shot("03-analytics-page")
    course = quote(PY101.course_id)
    page = staff.page

    summary = staff.api(f"{course}/summary/")
    cards = {card: number(page.inner_text(f'li.oa-card[data-card="{card}"] .oa-card-value'))
             for card in ("enrolled", "verified", "active", "passing", "certificates")}
    assert cards == {"enrolled": summary["count"],
                     "verified": summary["enrollment_modes"].get("verified", {}).get("count", 0),
                     "active": summary["active_last_week"], "passing": summary["passing_users"],
                     "certificates": summary["certificates"]}
    assert summary["count"] > 20

    days = staff.api(f"{course}/enrollment/")
    rows = table(page, "#oa-table-enrollment")
    assert [row["Date"].split(" ")[0] for row in rows] == [day["date"] for day in days]
    modes = [column for column in rows[0] if column in ("audit", "verified", "honor", "professional")]
    assert modes
    for row, day in zip(rows, days, strict=True):
        assert number(row["Enrolled"]) == day["count"]
        assert number(row["Ever enrolled"]) == day["cumulative_count"]
        assert number(row["Enrollments"]) == day["enrollments"]
        assert number(row["Unenrollments"]) == day["unenrollments"]
        assert all(number(row[mode]) == day[mode] for mode in modes)
        assert row["Date"].endswith("(partial)") == day["partial"]
    drawn = chart(page, "enrollment")
    assert drawn, "the enrollment chart shows no values"
    for day in days:
        assert drawn[day["date"]] == {mode: day[mode] for mode in drawn[day["date"]]}

    weeks = staff.api(f"{course}/activity/")
    rows = table(page, "#oa-table-engagement")
    assert [row["Week of"].split(" ")[0] for row in rows] == [week["interval_start"] for week in weeks]
    drawn = chart(page, "engagement")
    for row, week in zip(rows, weeks, strict=True):
        for label, field in ENGAGEMENT.items():
            assert number(row[label]) == week[field]
            assert number(row[f"{label} (share)"]) == pytest.approx(100 * week[field] / number(row["Enrolled"]),
                                                                    abs=0.05)
            assert drawn[week["interval_start"]][label] == week[field]

    videos = {video["video_id"]: video for video in staff.api(f"{course}/videos/")}
    rows = table(page, "#oa-table-videos")
    assert {query_value(row["Video href"], "video") for row in rows} == set(videos)
    assert [row["Video"] for row in rows] == [video.name for video in PY101.videos]  # titles, in course order
    assert all(row["Section"] and row["Subsection"] for row in rows)
    drawn = chart(page, "videos")
    for row in rows:
        video = videos[query_value(row["Video href"], "video")]
        assert [number(row[c]) for c in ("Started", "Finished (at the end mark)", "Views", "Length (s)")] == [
            video["users_at_start"], video["users_at_end"], video["views"], video["duration"]]
        assert drawn[row["Video"]] == {"Started": video["users_at_start"], "Finished": video["users_at_end"]}

    problems = {problem["problem_id"]: problem for problem in staff.api(f"{course}/problems/")}
    rows = table(page, "#oa-table-problems")
    assert {query_value(row["Problem href"], "problem") for row in rows} == set(problems)
    assert [row["Problem"] for row in rows] == [problem.name for problem in PY101.attempted_problems]
    drawn = chart(page, "problems")
    for row in rows:
        problem = problems[query_value(row["Problem href"], "problem")]
        wrong = problem["users_attempted"] - problem["correct_submissions"]
        assert [number(row[c]) for c in ("Learners", "Correct", "Incorrect", "Correct at first attempt",
                                         "Submissions", "Mean attempts")] == [
            problem["users_attempted"], problem["correct_submissions"], wrong, problem["first_attempt_correct"],
            problem["total_submissions"], round(problem["attempts_mean"], 2)]
        assert drawn[row["Problem"]] == {"Correct": problem["correct_submissions"], "Incorrect": wrong}

    grades = staff.api(f"{course}/grades/")
    rows = table(page, "#oa-table-grades")
    assert [(row["Grade (%)"], number(row["Learners"])) for row in rows] == [
        ("Not graded yet", grades["not_graded"]),
        *[(bucket["bucket"], bucket["count"]) for bucket in grades["buckets"]]]
    assert chart(page, "grades") == {
        "Not graded yet": {"Not graded yet": grades["not_graded"], "Learners with a grade": 0},
        **{bucket["bucket"]: {"Not graded yet": 0, "Learners with a grade": bucket["count"]}
           for bucket in grades["buckets"]}}
    assert f"Passing learners: {grades['passing_users']}" in page.locator("section#grades").text_content()
    for panel in ("enrollment", "engagement", "videos", "problems", "grades"):  # what scrolling shows
        page.locator(f"section#{panel}").screenshot(path=str(staff.output_dir / f"03-analytics-{panel}.png"))


def test_course_staff_follow_a_video_and_a_problem_drill_down(staff: Session) -> None:
    open_analytics(staff)
    course = quote(PY101.course_id)
    page = staff.page

    first_video = page.locator("#oa-table-videos tbody tr").first.locator("a")
    video_name = first_video.text_content()
    first_video.click()
    page.wait_for_selector("section#video-detail")
    page.locator("section#video-detail").scroll_into_view_if_needed()
    staff.shot("04-video-drill-down")
    video_id = query_value(page.url, "video")
    assert page.locator("#video-detail-title").text_content() == f"Video: {video_name}"
    segments = staff.api(f"{course}/videos/{quote(video_id, safe='')}/timeline/")
    assert segments, "the API has no timeline for the video the page shows"
    rows = table(page, "#oa-table-video-detail")
    assert len(rows) == len(segments)
    drawn = chart(page, "video-detail")
    (video,) = [v for v in staff.api(f"{course}/videos/") if v["video_id"] == video_id]
    end_mark = int(max(video["duration"] - 30, 0.95 * video["duration"]) // 5)
    for row, segment in zip(rows, segments, strict=True):
        seconds = segment["segment"] * 5
        clock = f"{seconds // 60}:{seconds % 60:02d}"
        marked = segment["segment"] == end_mark  # the segment Finished counts, flagged in the table
        assert row["From"] == (f"{clock} (end mark: Finished counts these viewers)" if marked else clock)
        replays = max(segment["num_views"] - segment["num_users"], 0)
        assert [number(row[c]) for c in ("Unique viewers", "Replays", "Views")] == [
            segment["num_users"], replays, segment["num_views"]]
        assert drawn[clock] == {"Unique viewers": segment["num_users"], "Replays": replays}
    assert any(segment["segment"] == end_mark for segment in segments)
    assert page.locator("section#video-detail svg .oa-marker-line").count() == 1
    page.get_by_role("link", name="Back to the list").click()
    assert "video=" not in page.url

    first_problem = page.locator("#oa-table-problems tbody tr").first.locator("a")
    problem_name = first_problem.text_content()
    first_problem.click()
    page.wait_for_selector("section#problem-detail")
    page.locator("section#problem-detail").scroll_into_view_if_needed()
    staff.shot("05-problem-drill-down")
    problem_id = query_value(page.url, "problem")
    assert page.locator("#problem-detail-title").text_content() == f"Problem: {problem_name}"
    answer_page = staff.api(f"{course}/problems/{quote(problem_id, safe='')}/answers/")
    answers = answer_page["results"]
    assert answers and answer_page["next"] is None  # the demo's problems fit on one page
    rows = table(page, "#oa-table-problem-detail")
    assert [(row["Answer"], row["Correct"], number(row["Learners"])) for row in rows] == [
        (answer["answer_value"], "yes" if answer["correct"] else "no", answer["count"]) for answer in answers]
    assert chart(page, "problem-detail") == {answer["answer_value"]: {"": answer["count"]} for answer in answers}


def test_course_staff_switch_to_daily_figures_and_pick_dates(staff: Session) -> None:
    open_analytics(staff)
    course = quote(PY101.course_id)
    page = staff.page
    page.locator("section#engagement").get_by_role("link", name="Daily").click()
    page.wait_for_url("**activity=day**")
    days = staff.api(f"{course}/activity/?granularity=day")
    rows = table(page, "#oa-table-engagement")
    assert [row["Date"].split(" ")[0] for row in rows] == [day["date"] for day in days]
    drawn = chart(page, "engagement")
    for row, day in zip(rows, days, strict=True):
        assert [number(row[label]) for label in ENGAGEMENT] == [day[field] for field in ENGAGEMENT.values()]
        assert {label: drawn[day["date"]][label] for label in ENGAGEMENT} == {
            label: day[field] for label, field in ENGAGEMENT.items()}

    everything = staff.api(f"{course}/enrollment/")
    start, end = everything[5]["date"], everything[20]["date"]
    page.fill("#oa-start", start)
    page.fill("#oa-end", end)
    page.locator("#oa-range").get_by_role("button", name="Show").click()
    page.wait_for_url(f"**start_date={start}**")
    chosen = staff.api(f"{course}/enrollment/?start_date={start}&end_date={end}")
    assert [day["date"] for day in chosen] == [day["date"] for day in everything[5:20]]
    rows = table(page, "#oa-table-enrollment")
    assert [(row["Date"], number(row["Enrolled"])) for row in rows] == [(day["date"], day["count"]) for day in chosen]
    page.locator("section#enrollment").screenshot(path=str(staff.output_dir / "04-enrollment-date-range.png"))


def test_course_staff_download_a_csv(staff: Session) -> None:
    open_analytics(staff)
    with staff.page.expect_download() as download_info:
        staff.page.locator("section#summary a.oa-csv").click()
    download = download_info.value
    path = staff.output_dir / download.suggested_filename
    download.save_as(path)
    assert path.suffix == ".csv"
    with open(path, newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    summary = staff.api(f"{quote(PY101.course_id)}/summary/")
    assert row["course_id"] == PY101.course_id
    assert [int(row[c]) for c in ("enrolled", "ever_enrolled", "passing_learners", "certificates")] == [
        summary["count"], summary["cumulative_count"], summary["passing_users"], summary["certificates"]]


def test_course_staff_see_the_analytics_section_in_the_instructor_dashboard(staff: Session) -> None:
    staff.page.goto("/")
    row = staff.page.locator(f'tr.course[data-course-id="{PY101.course_id}"]')
    row.get_by_role("link", name="Instructor dashboard").click()
    page = staff.page
    page.wait_for_selector("nav.instructor-nav")
    nav = page.locator("nav.instructor-nav a")
    assert nav.all_inner_texts() == ["Course Info", "Membership", "Analytics"]
    assert not page.locator("section#openedx_analytics").is_visible()
    nav.filter(has_text="Analytics").click()
    section = page.locator("section#openedx_analytics")
    section.wait_for(state="visible")
    staff.shot("06-instructor-dashboard-analytics")
    summary = staff.api(f"{quote(PY101.course_id)}/summary/")
    enrolled = section.locator('li.oa-card[data-card="enrolled"] .oa-card-value').inner_text()
    assert number(enrolled) == summary["count"]
    # The section's stylesheet came in through the fragment, in the page's head.
    assert page.locator('head link[href$="openedx_analytics/dashboard.css"]').count() == 1
    section.get_by_role("link", name="Open the analytics page on its own").click()
    page.wait_for_selector("#oa-dashboard")
    assert page.inner_text("h1") == f"Analytics: {PY101.name}"


def open_the_section(staff: Session) -> Any:
    """From the course list, the instructor dashboard, then its Analytics section; the section."""
    staff.page.goto("/")
    staff.page.locator(f'tr.course[data-course-id="{PY101.course_id}"]').get_by_role(
        "link", name="Instructor dashboard").click()
    staff.page.wait_for_selector("nav.instructor-nav")
    staff.page.locator("nav.instructor-nav a").filter(has_text="Analytics").click()
    section = staff.page.locator("section#openedx_analytics")
    section.wait_for(state="visible")
    return section


def still_in_the_dashboard(staff: Session) -> Any:
    """The page is the course's instructor dashboard with the Analytics section shown; the section."""
    page = staff.page
    path = urlsplit(page.url).path
    assert unquote(path) == f"/courses/{PY101.course_id}/instructor", page.url
    assert urlsplit(page.url).fragment == "view-openedx_analytics", page.url
    section = page.locator("section#openedx_analytics")
    section.wait_for(state="visible")
    assert page.locator("nav.instructor-nav a.active-section").inner_text() == "Analytics"
    return section


def headings_nest(page: Any, selector: str) -> list[tuple[int, str]]:
    """The headings of an element, in order, as (level, text); each at most one level below the one before."""
    found = page.eval_on_selector(selector, """root => [...root.querySelectorAll('h1,h2,h3,h4,h5,h6')]
        .filter(h => h.offsetParent !== null).map(h => [Number(h.tagName[1]), h.textContent.trim()])""")
    levels = [level for level, _text in found]
    assert all(b - a <= 1 for a, b in pairwise(levels)), found
    return found


def test_course_staff_navigate_inside_the_instructor_dashboard(staff: Session) -> None:
    section = open_the_section(staff)
    page = staff.page
    still_in_the_dashboard(staff)
    headings = headings_nest(page, "section#openedx_analytics")
    assert tuple(headings[0]) == (3, "Analytics") and all(level > 3 for level, _text in headings[1:])

    first_video = section.locator("#oa-table-videos tbody tr").first.locator("a")
    video_name = first_video.text_content()
    first_video.click()
    page.wait_for_url("**video=**")
    section = still_in_the_dashboard(staff)
    assert section.locator("#video-detail-title").text_content() == f"Video: {video_name}"
    section.locator("section#video-detail").scroll_into_view_if_needed()
    staff.shot("09-dashboard-video-drill-down")
    headings_nest(page, "section#openedx_analytics")
    section.locator("section#video-detail").get_by_role("link", name="Back to the list").click()
    page.wait_for_url(lambda url: "video=" not in url)
    section = still_in_the_dashboard(staff)

    first_problem = section.locator("#oa-table-problems tbody tr").first.locator("a")
    problem_name = first_problem.text_content()
    first_problem.click()
    page.wait_for_url("**problem=**")
    section = still_in_the_dashboard(staff)
    assert section.locator("#problem-detail-title").text_content() == f"Problem: {problem_name}"
    section.locator("section#problem-detail").scroll_into_view_if_needed()
    staff.shot("10-dashboard-problem-drill-down")

    section.locator("section#engagement").get_by_role("link", name="Daily").click()
    page.wait_for_url("**activity=day**")
    section = still_in_the_dashboard(staff)
    assert table(page, "section#openedx_analytics #oa-table-engagement")[0].get("Date")

    everything = staff.api(f"{quote(PY101.course_id)}/enrollment/")
    start, end = everything[3]["date"], everything[10]["date"]
    section.locator("#oa-start").fill(start)
    section.locator("#oa-end").fill(end)
    section.locator("#oa-range").get_by_role("button", name="Show").click()
    page.wait_for_url(f"**start_date={start}**")
    section = still_in_the_dashboard(staff)
    rows = table(page, "section#openedx_analytics #oa-table-enrollment")
    assert [row["Date"] for row in rows] == [day["date"] for day in everything[3:10]]
    assert "activity=day" in page.url  # the daily view was kept
    staff.shot("11-dashboard-date-range")

    # Back to the rest of the dashboard, and to the page on its own and back again.
    page.locator("nav.instructor-nav a").filter(has_text="Course Info").click()
    page.locator("section#course_info").wait_for(state="visible")
    assert not section.is_visible()
    page.locator("nav.instructor-nav a").filter(has_text="Analytics").click()
    section.wait_for(state="visible")
    section.get_by_role("link", name="Open the analytics page on its own").click()
    page.wait_for_selector("#oa-dashboard")
    headings_nest(page, "body")
    page.get_by_role("link", name="Back to the instructor dashboard").click()
    still_in_the_dashboard(staff)
    page.goto(f"/analytics/courses/{PY101.course_id}/")
    page.get_by_role("link", name="Go to the course").click()
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == PY101.name


@pytest.mark.parametrize("username", ["learner", "otherstaff"])
def test_people_without_a_staff_role_see_no_tab_and_get_403(chromium: Any, demo_host: Any, output_dir: Path,
                                                             username: str) -> None:
    session = Session(chromium, demo_host.url, output_dir)
    session.log_in(username)
    rows = session.page.locator("tr.course")
    listed = {rows.nth(i).get_attribute("data-course-id"): rows.nth(i) for i in range(rows.count())}
    session.shot(f"07-{username}-course-list")
    if username == "learner":
        assert PY101.course_id in listed  # enrolled there...
        assert listed[PY101.course_id].get_by_role("link").count() == 0  # ...with nothing for staff to open
    else:
        assert PY101.course_id not in listed
    page_url = f"{demo_host.url}analytics/courses/{PY101.course_id}/"
    dashboard_url = f"{demo_host.url}courses/{PY101.course_id}/instructor"
    session.expected_status |= {page_url, dashboard_url}
    response = session.page.goto(page_url)
    assert response.status == 403
    session.shot(f"08-{username}-analytics-403")
    assert session.page.locator("#oa-dashboard").count() == 0
    assert session.page.get_by_role("link", name="Back to your courses").get_attribute("href") == "/"
    assert session.page.goto(dashboard_url).status == 404  # the LMS opens no instructor dashboard to them
    assert session.page.inner_text("h1") == "Page not found"  # the host's page, not Django's debug page
    session.page.get_by_role("link", name="Back to my courses").click()
    session.page.wait_for_selector("tr.course")
    assert session.context.request.get(f"{demo_host.url}{API}{quote(PY101.course_id)}/summary/").status == 403
    if username == "otherstaff":  # their own course: the tab is there
        session.page.goto(f"courses/{'course-v1:OpenU+Hist110+2026'}/instructor")
        assert session.page.locator("nav.instructor-nav a").all_inner_texts()[-1] == "Analytics"
    session.close()


def test_course_staff_drill_down_through_the_outline_without_javascript(staff: Session) -> None:
    """Graded content from assignment types to a problem's answers, videos from sections to a timeline:
    plain links, each level's table equal to the REST API's rows."""
    open_analytics(staff)
    course = quote(PY101.course_id)
    page = staff.page

    def rows_equal(selector: str, level: dict[str, Any], columns: tuple[str, ...], fields: tuple[str, ...]) -> None:
        rows = table(page, selector)
        assert len(rows) == len(level["rows"]), selector
        for row, expected in zip(rows, level["rows"], strict=True):
            assert [round(number(row[c]), 2) for c in columns] == [round(expected[f], 2) for f in fields]

    types = staff.api(f"{course}/problems/graded/")
    assert [(r["name"], r["weight"]) for r in types["rows"]] == [("Homework", 0.4), ("Lab", 0.2), ("Final Exam", 0.4)]
    rows_equal("#oa-table-graded-content", types, ("Problems", "Correct (average)", "Incorrect (average)"),
               ("problems", "correct", "incorrect"))
    page.locator("#oa-table-graded-content").get_by_role("link", name="Final Exam").click()
    page.wait_for_selector("section#graded-content h3")
    assignments = staff.api(f"{course}/problems/graded/?assignment_type={quote('Final Exam')}")
    rows_equal("#oa-table-graded-content", assignments, ("Problems", "Correct (average)"), ("problems", "correct"))
    page.locator("#oa-table-graded-content tbody tr").first.locator("a").click()
    assignment = query_value(page.url, "graded_assignment")
    problems = staff.api(f"{course}/problems/graded/?assignment={quote(assignment, safe='')}")
    rows_equal("#oa-table-graded-content", problems, ("Correct", "Incorrect"), ("correct", "incorrect"))
    assert problems["rows"][-1]["correct"] == problems["rows"][-1]["incorrect"] == 0  # the unsubmitted bonus
    page.locator("section#graded-content").scroll_into_view_if_needed()
    staff.shot("06-graded-content-drill-down")
    page.locator("#oa-table-graded-content tbody tr").first.locator("a").click()
    page.wait_for_selector("section#problem-detail")

    page.locator("#oa-table-videos-outline tbody tr").first.locator("a").click()
    page.locator("#oa-table-videos-outline tbody tr").first.locator("a").click()
    subsection = query_value(page.url, "video_subsection")
    videos = staff.api(f"{course}/videos/outline/?subsection={quote(subsection, safe='')}")
    rows_equal("#oa-table-videos-outline", videos, ("Complete views", "Start-only views"),
               ("complete_views", "start_only_views"))
    page.locator("#oa-table-videos-outline tbody tr").first.locator("a").click()
    page.wait_for_selector("section#video-detail")
