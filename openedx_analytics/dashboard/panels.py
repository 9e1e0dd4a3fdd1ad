"""The panels of a course's analytics page: summary cards, enrollment, engagement, videos, problems, grades.

Each method builds one ``Panel`` (its chart, data table, CSV link and "last updated" line)
from the public Python API, for the page state ``content.Page`` holds (course, dates,
granularity, outline, links). The page and the instructor-dashboard section show the same
panels.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from openedx_analytics import api
from openedx_analytics.api import rows
from openedx_analytics.dashboard import answers, charts
from openedx_analytics.dashboard.tables import Cell, Panel, Table, num, share

#: The engagement measures, in the order the page shows them.
ENGAGEMENT = ("any", "played_video", "attempted_problem", "posted_forum")
#: Seconds per bar of a video's timeline.
SEGMENT_SECONDS = 5


def _engagement_labels() -> dict[str, str]:
    return {
        "any": _("Active learners"),
        "played_video": _("Watched a video"),
        "attempted_problem": _("Tried a problem"),
        "posted_forum": _("Posted in the forum"),
    }


def _partial_text(text: str, partial: bool) -> Cell:
    return Cell(f"{text} ({_('partial')})" if partial else text, partial=partial)


def _clock(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


class CoursePanels:
    """The panel builders of ``content.Page``: what each panel shows, given the page's state and links.

    ``Page`` supplies the state annotated here and the helpers the panels call: ``link``,
    ``api_url``, ``name_of`` and ``_in_course_order``.
    """

    course_id: str
    query: QueryDict
    start: dt.date | None
    end: dt.date | None
    granularity: str
    measure: str
    summary: dict[str, Any]
    errors: list[str]
    grading: dict[str, Any]

    # ------------------------------------------------------------ panels

    def cards(self) -> list[dict[str, str]]:
        """The summary cards: a figure, what it counts, and (for enrollment) the change over 7 days."""
        s = self.summary
        change = s["count_change_7_days"]
        verified = (s["enrollment_modes"].get("verified") or {}).get("count", 0)
        return [
            {"key": "enrolled", "label": _("Enrolled learners"), "value": num(s["count"]).text,
             "detail": _("{sign}{change} in the last 7 days").format(
                 sign="+" if change >= 0 else "\u2212", change=num(abs(change)).text)},
            {"key": "verified", "label": _("Verified learners"), "value": num(verified).text,
             "detail": _("enrolled in the verified mode now")},
            {"key": "active", "label": _("Active learners last week"), "value": num(s["active_last_week"]).text,
             "detail": _("did anything in the course during the last full week")},
            {"key": "passing", "label": _("Passing learners"), "value": num(s["passing_users"]).text,
             "detail": _("every learner ever enrolled whose status is passing, including learners who have "
                         "left (the grade chart counts enrolled learners only)")},
            {"key": "certificates", "label": _("Certificates"), "value": num(s["certificates"]).text,
             "detail": _("certificates issued (downloadable), all modes")},
        ]

    def enrollment(self) -> Panel:
        """Enrolled learners per day, stacked by mode, over the chosen dates."""
        days = api.get_enrollment(self.course_id, self.start, self.end)
        panel = Panel("enrollment", _("Enrollment"), csv_url=self.api_url("course-enrollment", self._date_params()),
                      last_updated=rows.latest(d["last_updated"] for d in days))
        panel.notes.append(_("Learners enrolled at the end of each day (UTC), by enrollment mode."))
        if not days:
            panel.empty = _("No enrollment figures for these dates yet.")
            return panel
        modes = [m for m in rows.mode_columns(days) if any(d["modes"].get(m, {}).get("count") for d in days)]
        series = [charts.Series(mode, [d["modes"].get(mode, {}).get("count", 0) for d in days], i)
                  for i, mode in enumerate(modes)]
        axis = charts.Axis([d["date"].isoformat() for d in days], [d["partial"] for d in days])
        title = _("Enrolled learners per day, by mode")
        if len(days) <= 62:
            panel.chart = charts.bars(title, axis, series, stacked=True)
            panel.partial_note = _("Today is still being counted: its bar is lighter and its row is marked "
                                   "(partial).")
        else:
            panel.chart = charts.areas(title, axis, series, partial_label=_("partial"))
            panel.partial_note = _("Today is still being counted: the shaded end of the chart and the row "
                                   "marked (partial).")
        panel.legend = [(s.name, s.colour) for s in series]
        panel.table = Table(
            _("Enrollment per day"),
            [_("Date"), _("Enrolled"), *modes, _("Enrollments"), _("Unenrollments"), _("Ever enrolled")],
            [[_partial_text(d["date"].isoformat(), d["partial"]), num(d["count"]),
              *[num(d["modes"].get(m, {}).get("count", 0)) for m in modes],
              num(d["enrollments"]), num(d["unenrollments"]), num(d["cumulative_count"])] for d in days],
        )
        return panel

    def engagement(self) -> Panel:
        """Active learners per week (or day): any activity, videos, problems, forum; counts or shares."""
        periods = api.get_activity(self.course_id, self.start, self.end, granularity=self.granularity)
        labels = _engagement_labels()
        weekly = self.granularity == "week"
        extra = {**self._date_params(), **({} if weekly else {"granularity": "day"})}
        panel = Panel("engagement", _("Engagement"), csv_url=self.api_url("course-activity", extra),
                      last_updated=rows.latest(p["last_updated"] for p in periods))
        panel.notes.append(
            _("Distinct learners per week (Monday to Sunday, UTC).") if weekly
            else _("Distinct learners per day (UTC).")
        )
        panel.notes.append(
            _("Shares divide by the learners enrolled at the end of each week (its Sunday); for the current "
              "week, by the learners enrolled now.") if weekly
            else _("Shares divide by the learners enrolled at the end of each day."))
        panel.partial_note = (
            _("This week is still being counted: its stretch of the chart is shaded and marked \u201cso far\u201d, "
              "with a paler line and hollow dots, and its row is marked (partial).") if weekly
            else _("Today is still being counted: its stretch of the chart is shaded and marked \u201cso far\u201d, "
                   "with a paler line and hollow dots, and its row is marked (partial)."))
        if not periods:
            panel.empty = _("No engagement figures for these dates yet.")
            return panel
        on_day = api.enrolled_on(self.course_id, [api.period_last_day(p) for p in periods])
        enrolled = [on_day[api.period_last_day(p)] for p in periods]
        when = [(p["interval_start"] if weekly else p["date"]).isoformat() for p in periods]
        partial = [p["partial"] for p in periods]
        as_share = self.measure == "share"
        series = [
            charts.Series(labels[c], [((p[c] / n) if n else None) if as_share else p[c]
                                      for p, n in zip(periods, enrolled, strict=True)], colour)
            for c, colour in zip(ENGAGEMENT, (4, 0, 2, 5), strict=True)
        ]
        title = _("Active learners per week") if weekly else _("Active learners per day")
        panel.chart = charts.lines(title, charts.Axis(when, partial), series, percent=as_share,
                                   partial_label=_("so far"))
        panel.legend = [(s.name, s.colour) for s in series]
        columns = [_("Week of") if weekly else _("Date"), _("Enrolled")]
        for c in ENGAGEMENT:
            columns += [labels[c], _("{measure} (share)").format(measure=labels[c])]
        panel.table = Table(
            _("Engagement per week") if weekly else _("Engagement per day"), columns,
            [[_partial_text(w, p["partial"]), num(n),
              *[cell for c in ENGAGEMENT for cell in (num(p[c]), share(p[c], n))]]
             for w, p, n in zip(when, periods, enrolled, strict=True)],
        )
        return panel

    def videos(self) -> Panel:
        """Learners who started and who finished each video, in course order."""
        videos = self._in_course_order(api.get_videos(self.course_id, self.start, self.end), "video_id")
        panel = Panel("videos", _("Videos"), csv_url=self.api_url("course-videos", self._date_params()),
                      last_updated=rows.latest(v["last_updated"] for v in videos))
        panel.notes.append(_("Started: learners who watched the first 5 seconds of the video. Finished: learners "
                             "who watched the 5 seconds at its end mark, 95% of the way through (30 seconds "
                             "before the end for videos of 10 minutes or more), whatever they watched before; "
                             "the table gives each video's end mark."))
        panel.notes.append(_("Choose a video to see every 5 seconds of it, with its end mark."))
        if not videos:
            panel.empty = _("No video has been watched yet.")
            return panel
        names = [self.name_of(v["video_id"]) for v in videos]
        series = [charts.Series(_("Started"), [v["users_at_start"] for v in videos], 0),
                  charts.Series(_("Finished"), [v["users_at_end"] for v in videos], 1)]
        axis = charts.Axis([str(i + 1) for i in range(len(videos))])
        axis_named = charts.Axis(names)
        panel.chart = charts.bars(_("Learners who started and finished each video"),
                                  axis_named if len(videos) <= 8 else axis, series, stacked=False)
        panel.legend = [(s.name, s.colour) for s in series]
        panel.table = Table(
            _("Videos in course order"),
            ["#", _("Video"), _("Section"), _("Subsection"), _("Started"), _("Finished (at the end mark)"),
             _("Views"), _("Length (s)"), _("End mark")],
            [[Cell(str(i + 1)), Cell(name, href=self.link("video-detail", video=v["video_id"])),
              Cell(self._where(v["video_id"], "section")), Cell(self._where(v["video_id"], "subsection")),
              num(v["users_at_start"]), num(v["users_at_end"]), num(v["views"]), num(v["duration"]),
              Cell(_clock(api.finished_segment(v) * SEGMENT_SECONDS), numeric=True)]
             for i, (v, name) in enumerate(zip(videos, names, strict=True))],
        )
        return panel

    def _where(self, block_id: str, level: str) -> str:
        return (self.outline.get(block_id) or {}).get(level) or ""

    def video_detail(self) -> Panel | None:
        """One video's timeline: unique viewers and replays per 5-second segment."""
        video_id = self.query.get("video")
        if not video_id:
            return None
        video = api.get_video(self.course_id, video_id)
        panel = Panel("video-detail", _("Video: {name}").format(name=self.name_of(video_id)),
                      csv_url=self.api_url("video-timeline", video_id=video_id),
                      last_updated=video["last_updated"] if video else None,
                      back_url=self.link("videos", video=None))
        panel.notes.append(_("Per 5 seconds of the video: learners who watched it (unique viewers) and how "
                             "many more times it was watched (replays)."))
        segments = api.get_video_timeline(self.course_id, video_id) if video else []
        if not segments:
            panel.empty = _("Nobody has watched this video yet.")
            return panel
        when = [_clock(s["segment"] * SEGMENT_SECONDS) for s in segments]
        end = api.finished_segment(video)
        end_text = _("end mark: Finished counts these viewers")
        panel.notes.append(_("Finished ({count} learners) counts the viewers of the 5 seconds from {clock}, the "
                             "video's end mark: 95% of the way through (30 seconds before the end for videos of "
                             "10 minutes or more). The chart and the table mark it.").format(
                                 count=num(video["users_at_end"]).text, clock=_clock(end * SEGMENT_SECONDS)))
        series = [charts.Series(_("Unique viewers"), [s["num_users"] for s in segments], 0),
                  charts.Series(_("Replays"), [max(s["num_views"] - s["num_users"], 0) for s in segments], 1)]
        marked = next((i for i, s in enumerate(segments) if s["segment"] == end), None)
        marker = None if marked is None else charts.Marker(marked, _("End mark"), f"{when[marked]}: {end_text}")
        panel.chart = charts.bars(_("Viewers per 5 seconds of the video"), charts.Axis(when), series, stacked=True,
                                  marker=marker)
        panel.legend = [(s.name, s.colour) for s in series]
        panel.table = Table(
            _("Viewers per 5 seconds"), [_("From"), _("Unique viewers"), _("Replays"), _("Views")],
            [[Cell(f"{w} ({end_text})" if s["segment"] == end else w), num(s["num_users"]),
              num(max(s["num_views"] - s["num_users"], 0)), num(s["num_views"])]
             for w, s in zip(when, segments, strict=True)],
        )
        return panel

    def problems(self) -> Panel:
        """Learners whose last answer was correct or incorrect, per problem in course order."""
        problems = self._in_course_order(api.get_problems(self.course_id, self.start, self.end), "problem_id")
        panel = Panel("problems", _("Problems"), csv_url=self.api_url("course-problems", self._date_params()),
                      last_updated=rows.latest(p["last_updated"] for p in problems))
        panel.report_url = self.api_url("course-problem-responses")
        panel.notes.append(_("Learners whose last submission earned credit (correct) or did not (incorrect); "
                             "choose a problem to see the answers given to each of its parts."))
        if not problems:
            panel.empty = _("No problem has been submitted yet.")
            return panel
        names = [self.name_of(p["problem_id"]) for p in problems]
        wrong = [max(p["users_attempted"] - p["correct_submissions"], 0) for p in problems]
        series = [charts.Series(_("Correct"), [p["correct_submissions"] for p in problems], 2),
                  charts.Series(_("Incorrect"), wrong, 5)]
        axis = charts.Axis(names if len(problems) <= 8 else [str(i + 1) for i in range(len(problems))])
        panel.chart = charts.bars(_("Learners with a correct or incorrect last answer, per problem"), axis, series,
                                  stacked=True)
        panel.legend = [(s.name, s.colour) for s in series]
        panel.table = Table(
            _("Problems in course order"),
            ["#", _("Problem"), _("Section"), _("Subsection"), _("Learners"), _("Correct"), _("Incorrect"),
             _("Correct at first attempt"), _("Submissions"), _("Mean attempts")],
            [[Cell(str(i + 1)),
              Cell(name, href=self.link("problem-detail", problem=p["problem_id"], answers_part=None,
                                        answers_page=None)),
              Cell(self._where(p["problem_id"], "section")), Cell(self._where(p["problem_id"], "subsection")),
              num(p["users_attempted"]), num(p["correct_submissions"]), num(bad),
              num(p["first_attempt_correct"]), num(p["total_submissions"]), num(round(p["attempts_mean"] or 0, 2))]
             for i, (p, name, bad) in enumerate(zip(problems, names, wrong, strict=True))],
        )
        return panel

    def problem_detail(self) -> list[Panel]:
        """One problem's answer distribution, a panel per part (variants as the API reports them)."""
        problem_id = self.query.get("problem")
        if not problem_id:
            return []
        problem = api.get_problem(self.course_id, problem_id)
        parts = api.get_answer_parts(self.course_id, problem_id) if problem else []
        base = Panel("problem-detail", _("Problem: {name}").format(name=self.name_of(problem_id)),
                     csv_url=self.api_url("problem-answers", problem_id=problem_id),
                     last_updated=problem["last_updated"] if problem else None,
                     back_url=self.link("problems", problem=None, answers_part=None, answers_page=None))
        base.notes.append(_("Each learner's last answer, per part of the problem. Randomized problems list "
                            "each variant (its seeds) apart when its answers differ."))
        if not parts:
            base.empty = _("Nobody has answered this problem yet.")
            return [base]
        return answers.answer_panels(self, base, problem_id, parts)

    def grades(self) -> Panel:
        """Grade distribution of enrolled learners (not graded yet apart), the passing grade, passing learners."""
        grades = api.get_grades(self.course_id)
        passing_grade = (self.grading or {}).get("passing_grade")
        panel = Panel("grades", _("Grades"), csv_url=self.api_url("course-grades"),
                      last_updated=grades["last_updated"])
        panel.notes.append(_("Grade distribution: learners enrolled now, by their current course grade; learners "
                             "the course has not graded yet are counted apart, not as 0-9."))
        panel.notes.append(_("Passing learners: {count}, counting every learner ever enrolled whose current "
                             "status is passing, including those who have since unenrolled.").format(
                                 count=num(grades["passing_users"]).text))
        buckets = grades["buckets"]
        not_graded = grades.get("not_graded", 0)
        if passing_grade is not None:
            panel.notes.append(_("The dashed line marks the course's passing grade, {grade}.").format(
                grade=share(passing_grade, 1).text))
            above = _graded_at_or_above(buckets, passing_grade)
            if above is not None:
                panel.notes.append(_("Learners enrolled now with a grade at or above it: {count} (the passing "
                                     "count above also includes learners who left).").format(count=num(above).text))
        if grades["certificates"]:
            panel.notes.append(_("Certificates issued: {list}.").format(list=", ".join(
                f"{mode} {num(count).text}" for mode, count in sorted(grades["certificates"].items()))))
        if not buckets or not (not_graded or any(b["count"] for b in buckets)):
            panel.empty = _("No grades yet.")
            return panel
        labels = [_("Not graded yet"), *[b["bucket"] for b in buckets]]
        series = [charts.Series(_("Not graded yet"), [not_graded] + [0] * len(buckets), 7),
                  charts.Series(_("Learners with a grade"), [0] + [b["count"] for b in buckets], 4)]
        chart = charts.bars(_("Enrolled learners per grade range"), charts.Axis(labels), series, stacked=True)
        mark = None if passing_grade is None else 1 + min(max(passing_grade, 0.0), 1.0) * len(buckets)
        panel.chart = charts.with_marks(chart, y_label=_("learners"), mark_at=mark, categories=len(labels),
                                        mark_label=_("Passing grade: {grade}").format(
                                            grade=share(passing_grade or 0, 1).text))
        panel.legend = [(s.name, s.colour) for s in series]
        panel.table = Table(_("Enrolled learners per grade range"), [_("Grade (%)"), _("Learners")],
                            [[Cell(_("Not graded yet")), num(not_graded)],
                             *[[Cell(b["bucket"]), num(b["count"])] for b in buckets]])
        return panel


def _graded_at_or_above(buckets: list[dict[str, Any]], grade: float) -> int | None:
    """Learners in the buckets at or above ``grade`` (None when the grade falls inside a bucket)."""
    tenths = grade * 10
    if abs(tenths - round(tenths)) > 1e-6:
        return None
    return sum(b["count"] for b in buckets[int(round(tenths)):])
