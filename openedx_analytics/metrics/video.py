"""Video: viewings replayed from player events, 5-second segment timelines and per-video figures."""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from openedx_analytics import conf
from openedx_analytics.models import (
    VideoEventFact,
    VideoSegment,
    VideoSummary,
    VideoViewer,
)
from openedx_analytics.pipeline.bulk import insert_ignore
from openedx_analytics.pipeline.facts import ALL_KEYS, expand_keys

SEGMENT_LENGTH = 5
MIN_VIEWING_SECONDS = 0.25
DURATION_SLACK_SECONDS = 1.0
#: Up to this many learners are read and deleted by id; beyond, a video's events are read whole.
USER_FILTER_LIMIT = 900
#: Viewer rows written at a time when a whole video is replayed.
WRITE_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class PlayerEvent:
    """One player event of one learner on one video (the replay's input)."""

    action: str
    position: float | None = None
    old_time: float | None = None
    new_time: float | None = None


#: The order events are replayed in (the database sorts; ties broken by fingerprint so
#: delivery order never matters).
REPLAY_ORDER = ("time", "fingerprint")


def segment_of(position: float) -> int:
    """The 5-second segment a position falls in."""
    return int(math.floor(position)) // SEGMENT_LENGTH


def viewings(events: Iterable[PlayerEvent], duration: float | None) -> list[tuple[float, float]]:
    """Replay one learner's events on a video (in ``REPLAY_ORDER``) into (start, end) viewings, per the contract."""
    result: list[tuple[float, float]] = []
    open_start: float | None = None
    seek_resume: float | None = None

    def close(end: float | None) -> None:
        nonlocal open_start
        start, open_start = open_start, None
        if start is None or end is None or end < start or end - start < MIN_VIEWING_SECONDS:
            return
        if duration is not None and end > duration + DURATION_SLACK_SECONDS:
            return
        result.append((start, end))

    for event in events:
        if event.action == "play":
            open_start = seek_resume if seek_resume is not None else event.position
            seek_resume = None
        elif open_start is None:
            continue
        elif event.action in ("pause", "stop"):
            close(event.position)
            seek_resume = None
        elif event.action == "seek":
            close(event.old_time)
            seek_resume = event.new_time
    return result


def touched_segments(views: Sequence[tuple[float, float]]) -> Counter:
    """How many viewings touched each segment (start's to end's, both included)."""
    counts: Counter = Counter()
    for start, end in views:
        counts.update(range(segment_of(start), segment_of(end) + 1))
    return counts


def infer_final_segment(users_per_segment: dict[int, int], ratio: float) -> int:
    """Walking back from the last watched segment, the first whose viewers are not a sharp drop.

    A segment is a sharp drop when fewer than ``ratio`` x the video's peak viewers touched it:
    the trailing segments such seeks and stray players produce are cut off.
    """
    peak = max(users_per_segment.values())
    segment = max(users_per_segment)
    while segment > 0 and users_per_segment.get(segment, 0) < ratio * peak:
        segment -= 1
    return segment


def end_segment(duration: float) -> int:
    """The segment that counts as "the end": the one of max(duration - 30, 0.95 x duration)."""
    return segment_of(max(duration - 30, 0.95 * duration))


def viewer_figures(
    rows: Iterable[tuple[str, float | None, float | None, float | None, float | None]],
) -> tuple[Counter, int, float | None]:
    """One learner's events on one video -> (views per touched segment, viewings, longest reported duration).

    ``rows`` are (action, position, old_time, new_time, duration), in ``REPLAY_ORDER``.
    """
    facts = list(rows)
    durations = [row[4] for row in facts if row[4]]
    duration = max(durations) if durations else None
    views = viewings((PlayerEvent(a, p, o, n) for a, p, o, n, _d in facts), duration)
    return touched_segments(views), len(views), duration


def recompute_viewers(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Replay the learners named by ``keys`` ("<user_id> <video_id>") on their videos, then rebuild those videos.

    One query per video reads the events of all its dirty learners, so the cost grows with
    videos, not learners. The key ``ALL_KEYS`` (after a backfill) replays every learner of
    every video of the course, streaming one learner at a time.
    """
    if ALL_KEYS in keys:
        facts = VideoEventFact.objects.using(using).filter(course_id=course_id)
        for video_id in sorted(expand_keys(keys, facts, "video_id")):
            _replay(course_id, video_id, None, using)
            _rebuild_video(course_id, video_id, now, using)
        return
    users_by_video: dict[str, set[int]] = defaultdict(set)
    for key in keys:
        user_text, video_id = key.split(" ", 1)
        users_by_video[video_id].add(int(user_text))
    for video_id, user_ids in sorted(users_by_video.items()):
        _replay(course_id, video_id, sorted(user_ids), using)
        _rebuild_video(course_id, video_id, now, using)


_EVENT_COLUMNS = ("user_id", "action", "position", "old_time", "new_time", "duration")
_VIEWER_COLUMNS = ("course_id", "video_id", "user_id", "viewings", "max_duration", "segments")


def _viewer_row(course_id: str, video_id: str, user_id: int, events: list[tuple]) -> tuple:
    touched, views, duration = viewer_figures(events)
    return (course_id, video_id, user_id, views, duration, [[s, n] for s, n in sorted(touched.items())])


def _replay(course_id: str, video_id: str, user_ids: list[int] | None, using: str) -> None:
    """Rewrite the viewer rows of ``user_ids`` (every learner when None) on one video from their events.

    Events stream in learner and replay order, one learner's in memory at a time; viewer
    rows are written in chunks. Learners outside ``user_ids`` keep their rows.
    """
    scope = {"course_id": course_id, "video_id": video_id}
    facts = VideoEventFact.objects.using(using).filter(**scope)
    wanted: set[int] | None = None
    if user_ids is None:
        VideoViewer.objects.using(using).filter(**scope).delete()
    else:
        wanted = set(user_ids)
        for start in range(0, len(user_ids), USER_FILTER_LIMIT):
            chunk = user_ids[start:start + USER_FILTER_LIMIT]
            VideoViewer.objects.using(using).filter(**scope, user_id__in=chunk).delete()
        if len(user_ids) <= USER_FILTER_LIMIT:
            facts = facts.filter(user_id__in=user_ids)
    rows = facts.order_by("user_id", *REPLAY_ORDER).values_list(*_EVENT_COLUMNS).iterator(chunk_size=5000)
    viewers: list[tuple] = []
    for user_id, events in groupby(rows, key=itemgetter(0)):
        if wanted is not None and user_id not in wanted:
            continue
        viewers.append(_viewer_row(course_id, video_id, user_id, [event[1:] for event in events]))
        if len(viewers) >= WRITE_CHUNK:
            insert_ignore(VideoViewer, _VIEWER_COLUMNS, viewers, using, ignore_conflicts=False)
            viewers = []
    insert_ignore(VideoViewer, _VIEWER_COLUMNS, viewers, using, ignore_conflicts=False)


@dataclass
class VideoFigures:
    """A video's timeline (segment -> (users, views)) and summary fields."""

    timeline: dict[int, tuple[int, int]]
    summary: dict[str, Any]


def video_figures(users: dict[int, int], views: dict[int, int], viewings_total: int | None,
                  reported: float | None, ratio: float) -> VideoFigures | None:
    """Timeline and summary of a video from its per-segment viewers and views (None: nobody watched)."""
    if not users:
        return None
    if reported:
        duration, inferred = int(math.ceil(reported)), False
        final = max(segment_of(reported), max(users))
    else:
        final = infer_final_segment(users, ratio)
        duration, inferred = (final + 1) * SEGMENT_LENGTH - 1, True
    return VideoFigures(
        timeline={s: (users.get(s, 0), views.get(s, 0)) for s in range(0, final + 1)},
        summary={
            "duration": duration,
            "duration_inferred": inferred,
            "segment_length": SEGMENT_LENGTH,
            "users_at_start": users.get(0, 0),
            "users_at_end": users.get(end_segment(duration), 0),
            "views": viewings_total or 0,
        },
    )


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Rebuild the timeline and summary of each video in ``keys`` (video ids; ``ALL_KEYS``: every video)."""
    facts = VideoEventFact.objects.using(using).filter(course_id=course_id)
    for video_id in sorted(expand_keys(keys, facts, "video_id")):
        _rebuild_video(course_id, video_id, now, using)


def _rebuild_video(course_id: str, video_id: str, now: dt.datetime, using: str) -> None:
    """Rebuild one video's timeline and summary from its viewer rows (one row per learner)."""
    scope = {"course_id": course_id, "video_id": video_id}
    users: Counter = Counter()
    views: Counter = Counter()
    viewings_total = 0
    duration: float | None = None
    rows = VideoViewer.objects.using(using).filter(**scope).values_list("segments", "viewings", "max_duration")
    for segments, viewings_count, max_duration in rows.iterator(chunk_size=5000):
        for segment, count in segments:
            users[segment] += 1
            views[segment] += count
        viewings_total += viewings_count
        if max_duration and (duration is None or max_duration > duration):
            duration = max_duration
    VideoSegment.objects.using(using).filter(**scope).delete()
    figures = video_figures(dict(users), dict(views), viewings_total, duration,
                            float(conf.get("OPENEDX_ANALYTICS_VIDEO_DROPOFF_RATIO")))
    if figures is None:
        VideoSummary.objects.using(using).filter(**scope).delete()
        return
    VideoSegment.objects.using(using).bulk_create(
        [
            VideoSegment(**scope, segment=s, num_users=n, num_views=v)
            for s, (n, v) in sorted(figures.timeline.items())
        ]
    )
    VideoSummary.objects.using(using).update_or_create(
        **scope, defaults={**figures.summary, "last_updated": now},
    )
