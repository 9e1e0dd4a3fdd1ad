"""Course staff walk every view of the Analytics section inside the instructor dashboard, axe-core on each.

From the legacy instructor dashboard's Analytics tab the test crawls, breadth first, clicking
them as a person does, the links of the section that keep the browser on the dashboard
(drill-downs and their "back" links, the Daily and Share toggles, pagers, a video's timeline,
a problem's answers, each level of every outline drill-down), so views added later are
walked without editing this test. A view is
known by the set of query parameters it carries (``video``, ``graded_type`` +
``graded_assignment``, ...): each kind is walked once, and a link that only combines kinds
already reached (a video's timeline with the Daily toggle on) is not followed; at most
``MAX_VIEWS`` views. On every view the browser is still on ``/courses/<id>/instructor`` with the
section shown, every link that leaves the dashboard is the page-on-its-own link or a CSV
download (a panel's figures, or the problem response report), the figures shown (summary
cards, a video's timeline, a problem's answers, the
levels of the outline drill-downs) equal the REST API's, and axe-core finds no violation.
Then the walk climbs back with the "Back to the list" links to the tab's first view, opens
the page on its own (scanned with two of its drill-downs), and comes back through "Back to the
instructor dashboard".

axe-core is script injected into the page; the pages forbid every script by their
Content-Security-Policy, so this test's browser context (only this one) bypasses it.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from lms_host.management.commands.seed_demo import COURSES
from tests.support.accessibility import axe_violations, report
from tests.support.browser import Session
from tests.support.reading import chart, number, table

PY101 = next(course for course in COURSES if course.course_id == "course-v1:DemoX+Py101+2026_T1")
DASHBOARD = f"/courses/{PY101.course_id}/instructor"
HASH = "view-openedx_analytics"
SECTION = "section#openedx_analytics"
#: A bound on the walk: far more kinds of view than the section has (about 15 today).
MAX_VIEWS = 60


@pytest.fixture(scope="module")
def staff(chromium: Any, demo_host: Any, output_dir: Path) -> Iterator[Session]:
    """Course staff of Python for Everyone, logged in, in a browser that lets axe-core's script run."""
    session = Session(chromium, demo_host.url, output_dir, bypass_csp=True)  # for axe-core only: see above
    session.log_in("staff")
    yield session
    session.close()


def kind(url: str) -> frozenset[str]:
    """What makes a view of the section: the names of its query parameters."""
    return frozenset(parse_qs(urlsplit(url).query))


def parameter(url: str, name: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get(name)
    return values[0] if values else None


def only_combines(candidate: frozenset[str], reached: set[frozenset[str]]) -> bool:
    """Whether a kind of view is just kinds already reached put together (a toggle kept on a drill-down)."""
    parts = [known for known in reached if known < candidate]
    return bool(parts) and frozenset().union(*parts) == candidate


class Walk:
    """The walk's findings: per view its axe-core violations and what else went wrong, and the checks done."""

    def __init__(self, staff: Session) -> None:
        self.staff = staff
        self.page = staff.page
        self.course = quote(PY101.course_id)
        self.failures: list[str] = []
        self.checked: Counter[str] = Counter()

    def scan(self, where: str) -> None:
        """axe-core on the page as shown: every violation kept with where it was found."""
        violations = axe_violations(self.page)
        if violations:
            self.failures.append(f"axe-core on {where}:\n{report(violations)}")

    def in_the_dashboard(self) -> Any:
        """The page is the course's instructor dashboard with the Analytics section shown; the section."""
        parts = urlsplit(self.page.url)
        assert unquote(parts.path) == DASHBOARD and parts.fragment == HASH, self.page.url
        section = self.page.locator(SECTION)
        section.wait_for(state="visible")
        assert self.page.locator("nav.instructor-nav a.active-section").inner_text() == "Analytics"
        return section

    def links(self) -> list[dict[str, Any]]:
        """The section's links: where they lead (as written, and absolute), whether a CSV (figures or the problem
        response report) or the page on its own."""
        return self.page.eval_on_selector_all(f"{SECTION} a[href]", """links => links.map(a => ({
            written: a.getAttribute('href'), href: a.href,
            csv: a.classList.contains('oa-csv') || a.classList.contains('oa-report'),
            own_page: a.closest('.oa-open-page') !== null}))""")

    def follow(self, written: str, href: str) -> None:
        """Click the section's link to ``href`` as a person does (unfolding its data table first if folded)."""
        link = self.page.locator(f'{SECTION} a[href="{written}"]').first
        if not link.is_visible():
            link.locator("xpath=ancestor::details[1]/summary").click()
        link.click()
        self.page.wait_for_url(href)

    # ------------------------------------------------------------ the figures, against the REST API

    def figures(self, url: str) -> None:
        """Every figure check that applies to the view shown."""
        for selector, check in self.CHECKS.items():
            if self.page.locator(f"{SECTION} {selector}").count():
                check(self, url)
                self.checked[check.__name__] += 1

    def summary_cards(self, url: str) -> None:
        summary = self.staff.api(f"{self.course}/summary/")
        cards = {card: number(self.page.inner_text(f'{SECTION} li.oa-card[data-card="{card}"] .oa-card-value'))
                 for card in ("enrolled", "verified", "active", "passing", "certificates")}
        assert cards == {"enrolled": summary["count"],
                         "verified": summary["enrollment_modes"].get("verified", {}).get("count", 0),
                         "active": summary["active_last_week"], "passing": summary["passing_users"],
                         "certificates": summary["certificates"]}, url

    def video_timeline(self, url: str) -> None:
        video = parameter(url, "video")
        segments = self.staff.api(f"{self.course}/videos/{quote(video, safe='')}/timeline/")
        rows = table(self.page, f"{SECTION} #oa-table-video-detail")
        assert segments and len(rows) == len(segments), url
        drawn = chart(self.page, "video-detail")
        for row, segment in zip(rows, segments, strict=True):
            replays = max(segment["num_views"] - segment["num_users"], 0)
            assert [number(row[c]) for c in ("Unique viewers", "Replays", "Views")] == [
                segment["num_users"], replays, segment["num_views"]], url
            clock = row["From"].split(" ")[0]
            assert drawn[clock] == {"Unique viewers": segment["num_users"], "Replays": replays}, url

    def problem_answers(self, url: str) -> None:
        problem = parameter(url, "problem")
        answers = self.staff.api(f"{self.course}/problems/{quote(problem, safe='')}/answers/")
        assert answers["next"] is None, "the demo's problems' answers fit on one page"
        rows = table(self.page, f"{SECTION} #oa-table-problem-detail")
        assert [(row["Answer"], row["Correct"], number(row["Learners"])) for row in rows] == [
            (answer["answer_value"], "yes" if answer["correct"] else "no", answer["count"])
            for answer in answers["results"]], url

    def _level(self, url: str, table_id: str, endpoint: str, levels: tuple[tuple[str, str], ...],
               columns: tuple[tuple[str, str], ...]) -> None:
        """One level of an outline drill-down: the deepest parameter the view carries chooses it."""
        chosen = [(api_name, parameter(url, name)) for name, api_name in levels if parameter(url, name)]
        query = f"?{chosen[-1][0]}={quote(chosen[-1][1], safe='')}" if chosen else ""
        level = self.staff.api(f"{self.course}/{endpoint}/{query}")
        rows = table(self.page, f"{SECTION} #{table_id}")
        assert [row[next(c for c in row if c in ("Section", "Subsection", "Video", "Assignment type",
                                                   "Assignment", "Problem"))] for row in rows] == [
            expected["name"] for expected in level["rows"]], url
        for row, expected in zip(rows, level["rows"], strict=True):
            for prefix, field in columns:
                column = next(c for c in row if c.startswith(prefix))
                assert round(number(row[column]), 2) == round(expected[field], 2), (url, column)

    def graded_content(self, url: str) -> None:
        self._level(url, "oa-table-graded-content", "problems/graded",
                    (("graded_type", "assignment_type"), ("graded_assignment", "assignment")),
                    (("Problems", "problems"), ("Correct", "correct"), ("Incorrect", "incorrect")))

    def videos_by_outline(self, url: str) -> None:
        self._level(url, "oa-table-videos-outline", "videos/outline",
                    (("video_section", "section"), ("video_subsection", "subsection")),
                    (("Videos", "videos"), ("Complete views", "complete_views"),
                     ("Start-only views", "start_only_views")))

    def ungraded_problems(self, url: str) -> None:
        self._level(url, "oa-table-ungraded-problems", "problems/ungraded",
                    (("ungraded_section", "section"), ("ungraded_subsection", "subsection")),
                    (("Problems", "problems"), ("Correct", "correct"), ("Incorrect", "incorrect")))

    CHECKS: dict[str, Callable[[Walk, str], None]] = {
        "li.oa-card": summary_cards, "#oa-table-video-detail": video_timeline,
        "#oa-table-problem-detail": problem_answers, "#oa-table-graded-content": graded_content,
        "#oa-table-videos-outline": videos_by_outline, "#oa-table-ungraded-problems": ungraded_problems}


def open_the_tab(staff: Session) -> None:
    """From the course list to the instructor dashboard, then its Analytics tab, as a person clicks."""
    staff.page.goto("/")
    staff.page.locator(f'tr.course[data-course-id="{PY101.course_id}"]').get_by_role(
        "link", name="Instructor dashboard").click()
    staff.page.locator("nav.instructor-nav a").filter(has_text="Analytics").click()
    staff.page.locator(SECTION).wait_for(state="visible")


def climb_back(walk: Walk) -> int:
    """From the view shown, "Back to the list" links (one level up each) to the tab's first view; the steps."""
    steps = 0
    while here := kind(walk.page.url):
        back = walk.page.locator(f"{SECTION} .oa-back a")
        hrefs = [back.nth(i).get_attribute("href") for i in range(back.count())]
        back.nth(next(i for i, href in enumerate(hrefs) if kind(href) < here)).click()
        walk.page.wait_for_url(lambda url, here=here: kind(url) < here)
        walk.in_the_dashboard()
        steps += 1
        assert steps <= 5, walk.page.url
    return steps


def test_course_staff_walk_every_view_of_the_section_with_no_accessibility_violation(staff: Session) -> None:
    started = time.monotonic()
    walk = Walk(staff)
    page = staff.page
    open_the_tab(staff)
    walk.in_the_dashboard()
    first = page.url
    # Each step: the view the link was found on (opened again if need be), then a click on the link.
    queue: list[tuple[str, str, str]] = [(first, "", first)]
    reached, walked = {kind(first)}, []
    while queue and len(walked) < MAX_VIEWS:
        parent, written, url = queue.pop(0)
        if written:
            if page.url != parent:
                page.goto(parent)
            walk.follow(written, url)
        walk.in_the_dashboard()
        walked.append(url)
        walk.figures(url)
        walk.scan(f"the dashboard, view {sorted(kind(url)) or 'first'} ({url})")
        for link in walk.links():
            parts = urlsplit(link["href"])
            if unquote(parts.path) != DASHBOARD:
                if not (link["csv"] or link["own_page"]):
                    walk.failures.append(f"{link['href']} on {url} leaves the dashboard")
                continue
            if parts.fragment != HASH and parts._replace(fragment="").geturl() != url.split("#")[0]:
                walk.failures.append(f"{link['href']} on {url} does not open the Analytics section")
            found = kind(link["href"])
            if found not in reached and not only_combines(found, reached):
                reached.add(found)
                queue.append((url, link["written"], link["href"]))
    assert not queue, f"more than {MAX_VIEWS} kinds of view; walked {len(walked)}, {len(queue)} left"
    assert not walk.failures, "\n\n".join(walk.failures)
    assert set(walk.checked) == {check.__name__ for check in Walk.CHECKS.values()}, walk.checked
    # Every drill-down the section had when this test was written is among the kinds walked.
    assert {frozenset(names) for names in (
        (), ("activity",), ("engagement",), ("video",), ("problem",), ("video_section",),
        ("video_section", "video_subsection"), ("graded_type",), ("graded_type", "graded_assignment"),
        ("ungraded_section",), ("ungraded_section", "ungraded_subsection"), ("outcome",))} <= set(map(kind, walked))

    # Back up, through the drill-downs' own "Back to the list" links, from the deepest view walked.
    page.goto(max(walked, key=lambda url: len(kind(url))))
    assert climb_back(walk) >= 2
    staff.shot("12-dashboard-walk-back-to-the-tab")

    # The page on its own and two of its drill-downs, then back into the dashboard on the same view.
    page.locator(SECTION).get_by_role("link", name="Open the analytics page on its own").click()
    page.wait_for_selector("#oa-dashboard")
    walk.scan(f"the page on its own ({page.url})")
    page.locator("#oa-table-videos-outline tbody tr").first.locator("a").click()
    page.wait_for_url("**video_section=**")
    walk.scan(f"the page on its own, a section's videos ({page.url})")
    page.locator("#oa-table-problems tbody tr").first.locator("a").click()
    page.wait_for_selector("section#problem-detail")
    walk.scan(f"the page on its own, a problem's answers ({page.url})")
    assert not walk.failures, "\n\n".join(walk.failures)
    on_its_own = kind(page.url)
    page.get_by_role("link", name="Back to the instructor dashboard").click()
    page.wait_for_url(lambda url: unquote(urlsplit(url).path) == DASHBOARD)
    walk.in_the_dashboard()
    assert kind(page.url) == on_its_own  # the view it showed
    assert climb_back(walk) == 2  # the problem's answers, then the section's videos
    print(f"\nwalked {len(walked)} views of the dashboard's Analytics section in "
          f"{time.monotonic() - started:.0f} s: " + "; ".join(
              "&".join(sorted(kind(url))) or "(the tab)" for url in walked))
