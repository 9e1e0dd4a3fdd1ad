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
             "detail": _("currently passing, including learners who left")},
            {"key": "certificates", "label": _("Certificates"), "value": num(s["certificates"]).text,
             "detail": _("certificates issued (downloadable), all modes")},
        ]

    def enrollment(self) -> Panel:
        """Enrolled learners per day, stacked by mode, over the chosen dates."""
        days = api.get_enrollment(self.course_id, self.start, self.end)
        panel = Panel("enrollment", _("Enrollment"), csv_url=self.api_url("course-enrollment", self._date_params()),
                      last_updated=rows.latest(d["last_updated"] for d in days), partial_note=True)
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
        else:
            panel.chart = charts.areas(title, axis, series, partial_label=_("partial"))
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
                      last_updated=rows.latest(p["last_updated"] for p in periods), partial_note=True)
        enrolled = self.summary["count"]
        panel.notes.append(
            _("Distinct learners per week (Monday to Sunday, UTC).") if weekly
            else _("Distinct learners per day (UTC).")
        )
        panel.notes.append(_("Shares are of the {count} learners enrolled now.").format(count=num(enrolled).text))
        if not periods:
            panel.empty = _("No engagement figures for these dates yet.")
            return panel
        when = [(p["interval_start"] if weekly else p["date"]).isoformat() for p in periods]
        partial = [p["partial"] for p in periods]
        as_share = self.measure == "share" and enrolled > 0
        series = [
            charts.Series(labels[c], [(p[c] / enrolled) if as_share else p[c] for p in periods], colour)
            for c, colour in zip(ENGAGEMENT, (4, 0, 2, 5), strict=True)
        ]
        title = _("Active learners per week") if weekly else _("Active learners per day")
        panel.chart = charts.lines(title, charts.Axis(when, partial), series, percent=as_share)
        panel.legend = [(s.name, s.colour) for s in series]
        columns = [_("Week of") if weekly else _("Date")]
        for c in ENGAGEMENT:
            columns += [labels[c], _("{measure} (share)").format(measure=labels[c])]
        panel.table = Table(
            _("Engagement per week") if weekly else _("Engagement per day"), columns,
            [[_partial_text(w, p["partial"]), *[cell for c in ENGAGEMENT for cell in (num(p[c]),
                                                                                     share(p[c], enrolled))]]
             for w, p in zip(when, periods, strict=True)],
        )
        return panel

    def videos(self) -> Panel:
        """Learners who started and who finished each video, in course order."""
        videos = self._in_course_order(api.get_videos(self.course_id, self.start, self.end), "video_id")
        panel = Panel("videos", _("Videos"), csv_url=self.api_url("course-videos", self._date_params()),
                      last_updated=rows.latest(v["last_updated"] for v in videos))
        panel.notes.append(_("Learners who watched the first and the last 5 seconds of each video; "
                             "choose a video to see every 5 seconds of it."))
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
            ["#", _("Video"), _("Section"), _("Subsection"), _("Started"), _("Finished"), _("Views"),
             _("Length (s)")],
            [[Cell(str(i + 1)), Cell(name, href=self.link("video-detail", video=v["video_id"])),
              Cell(self._where(v["video_id"], "section")), Cell(self._where(v["video_id"], "subsection")),
              num(v["users_at_start"]), num(v["users_at_end"]), num(v["views"]), num(v["duration"])]
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
        series = [charts.Series(_("Unique viewers"), [s["num_users"] for s in segments], 0),
                  charts.Series(_("Replays"), [max(s["num_views"] - s["num_users"], 0) for s in segments], 1)]
        panel.chart = charts.bars(_("Viewers per 5 seconds of the video"), charts.Axis(when), series, stacked=True)
        panel.legend = [(s.name, s.colour) for s in series]
        panel.table = Table(
            _("Viewers per 5 seconds"), [_("From"), _("Unique viewers"), _("Replays"), _("Views")],
            [[Cell(w), num(s["num_users"]), num(max(s["num_views"] - s["num_users"], 0)), num(s["num_views"])]
             for w, s in zip(when, segments, strict=True)],
        )
        return panel

    def problems(self) -> Panel:
        """Learners whose last answer was correct or incorrect, per problem in course order."""
        problems = self._in_course_order(api.get_problems(self.course_id, self.start, self.end), "problem_id")
        panel = Panel("problems", _("Problems"), csv_url=self.api_url("course-problems", self._date_params()),
                      last_updated=rows.latest(p["last_updated"] for p in problems))
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
        """Grade distribution of enrolled learners, with the passing count and certificates."""
        grades = api.get_grades(self.course_id)
        panel = Panel("grades", _("Grades"), csv_url=self.api_url("course-grades"),
                      last_updated=grades["last_updated"])
        panel.notes.append(_("Grade distribution: learners enrolled now, by their current course grade "
                             "(learners without a grade yet count in 0-9)."))
        panel.notes.append(_("Passing learners: {count}, counting every learner ever enrolled whose current "
                             "status is passing, including those who have since unenrolled.").format(
                                 count=num(grades["passing_users"]).text))
        if grades["certificates"]:
            panel.notes.append(_("Certificates issued: {list}.").format(list=", ".join(
                f"{mode} {num(count).text}" for mode, count in sorted(grades["certificates"].items()))))
        buckets = grades["buckets"]
        if not buckets or not any(b["count"] for b in buckets):
            panel.empty = _("No grades yet.")
            return panel
        series = [charts.Series(_("Learners"), [b["count"] for b in buckets], 4)]
        panel.chart = charts.bars(_("Enrolled learners per grade range (percent)"),
                                  charts.Axis([b["bucket"] for b in buckets]), series, stacked=True)
        panel.legend = [(series[0].name, 4)]
        panel.table = Table(_("Enrolled learners per grade range"), [_("Grade (%)"), _("Learners")],
                            [[Cell(b["bucket"]), num(b["count"])] for b in buckets])
        return panel
