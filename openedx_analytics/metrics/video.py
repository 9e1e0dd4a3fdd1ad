"""Video: viewings replayed from player events, 5-second segment timelines and per-video figures.

Each learner's events on a video make one ``Viewer`` (segments touched, viewings, the
duration their player reported); a video's ``Tally`` is the sum of its viewers, and
``compute`` turns a tally into the timeline and summary we serve. ``recompute`` (what the
drain calls) replays only the learners whose events changed: their old viewer rows are
subtracted from the stored tally and the new ones added, so one viewer's events cost the
same in a course of any size. A whole rebuild sums every viewer afresh.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from openedx_analytics import conf
from openedx_analytics.db.bulk import insert_ignore, upsert
from openedx_analytics.metrics.store import IdsMerged, chunks, pair_filters, rebuild_course, sync_rows
from openedx_analytics.models import (
    VideoEventFact,
    VideoSegment,
    VideoSummary,
    VideoTally,
    VideoViewer,
)
from openedx_analytics.pipeline.markers import ALL_KEYS, expand_keys, split_learner_keys

SEGMENT_LENGTH = 5
MIN_VIEWING_SECONDS = 0.25
DURATION_SLACK_SECONDS = 1.0
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


@dataclass(frozen=True)
class Viewer:
    """What one learner's events on one video add to it: views per touched segment, viewings, reported duration."""

    segments: dict[int, int]
    viewings: int
    duration: float | None


def viewer_of(rows: Iterable[tuple[str, float | None, float | None, float | None, float | None]]) -> Viewer:
    """One learner's events on one video, as (action, position, old_time, new_time, duration) in ``REPLAY_ORDER``.

    Their viewings are checked against the longest duration their own player reported,
    which is also their one vote for the video's duration.
    """
    facts = list(rows)
    durations = [row[4] for row in facts if row[4]]
    duration = max(durations) if durations else None
    views = viewings((PlayerEvent(a, p, o, n) for a, p, o, n, _d in facts), duration)
    return Viewer(dict(touched_segments(views)), len(views), duration)


@dataclass
class Tally:
    """A video's sums over its viewers: viewers and views per segment, viewings, votes per reported duration."""

    users: Counter = field(default_factory=Counter)
    views: Counter = field(default_factory=Counter)
    viewings: int = 0
    durations: Counter = field(default_factory=Counter)

    def add(self, viewer: Viewer, sign: int = 1) -> None:
        """Add (``sign`` 1) or subtract (-1) one viewer."""
        users, views = self.users, self.views
        for segment, count in viewer.segments.items():
            users[segment] += sign
            views[segment] += sign * count
        self.viewings += sign * viewer.viewings
        if viewer.duration:
            self.durations[viewer.duration] += sign

    def as_row(self) -> tuple:
        """The tally as ``VideoTally`` columns (users, views, viewings, durations), zeros dropped."""
        def plain(counter: Counter) -> dict[str, int]:
            return {_text(key): n for key, n in sorted(counter.items()) if n}
        return plain(self.users), plain(self.views), self.viewings, plain(self.durations)

    @classmethod
    def from_row(cls, users: dict, views: dict, viewings: int, durations: dict) -> Tally:
        """A tally from its ``VideoTally`` columns."""
        return cls(Counter({int(k): n for k, n in users.items()}), Counter({int(k): n for k, n in views.items()}),
                   viewings, Counter({float(k): n for k, n in durations.items()}))


def _text(key: int | float) -> str:
    return repr(key) if isinstance(key, float) else str(key)


def robust_duration(votes: Counter) -> float | None:
    """The duration most viewers' players reported (one vote per viewer); a tie goes to the shortest.

    One learner's player (or a forged event) cannot stretch a video: a single outlier is
    outvoted by any two viewers who agree, and between equally common values the shorter
    one wins, since a longer one only ever comes from a stale or forged report.
    """
    counted = [(n, -duration) for duration, n in votes.items() if n > 0]
    if not counted:
        return None
    return -max(counted)[1]


@dataclass
class VideoFigures:
    """A video's timeline (segment -> (users, views)) and summary fields."""

    timeline: dict[int, tuple[int, int]]
    summary: dict[str, Any]


def compute(tally: Tally, ratio: float) -> VideoFigures | None:
    """Timeline and summary of a video from its tally (None: nobody watched)."""
    users = {segment: n for segment, n in tally.users.items() if n}
    if not users:
        return None
    reported = robust_duration(tally.durations)
    if reported:
        duration, inferred = int(math.ceil(reported)), False
        final = max(segment_of(reported), max(users))
    else:
        final = infer_final_segment(users, ratio)
        duration, inferred = (final + 1) * SEGMENT_LENGTH - 1, True
    return VideoFigures(
        timeline={s: (users.get(s, 0), tally.views.get(s, 0)) for s in range(0, final + 1)},
        summary={
            "duration": duration,
            "duration_inferred": inferred,
            "segment_length": SEGMENT_LENGTH,
            "users_at_start": users.get(0, 0),
            "users_at_end": users.get(end_segment(duration), 0),
            "views": tally.viewings,
        },
    )


_EVENT_COLUMNS = ("user_id", "action", "position", "old_time", "new_time", "duration")
_VIEWER_COLUMNS = ("course_id", "video_id", "user_id", "viewings", "max_duration", "segments")
SUMMARY_FIELDS = ("duration", "duration_inferred", "segment_length", "users_at_start", "users_at_end", "views")


def load_viewers(course_id: str, video_id: str, using: str,
                 user_ids: Sequence[int] | None = None) -> Iterator[tuple[int, Viewer]]:
    """Replay each learner's events on one video (only ``user_ids``, if given), streaming one learner at a time."""
    facts = VideoEventFact.objects.using(using).filter(course_id=course_id, video_id=video_id)
    groups = [facts] if user_ids is None else [facts.filter(user_id__in=ids) for ids in chunks(sorted(user_ids))]
    for queryset in groups:
        rows = queryset.order_by("user_id", *REPLAY_ORDER).values_list(*_EVENT_COLUMNS).iterator(chunk_size=5000)
        for user_id, events in groupby(rows, key=itemgetter(0)):
            yield user_id, viewer_of(event[1:] for event in events)


def video_ids(course_id: str, using: str) -> list[str]:
    """Every video of the course with a player event."""
    facts = VideoEventFact.objects.using(using).filter(course_id=course_id)
    return sorted(expand_keys({ALL_KEYS}, facts, "video_id"))


def compute_video(viewers: Iterable[tuple[int, Viewer]]) -> Tally:
    """A video's tally from all its viewers (what a whole rebuild and ``verify_analytics`` start from)."""
    tally = Tally()
    for _user, viewer in viewers:
        tally.add(viewer)
    return tally


def stored(course_id: str, using: str) -> dict[str, dict[Any, Any]]:
    """The course's stored video rows, keyed as ``as_rows`` keys them."""
    rows: dict[str, dict[Any, Any]] = {"video tally": {}, "video segment": {}, "video": {}}
    for video_id, *row in VideoTally.objects.using(using).filter(course_id=course_id).values_list(
            "video_id", "users", "views", "viewings", "durations"):
        rows["video tally"][video_id] = tuple(row)
    for video_id, segment, users, views in VideoSegment.objects.using(using).filter(course_id=course_id).values_list(
            "video_id", "segment", "num_users", "num_views"):
        rows["video segment"][(video_id, segment)] = (users, views)
    for video_id, *row in VideoSummary.objects.using(using).filter(course_id=course_id).values_list(
            "video_id", *SUMMARY_FIELDS):
        rows["video"].update({(video_id, name): value for name, value in zip(SUMMARY_FIELDS, row, strict=True)})
    return rows


def as_rows(video_id: str, tally: Tally, ratio: float) -> dict[str, dict[Any, Any]]:
    """One video's tally and figures in the shape ``stored`` reads."""
    figures = compute(tally, ratio)
    return {
        "video tally": {video_id: tally.as_row()},
        "video segment": {(video_id, s): value for s, value in figures.timeline.items()} if figures else {},
        "video": {(video_id, name): figures.summary[name] for name in SUMMARY_FIELDS} if figures else {},
    }


def write(course_id: str, video_id: str, tally: Tally, now: dt.datetime, using: str) -> None:
    """Store a video's tally, timeline and summary (a video nobody watched keeps only its tally)."""
    write_many(course_id, {video_id: tally}, now, using)


def write_many(course_id: str, tallies: dict[str, Tally], now: dt.datetime, using: str) -> None:
    """Store the tally, timeline and summary of each video of ``tallies``: a few queries for them all."""
    if not tallies:
        return
    ratio = _ratio()
    figures = {video_id: compute(tally, ratio) for video_id, tally in tallies.items()}
    upsert(VideoTally, [VideoTally(course_id=course_id, video_id=video_id, users=users, views=views,
                                   viewings=viewings_total, durations=durations)
                        for video_id, (users, views, viewings_total, durations)
                        in sorted((video_id, tally.as_row()) for video_id, tally in tallies.items())],
           ["course_id", "video_id"], ["users", "views", "viewings", "durations"], using)
    for video_ids_chunk in chunks(sorted(tallies)):
        sync_rows(VideoSegment, {"course_id": course_id}, ("video_id", "segment"), ("num_users", "num_views"),
                  {(video_id, segment): value for video_id in video_ids_chunk if figures[video_id]
                   for segment, value in figures[video_id].timeline.items()},
                  using, within={"video_id__in": list(video_ids_chunk)})
    unwatched = sorted(video_id for video_id, found in figures.items() if found is None)
    for ids in chunks(unwatched):
        VideoSummary.objects.using(using).filter(course_id=course_id, video_id__in=ids).delete()
    upsert(VideoSummary, [VideoSummary(course_id=course_id, video_id=video_id, last_updated=now, **found.summary)
                          for video_id, found in sorted(figures.items()) if found is not None],
           ["course_id", "video_id"], [*SUMMARY_FIELDS, "last_updated"], using)


def _ratio() -> float:
    return float(conf.get("OPENEDX_ANALYTICS_VIDEO_DROPOFF_RATIO"))


def _viewer_row(course_id: str, video_id: str, user_id: int, viewer: Viewer) -> tuple:
    # (segment, views) pairs: stored as JSON, where a pair is a list either way
    return (course_id, video_id, user_id, viewer.viewings, viewer.duration, sorted(viewer.segments.items()))


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Bring the videos of the learners named by ``keys`` ("<user_id> <video_id>"; a bare video id: every
    learner of that video) up to date.

    One query per video reads the events of all its changed learners. ``ALL_KEYS`` (after a
    backfill) rebuilds every video of the course from all its viewers, streaming one
    learner at a time; so does a video whose tally is not stored yet.
    """
    if ALL_KEYS in keys:
        rebuild_course(lambda: _rebuild_course(course_id, now, using), lambda: video_ids(course_id, using),
                       lambda video_id: _rebuild(course_id, video_id, now, using), using)
        return
    whole, users_by_video = split_learner_keys(keys)
    for video_id in sorted(whole):
        _rebuild(course_id, video_id, now, using)
    _update(course_id, users_by_video, now, using)


def _rebuild_course(course_id: str, now: dt.datetime, using: str) -> None:
    """Replay every viewer of every video of the course (what ``_rebuild`` does per video, in a few queries):
    one ordered read of the course's events, viewer rows written in chunks, all tallies written together.

    Raises ``IdsMerged`` when the events name a video id the database's own distinct list
    lacks (it holds ids it compares as equal); the caller then rebuilds one video at a time.
    """
    known = video_ids(course_id, using)
    for ids in chunks(known):  # videos without events keep their rows, as before
        VideoViewer.objects.using(using).filter(course_id=course_id, video_id__in=ids).delete()
    known_ids = set(known)
    events = VideoEventFact.objects.using(using).filter(course_id=course_id) \
        .order_by("video_id", "user_id", *REPLAY_ORDER).values_list("video_id", *_EVENT_COLUMNS) \
        .iterator(chunk_size=5000)
    tallies: dict[str, Tally] = {}

    def viewer_rows() -> Iterator[tuple]:
        for (video_id, user_id), learner_events in groupby(events, key=itemgetter(0, 1)):
            tally = tallies.get(video_id)
            if tally is None:
                if video_id not in known_ids:
                    raise IdsMerged(video_id)
                tally = tallies[video_id] = Tally()
            viewer = viewer_of(event[2:] for event in learner_events)
            tally.add(viewer)
            yield _viewer_row(course_id, video_id, user_id, viewer)

    _insert_viewers(viewer_rows(), using)
    write_many(course_id, tallies, now, using)


def _insert_viewers(rows: Iterable[tuple], using: str) -> None:
    """Insert viewer rows ``WRITE_CHUNK`` at a time: a replayed course's viewers never sit in memory at once."""
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= WRITE_CHUNK:
            insert_ignore(VideoViewer, _VIEWER_COLUMNS, chunk, using, ignore_conflicts=False)
            chunk = []
    insert_ignore(VideoViewer, _VIEWER_COLUMNS, chunk, using, ignore_conflicts=False)


def _rebuild(course_id: str, video_id: str, now: dt.datetime, using: str) -> None:
    """Replay every viewer of one video: rewrite their rows and the video's tally from scratch."""
    scope = {"course_id": course_id, "video_id": video_id}
    VideoViewer.objects.using(using).filter(**scope).delete()
    tally = Tally()

    def viewer_rows() -> Iterator[tuple]:
        for user_id, viewer in load_viewers(course_id, video_id, using):
            tally.add(viewer)
            yield _viewer_row(course_id, video_id, user_id, viewer)

    _insert_viewers(viewer_rows(), using)
    write(course_id, video_id, tally, now, using)


def _update(course_id: str, users_by_video: dict[str, set[int]], now: dt.datetime, using: str) -> None:
    """Replay the learners of ``users_by_video`` on their videos: subtract their old viewer rows from each
    video's stored tally, add the new ones. A few queries for all the videos of the unit, not per video;
    a video whose tally is not stored yet is rebuilt from all its viewers."""
    if not users_by_video:
        return
    tallies: dict[str, Tally] = {}
    for ids in chunks(sorted(users_by_video)):
        for video_id, *row in VideoTally.objects.using(using).filter(course_id=course_id, video_id__in=ids) \
                .values_list("video_id", "users", "views", "viewings", "durations"):
            tallies[video_id] = Tally.from_row(*row)
    for video_id in sorted(set(users_by_video) - set(tallies)):
        _rebuild(course_id, video_id, now, using)
    changed = {video_id: users for video_id, users in users_by_video.items() if video_id in tallies}
    if not changed:
        return
    viewers = VideoViewer.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("video_id", "user_id", changed):
        old = viewers.filter(condition)
        for video_id, viewings_count, duration, segments in old.values_list(
                "video_id", "viewings", "max_duration", "segments"):
            tallies[video_id].add(Viewer({s: n for s, n in segments}, viewings_count, duration), -1)
        old.delete()
    rows = []
    facts = VideoEventFact.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("video_id", "user_id", changed):
        events = facts.filter(condition).order_by("video_id", "user_id", *REPLAY_ORDER) \
            .values_list("video_id", *_EVENT_COLUMNS).iterator(chunk_size=5000)
        for (video_id, user_id), learner_events in groupby(events, key=itemgetter(0, 1)):
            viewer = viewer_of(event[2:] for event in learner_events)
            tallies[video_id].add(viewer)
            rows.append(_viewer_row(course_id, video_id, user_id, viewer))
    insert_ignore(VideoViewer, _VIEWER_COLUMNS, rows, using, ignore_conflicts=False)
    write_many(course_id, {video_id: tallies[video_id] for video_id in changed}, now, using)
