"""The tab's "Insights numbers / live numbers" switch, the panels it shows with Insights numbers, and the comparison.

Where an old Insights data API is configured (``InsightsDataApiConfiguration``) and the
``openedx_analytics.insights_switch`` flag lets the current user in for the course, the tab
offers both sources, carried as ``?new_data=true|false`` as Insights' decision record
named it (``OPENEDX_ANALYTICS_NEW_DATA_DEFAULT`` chooses which shows without it). With
Insights numbers, the panels Insights had show the old API's figures in the same charts and
tables, labelled as such; the panels Insights never had say so. The comparison
(``view=compare``) lists where the two sources differ. The old API is read server-side
within its timeout; when it does not answer, the tab says so and offers live numbers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext as _

from openedx_analytics import conf, insights_client
from openedx_analytics.api import old_insights
from openedx_analytics.dashboard import charts
from openedx_analytics.dashboard.tables import Cell, Panel, Table, num, number_text
from openedx_analytics.lms import insights_switch
from openedx_analytics.privacy import small_cells

#: The query parameter of the switch, as Insights' decision record named it.
PARAMETER = "new_data"
#: The ``view`` that shows the comparison.
COMPARE_VIEW = "compare"
#: Most differences the compare view lists (the command lists them all).
COMPARE_ROWS = 500


@dataclass
class Shown:
    """What the tab shows instead of the live panels: panels, summary cards, a message, when Insights computed them."""

    panels: list[Panel] = field(default_factory=list)
    cards: list[dict[str, str]] = field(default_factory=list)
    message: str = ""
    created: dt.datetime | None = None


@dataclass(frozen=True)
class SwitchState:
    """Whether the switch shows for this request, and which numbers the tab shows."""

    source: insights_client.Source | None = None
    visible: bool = False
    old: bool = False

    @property
    def cache_part(self) -> tuple[Any, ...]:
        """What the rendered content depends on: the old API's address, the switch's visibility and position."""
        return (self.source.base_url if self.source else "", self.visible, self.old)


def _new_data(query: QueryDict) -> bool:
    value = (query.get(PARAMETER) or "").strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    return bool(conf.get("OPENEDX_ANALYTICS_NEW_DATA_DEFAULT"))


def state(course_id: str, query: QueryDict) -> SwitchState:
    """The switch for the current request's user on ``course_id``: hidden unless configured and flagged.

    Never raises: a flag or configuration that cannot be read hides the switch (live numbers).
    """
    source = insights_client.configured()
    if source is None:
        return SwitchState()
    try:
        visible = insights_switch.switch_enabled(course_id)
    except Exception:  # noqa: BLE001 - a flag we cannot read hides the switch; the tab still answers
        visible = False
    if not visible:
        return SwitchState(source)
    return SwitchState(source, True, not _new_data(query))


def links(page: Any, switch: SwitchState) -> dict[str, Any]:
    """The switch's links for the template (``visible`` False: nothing shows)."""
    if not switch.visible:
        return {"visible": False}
    keep = {"view": None} if page.query.get("view") == COMPARE_VIEW else {}
    return {"visible": True, "old": switch.old,
            "insights_url": page.link("oa-source", **{PARAMETER: "false", **keep}),
            "live_url": page.link("oa-source", **{PARAMETER: "true", **keep}),
            "compare_url": page.link("insights-compare", view=COMPARE_VIEW),
            "param": "false" if switch.old else "true"}


def keep_source(url: str, switch: SwitchState, comparing: bool) -> str:
    """``url`` (a link that drops the page's parameters) still on the numbers the switch shows, or the comparison."""
    if not switch.visible:
        return url
    path, hash_mark, anchor = url.partition("#")
    query = {PARAMETER: "false" if switch.old else "true", **({"view": COMPARE_VIEW} if comparing else {})}
    return f"{path}?{urlencode(query)}{hash_mark}{anchor}"


def _down(reason: str) -> str:
    return _("The Insights data API did not answer ({reason}), so its numbers cannot be shown now; the live "
             "numbers are one click away.").format(reason=reason)


def _label(panel: Panel) -> Panel:
    panel.subtitle = _("Insights numbers")
    panel.notes.insert(0, _("These are Insights' numbers, read from its data API; switch to live numbers to see "
                            "what the live pipeline counts."))
    return panel


def _enrollment(page: Any, old: old_insights.OldNumbers) -> Panel:
    panel = _label(Panel("enrollment", _("Enrollment"), last_updated=old.created))
    days = old.enrollment
    if not days:
        panel.empty = _("Insights has no enrollment figures for these dates.")
        return panel
    modes = [m for m in old_insights.MODES if any(d["modes"][m] for d in days)]
    series = [charts.Series(mode, [d["modes"][mode] for d in days], i) for i, mode in enumerate(modes)]
    axis = charts.Axis([d["date"].isoformat() for d in days])
    title = _("Enrolled learners per day, by mode")
    panel.chart = charts.bars(title, axis, series) if len(days) <= 62 else charts.areas(title, axis, series)
    panel.legend = [(s.name, s.colour) for s in series]
    panel.table = Table(_("Enrollment per day"), [_("Date"), _("Enrolled"), *modes, _("Ever enrolled")],
                        [[Cell(d["date"].isoformat()), num(d["count"]), *[num(d["modes"][m]) for m in modes],
                          num(d["cumulative_count"])] for d in days])
    return panel


def _engagement(page: Any, old: old_insights.OldNumbers) -> Panel:
    panel = _label(Panel("engagement-insights", _("Engagement"), last_updated=old.created))
    panel.notes.append(_("Insights counted engagement per week only; its weeks are named by their first day."))
    weeks = old.activity
    if not weeks:
        panel.empty = _("Insights has no engagement figures for these dates.")
        return panel
    labels = {"any": _("Active learners"), "played_video": _("Watched a video"),
              "attempted_problem": _("Tried a problem"), "posted_forum": _("Posted in the forum")}
    columns = [c for c in old_insights.ACTIVITY if any(w[c] is not None for w in weeks)]
    series = [charts.Series(labels[c], [w[c] for w in weeks], colour)
              for c, colour in zip(columns, (4, 0, 2, 5), strict=False)]
    panel.chart = charts.lines(_("Active learners per week"),
                               charts.Axis([w["interval_start"].isoformat() for w in weeks]), series)
    panel.legend = [(s.name, s.colour) for s in series]
    panel.table = Table(_("Engagement per week"), [_("Week of"), *[labels[c] for c in columns]],
                        [[Cell(w["interval_start"].isoformat()),
                          *[num(w[c]) if w[c] is not None else Cell("\u2013", numeric=True) for c in columns]]
                         for w in weeks])
    return panel


def _videos(page: Any, old: old_insights.OldNumbers) -> Panel:
    panel = _label(Panel("videos", _("Videos"), last_updated=old.created))
    videos = old.videos
    if not videos:
        panel.empty = _("Insights has no video figures for this course.")
        return panel
    names = [page.name_of(v["video_id"]) for v in videos]
    series = [charts.Series(_("Started"), [v["users_at_start"] for v in videos], 0),
              charts.Series(_("Finished"), [v["users_at_end"] for v in videos], 1)]
    axis = charts.Axis(names if len(videos) <= 8 else [str(i + 1) for i in range(len(videos))])
    panel.chart = charts.bars(_("Learners who started and finished each video"), axis, series, stacked=False)
    panel.legend = [(s.name, s.colour) for s in series]
    panel.notes.append(_("Choose a video to see Insights' timeline of it."))
    blocks = {old_insights.block_hash(block): block for block in page.outline}
    panel.table = Table(_("Videos"), ["#", _("Video"), _("Started"), _("Finished"), _("Length (s)")],
                        [[Cell(str(i + 1)), Cell(name, href=page.link("video-detail", video=_live_id(blocks, v))),
                          num(v["users_at_start"]), num(v["users_at_end"]), num(v["duration"])]
                         for i, (v, name) in enumerate(zip(videos, names, strict=True))])
    return panel


def _live_id(blocks: dict[str, str], video: dict[str, Any]) -> str:
    """The live id of an Insights video where the course outline knows its block, so the link works both ways."""
    return blocks.get(old_insights.block_hash(video["video_id"]), video["pipeline_video_id"])


def _video_detail(page: Any, switch: SwitchState, old: old_insights.OldNumbers) -> Panel | None:
    """Insights' timeline of the chosen video: viewers and replays per segment."""
    chosen = page.query.get("video")
    if not chosen:
        return None
    video = next((v for v in old.videos if chosen in (v["pipeline_video_id"], v["video_id"])
                  or old_insights.same_block(chosen, v["video_id"])), None)
    panel = _label(Panel("video-detail", _("Video: {name}").format(name=page.name_of(chosen)),
                         last_updated=old.created, back_url=page.link("videos", video=None)))
    segments = old_insights.video_timeline(switch.source, video["pipeline_video_id"]) if video else []
    if not segments:
        panel.empty = _("Insights has no timeline for this video.")
        return panel
    when = [f"{s['segment'] * 5 // 60}:{s['segment'] * 5 % 60:02d}" for s in segments]
    series = [charts.Series(_("Unique viewers"), [s["num_users"] for s in segments], 0),
              charts.Series(_("Replays"), [max(s["num_views"] - s["num_users"], 0) for s in segments], 1)]
    panel.chart = charts.bars(_("Viewers per 5 seconds of the video"), charts.Axis(when), series)
    panel.legend = [(s.name, s.colour) for s in series]
    panel.table = Table(_("Viewers per 5 seconds"), [_("From"), _("Unique viewers"), _("Replays"), _("Views")],
                        [[Cell(w), num(s["num_users"]), num(max(s["num_views"] - s["num_users"], 0)),
                          num(s["num_views"])] for w, s in zip(when, segments, strict=True)])
    return panel


def _problems(page: Any, old: old_insights.OldNumbers) -> Panel:
    panel = _label(Panel("problems", _("Problems"), last_updated=old.created))
    problems = old.problems
    if not problems:
        panel.empty = _("Insights has no problem figures for this course.")
        return panel
    names = [page.name_of(p["problem_id"]) for p in problems]
    wrong = [max(p["learners"] - p["correct"], 0) for p in problems]
    series = [charts.Series(_("Correct"), [p["correct"] for p in problems], 2),
              charts.Series(_("Incorrect"), wrong, 5)]
    axis = charts.Axis(names if len(problems) <= 8 else [str(i + 1) for i in range(len(problems))])
    panel.chart = charts.bars(_("Learners with a correct or incorrect last answer, per problem"), axis, series)
    panel.legend = [(s.name, s.colour) for s in series]
    panel.notes.append(_("Choose a problem to see Insights' answer distribution."))
    panel.table = Table(_("Problems"), ["#", _("Problem"), _("Learners"), _("Correct"), _("Incorrect")],
                        [[Cell(str(i + 1)), Cell(name, href=page.link("problem-detail", problem=p["problem_id"],
                                                                      answers_part=None, answers_page=None)),
                          num(p["learners"]), num(p["correct"]), num(bad)]
                         for i, (p, name, bad) in enumerate(zip(problems, names, wrong, strict=True))])
    return panel


def _problem_detail(page: Any, switch: SwitchState, old: old_insights.OldNumbers) -> list[Panel]:
    """Insights' answer distribution of the chosen problem, a panel per part."""
    chosen = page.query.get("problem")
    if not chosen:
        return []
    back = page.link("problems", problem=None, answers_part=None, answers_page=None)
    title = _("Problem: {name}").format(name=page.name_of(chosen))
    parts = old_insights.answer_distribution(switch.source, chosen)
    if not parts:
        panel = _label(Panel("problem-detail", title, last_updated=old.created, back_url=back))
        panel.empty = _("Insights has no answers to this problem.")
        return [panel]
    out = []
    for index, (part, answers) in enumerate(parts.items()):
        panel = Panel("problem-detail" if index == 0 else f"problem-detail-{index + 1}", title if index == 0 else "",
                      last_updated=old.created, back_url=back if index == 0 else "")
        if index == 0:
            _label(panel)
        panel.subtitle = _("Part {number}").format(number=index + 1)
        panel.subtitle_title = part
        labels = [a["answer_value"] + (f" ({a['variant']})" if a["variant"] else "") for a in answers]
        panel.chart = charts.hbars(_("Learners per last answer"), labels, [a["count"] for a in answers],
                                   [a["correct"] for a in answers])
        panel.table = Table(_("Answers"), [_("Answer"), _("Correct"), _("Learners")],
                            [[Cell(label), Cell(_("yes") if a["correct"] else _("no")), num(a["count"])]
                             for label, a in zip(labels, answers, strict=True)])
        out.append(panel)
    return out


def _breakdown(key: str, title: str, rows: list[dict[str, Any]], created: dt.datetime | None) -> Panel:
    """A learners breakdown of Insights: counts under the minimum cell size read "fewer than N", as ours do."""
    panel = _label(Panel(f"learners-{key}", title, last_updated=created))
    if not rows:
        panel.empty = _("Insights has no figures for this breakdown.")
        return panel
    minimum = small_cells.minimum_cell_size()
    shown = [r for r in rows if r["count"] >= minimum]
    if shown:
        panel.chart = charts.bars(title, charts.Axis([r["label"] for r in shown]),
                                  [charts.Series(_("Learners"), [r["count"] for r in shown], 0)])
        panel.legend = [(_("Learners"), 0)]
    panel.table = Table(title, [_("Value"), _("Learners")],
                        [[Cell(r["label"]), num(r["count"]) if r["count"] >= minimum else
                          Cell(_("fewer than {minimum}").format(minimum=minimum), numeric=True)] for r in rows])
    return panel


def _outline_only() -> Panel:
    panel = Panel("outline-insights", _("Videos and problems along the course outline"), meta=False)
    panel.empty = _("Insights drew videos by outline, graded content, ungraded problems and learning outcomes "
                    "from the per-video and per-problem figures above; the tab draws them with live numbers only.")
    return panel


def _never_had(key: str, title: str) -> Panel:
    panel = Panel(key, title, meta=False)
    panel.empty = _("Insights never had this panel: switch to live numbers to see it.")
    return panel


def _cards(old: old_insights.OldNumbers) -> list[dict[str, str]]:
    """The summary cards from Insights' latest day and week, labelled as Insights numbers."""
    last = old.enrollment[-1] if old.enrollment else None
    week = old.activity[-1] if old.activity else None
    source = _("Insights numbers")
    return [
        {"key": "enrolled", "label": _("Enrolled learners"), "value": num(last["count"] if last else 0).text,
         "detail": _("{source}, {date}").format(source=source, date=last["date"].isoformat() if last else "\u2013")},
        {"key": "verified", "label": _("Verified learners"),
         "value": num(last["modes"]["verified"] if last else 0).text, "detail": source},
        {"key": "active", "label": _("Active learners last week"),
         "value": num((week or {}).get("any") or 0).text,
         "detail": _("{source}, week of {date}").format(
             source=source, date=week["interval_start"].isoformat() if week else "\u2013")},
    ]


def panels(page: Any, switch: SwitchState, learners_view: bool) -> Shown:
    """The panels and summary cards with Insights numbers, or the message saying the old API did not answer."""
    names = old_insights.LEARNER_ENDPOINTS if learners_view else old_insights.ACTIVITY_ENDPOINTS
    try:
        old = old_insights.read(switch.source, page.course_id, names, page.start, page.end)
    except old_insights.Unavailable as error:
        return Shown(message=_down(str(error)))
    if learners_view:
        titles = {"birth_year": _("Learners: year of birth"), "education": _("Learners: education"),
                  "gender": _("Learners: gender"), "location": _("Learners: country")}
        return Shown([_breakdown(name, titles[name], old.learners.get(name, []), old.created) for name in titles],
                     created=old.created)
    try:
        video = _video_detail(page, switch, old)
        answers = _problem_detail(page, switch, old)
    except old_insights.Unavailable as error:
        return Shown(message=_down(str(error)))
    return Shown([_enrollment(page, old), _engagement(page, old), _videos(page, old), *([video] if video else []),
                  _problems(page, old), *answers, _outline_only(),
                  _never_had("content", _("Engagement by content")), _never_had("grades", _("Grades"))],
                 _cards(old), created=old.created)


def compare_panels(page: Any, switch: SwitchState) -> Shown:
    """The comparison: one panel per metric listing where Insights and live numbers differ, and by how much."""
    try:
        old = old_insights.read(switch.source, page.course_id, old_insights.ACTIVITY_ENDPOINTS, page.start, page.end)
    except old_insights.Unavailable as error:
        return Shown(message=_down(str(error)))
    comparison = old_insights.compare(old, page.course_id, page.start, page.end)
    titles = {"enrollment": _("Compared: enrollment per day"), "activity": _("Compared: engagement per week"),
              "videos": _("Compared: videos"), "problems": _("Compared: problems")}
    where = {"enrollment": _("Date"), "activity": _("Week of"), "videos": _("Video"), "problems": _("Problem")}
    compared = {"enrollment": _("Days compared (those Insights has): {count}."),
                "activity": _("Weeks compared (those Insights has): {count}."),
                "videos": _("Videos compared (those Insights has): {count}."),
                "problems": _("Problems compared (those Insights has): {count}.")}
    out = []
    for metric, title in titles.items():
        rows = comparison.of(metric)
        panel = Panel(f"insights-compare-{metric}" if out else "insights-compare", title,
                      last_updated=old.created)
        panel.notes.append(compared[metric].format(count=num(comparison.compared[metric]).text))
        panel.notes.append(str(old_insights.KNOWN_DIFFERENCES[metric]))
        if not rows:
            panel.empty = _("The two sources agree.")
            out.append(panel)
            continue
        explained = sum(1 for d in rows if d.known)
        panel.notes.append(_("{count} differences, {explained} of them explained by the definitions (marked "
                             "\u201cexplained\u201d, not errors). Difference: live minus Insights.").format(
                                 count=num(len(rows)).text, explained=num(explained).text))
        if len(rows) > COMPARE_ROWS:
            panel.notes.append(_("The first {shown} are listed; compare_with_insights lists them all.").format(
                shown=num(COMPARE_ROWS).text))
        panel.table = Table(title, [where[metric], _("Measure"), _("Insights"), _("Live"), _("Difference"),
                                    _("Relative"), _("Why")],
                            [[Cell(d.where if metric in ("enrollment", "activity") else page.name_of(d.where)),
                              Cell(d.measure), _maybe(d.insights), _maybe(d.live), _maybe(d.delta, signed=True),
                              Cell(f"{number_text(100 * d.relative, 1)}%" if d.relative is not None else "\u2013",
                                   numeric=True),
                              Cell(_("explained") if d.known else
                                   (_("no live figure") if d.live is None else _("differs")))]
                             for d in rows[:COMPARE_ROWS]])
        out.append(panel)
    return Shown(out, created=old.created)


def _maybe(value: int | None, signed: bool = False) -> Cell:
    if value is None:
        return Cell("\u2013", numeric=True)
    if signed and value > 0:
        return Cell(f"+{num(value).text}", numeric=True)
    return num(value)
