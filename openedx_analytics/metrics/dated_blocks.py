"""Video and problem figures over a range of dates, computed from the facts of that range when asked.

The stored video and problem figures cover a course's whole history (each learner's
viewer or learner row is the sum of all their events), so a range of dates cannot be cut
out of them. Over a range, the figures are those the same engine steps give from the
facts dated in the range (``start`` inclusive, ``end`` exclusive, UTC days), computed
when asked and not stored:

- **videos**: the viewings whose play and closing event both fall in the range (a
  viewing that started in the range and ended after it is left out, as is one that ended
  in it but started before), replayed by the video engine's own rules;
- **problems**: the submissions made in the range; each learner's last submission in the
  range counts for correctness, their first in the range for "correct at first attempt".

The engines' ``load``, ``contributions``, ``tally`` and ``compute`` are used as they are
(``metrics.engine``): no rule is written twice. The cost grows with the events of the
range; the whole-history figures (no dates) are the stored ones, read as before.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from openedx_analytics import conf
from openedx_analytics.metrics import problem_tally, problems, video, video_replay


def _between(start: dt.date | None, end: dt.date | None) -> tuple[dt.datetime, dt.datetime]:
    """The range as aware UTC times, an open side as far as datetimes reach."""
    first = dt.datetime.combine(start, dt.time(), dt.timezone.utc) if start else dt.datetime(
        1, 1, 2, tzinfo=dt.timezone.utc)
    last = dt.datetime.combine(end, dt.time(), dt.timezone.utc) if end else dt.datetime(
        9999, 12, 30, tzinfo=dt.timezone.utc)
    return first, last


def video_summaries(course_id: str, start: dt.date | None, end: dt.date | None,
                    using: str) -> dict[str, dict[str, Any]]:
    """video id -> its summary fields (``video.SUMMARY_FIELDS``) from the viewings in the range; unwatched left out."""
    tallies = video.tally(video.contributions(video.load(course_id, using, between=_between(start, end))))
    ratio = float(conf.get("OPENEDX_ANALYTICS_VIDEO_DROPOFF_RATIO"))
    figures = {video_id: video_replay.compute(sums, ratio) for video_id, sums in tallies.items()}
    return {video_id: found.summary for video_id, found in sorted(figures.items()) if found is not None}


def problem_summaries(course_id: str, start: dt.date | None, end: dt.date | None,
                      using: str) -> dict[str, dict[str, Any]]:
    """problem id -> its summary fields (``problems.SUMMARY_FIELDS``) from the submissions in the range."""
    tallies = problems.tally(problems.contributions(problems.load(course_id, using, between=_between(start, end))))
    summaries = {}
    for problem_id, sums in sorted(tallies.items()):
        if sums.users > 0:
            figures = problem_tally.compute(sums)
            summaries[problem_id] = {name: getattr(figures, name) for name in problems.SUMMARY_FIELDS}
    return summaries
