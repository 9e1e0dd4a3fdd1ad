"""Video: viewings replayed from player events, 5-second segment timelines and per-video figures.

The steps of an engine (``metrics.engine``); the pure ones are in ``video_replay``: each
learner's events on a video make one ``Viewer`` (stored as a ``VideoViewer`` row), a
video's ``Tally`` is the sum of its viewers (stored as ``VideoTally``), and ``compute``
turns a tally into the timeline and summary we serve. ``recompute`` (what the drain
calls) replays only the learners whose events changed: their old viewer rows are
subtracted from the stored tally and the new ones added, so one viewer's events cost the
same in a course of any size. A whole rebuild sums every viewer afresh. Both store what
they computed with the one ``write``.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import groupby
from operator import itemgetter

from openedx_analytics import conf
from openedx_analytics.db.bulk import upsert
from openedx_analytics.metrics.engine import Expected, Table, parts_by_block
from openedx_analytics.metrics.store import (
    chunks,
    insert_in_chunks,
    pair_filters,
    rebuild_course,
    replace_block_learners,
    sync_rows,
)
from openedx_analytics.metrics.video_replay import REPLAY_ORDER, Tally, Viewer, compute, viewer_of
from openedx_analytics.models import (
    DirtyScope,
    VideoEventFact,
    VideoSegment,
    VideoSummary,
    VideoTally,
    VideoViewer,
)
from openedx_analytics.pipeline.markers import ALL_KEYS, expand_keys, split_learner_keys

#: A player event fact: (video_id, user_id, action, position, old_time, new_time, duration, time).
FactRow = tuple
SUMMARY_FIELDS = ("duration", "duration_inferred", "segment_length", "users_at_start", "users_at_end", "views")
KIND = DirtyScope.VIDEO_USER
TALLIES = Table("video tally", VideoTally, ("video_id",), ("users", "views", "viewings", "durations"))
SEGMENTS = Table("video segment", VideoSegment, ("video_id", "segment"), ("num_users", "num_views"))
SUMMARIES = Table("video", VideoSummary, ("video_id",), SUMMARY_FIELDS, per_field=True)
VIEWERS = Table("video viewer", VideoViewer, ("video_id", "user_id"), ("viewings", "max_duration", "segments"))
TABLES = (TALLIES, SEGMENTS, SUMMARIES, VIEWERS)
_EVENT_COLUMNS = ("user_id", "action", "position", "old_time", "new_time", "duration", "time")
_VIEWER_COLUMNS = ("course_id", "video_id", "user_id", *VIEWERS.value_fields)


def video_ids(course_id: str, using: str) -> list[str]:
    """Every video of the course with a player event."""
    facts = VideoEventFact.objects.using(using).filter(course_id=course_id)
    return sorted(expand_keys({ALL_KEYS}, facts, "video_id"))


def load(course_id: str, using: str, video_id: str | None = None,
         between: tuple[dt.datetime, dt.datetime] | None = None) -> Iterator[FactRow]:
    """The course's player events by video, learner and ``REPLAY_ORDER`` (of ``video_id`` only, named so, if given;
    those at times in [``between``) only, if given: figures over a range of dates)."""
    facts = VideoEventFact.objects.using(using).filter(course_id=course_id)
    if between is not None:
        facts = facts.filter(time__gte=between[0], time__lt=between[1])
    if video_id is None:
        yield from (facts.order_by("video_id", "user_id", *REPLAY_ORDER).values_list("video_id", *_EVENT_COLUMNS)
                    .iterator(chunk_size=5000))
        return
    rows = facts.filter(video_id=video_id).order_by("user_id", *REPLAY_ORDER).values_list(*_EVENT_COLUMNS)
    for row in rows.iterator(chunk_size=5000):
        yield (video_id, *row)


def contributions(facts: Iterable[FactRow]) -> Iterator[tuple[tuple[str, int], Viewer]]:
    """((video_id, user_id), ``Viewer``) of each learner of each video, from events in ``load``'s order
    (one learner's at a time)."""
    for (video_id, user_id), events in groupby(facts, key=itemgetter(0, 1)):
        yield (video_id, user_id), viewer_of(event[2:] for event in events)


def tally(viewers: Iterable[tuple[tuple[str, int], Viewer]]) -> dict[str, Tally]:
    """Each video's tally of its ``viewers``."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for (video_id, _user), viewer in viewers:
        tallies[video_id].add(viewer)
    return dict(tallies)


def _ratio() -> float:
    return float(conf.get("OPENEDX_ANALYTICS_VIDEO_DROPOFF_RATIO"))


def write(course_id: str, tallies: Mapping[str, Tally], now: dt.datetime, using: str) -> None:
    """Store the tally, timeline and summary of each video of ``tallies``, a few queries for them all (a video
    nobody watched keeps only its tally)."""
    if not tallies:
        return
    ratio = _ratio()
    figures = {video_id: compute(sums, ratio) for video_id, sums in tallies.items()}
    upsert(VideoTally, [VideoTally(course_id=course_id, video_id=video_id, users=users, views=views,
                                   viewings=viewings_total, durations=durations)
                        for video_id, (users, views, viewings_total, durations)
                        in sorted((video_id, sums.as_row()) for video_id, sums in tallies.items())],
           ["course_id", "video_id"], list(TALLIES.value_fields), using)
    for video_ids_chunk in chunks(sorted(tallies)):
        sync_rows(VideoSegment, {"course_id": course_id}, ("video_id", "segment"), SEGMENTS.value_fields,
                  {(video_id, segment): value for video_id in video_ids_chunk if figures[video_id]
                   for segment, value in figures[video_id].timeline.items()},
                  using, within={"video_id__in": list(video_ids_chunk)})
    unwatched = sorted(video_id for video_id, found in figures.items() if found is None)
    for ids in chunks(unwatched):
        VideoSummary.objects.using(using).filter(course_id=course_id, video_id__in=ids).delete()
    upsert(VideoSummary, [VideoSummary(course_id=course_id, video_id=video_id, last_updated=now, **found.summary)
                          for video_id, found in sorted(figures.items()) if found is not None],
           ["course_id", "video_id"], [*SUMMARY_FIELDS, "last_updated"], using)


def _viewer_values(viewer: Viewer) -> tuple:
    """A viewer as the ``VideoViewer`` columns after the video's and learner's ids (segments as
    ``[segment, views]`` pairs, as JSON stores them)."""
    return viewer.viewings, viewer.duration, [[segment, views] for segment, views in sorted(viewer.segments.items())]


def expected(course_id: str, using: str) -> Iterator[Expected]:
    """What a whole rebuild stores for each video, a few videos at a time (each read alone, as the rebuild of
    one video reads it)."""
    ratio = _ratio()

    def add_video(part: Expected, video_id: str) -> None:
        sums = Tally()
        for (_video, user_id), viewer in contributions(load(course_id, using, video_id)):
            sums.add(viewer)
            part.add(VIEWERS, (video_id, user_id), _viewer_values(viewer))
        part.add(TALLIES, (video_id,), sums.as_row())
        figures = compute(sums, ratio)
        if figures is None:
            return
        for segment, value in figures.timeline.items():
            part.add(SEGMENTS, (video_id, segment), value)
        part.add(SUMMARIES, (video_id,), tuple(figures.summary[name] for name in SUMMARY_FIELDS))

    yield from parts_by_block(TABLES, "video_id", video_ids(course_id, using), add_video)


def recompute(course_id: str, keys: set[str], now: dt.datetime, using: str) -> None:
    """Bring the videos of the learners named by ``keys`` ("<user_id> <video_id>"; a bare video id: every
    learner of that video) up to date.

    One query per video reads the events of all its changed learners. ``ALL_KEYS`` (after a
    backfill) rebuilds every video of the course from all its viewers, streaming one
    learner at a time; so does a video whose tally is not stored yet.
    """
    if ALL_KEYS in keys:
        rebuild_course(lambda: rebuild_whole_course(course_id, now, using), lambda: video_ids(course_id, using),
                       lambda video_id: rebuild_video(course_id, video_id, now, using), using)
        return
    whole, users_by_video = split_learner_keys(keys)
    for video_id in sorted(whole):
        rebuild_video(course_id, video_id, now, using)
    _update(course_id, users_by_video, now, using)


def rebuild_whole_course(course_id: str, now: dt.datetime, using: str) -> None:
    """Replay every viewer of every video of the course from one ordered read of its events.

    Raises ``IdsMerged`` when the events name a video id the database's own distinct list
    lacks (it holds ids it compares as equal); the caller then rebuilds one video at a time.
    Videos without events keep their rows.
    """
    _rebuild(course_id, video_ids(course_id, using), load(course_id, using), now, using)


def rebuild_video(course_id: str, video_id: str, now: dt.datetime, using: str) -> None:
    """Replay every viewer of one video."""
    _rebuild(course_id, [video_id], load(course_id, using, video_id), now, using)


def _rebuild(course_id: str, ids: Sequence[str], facts: Iterable[FactRow], now: dt.datetime, using: str) -> None:
    """Replace the viewer rows of the videos ``ids`` and store their tallies, from ``facts`` (all their events,
    in ``load``'s order), streaming one learner at a time."""
    tallies = replace_block_learners(VideoViewer, "video_id", _VIEWER_COLUMNS, course_id, ids,
                                     contributions(facts), Tally, _viewer_values, using)
    write(course_id, tallies, now, using)


def _update(course_id: str, users_by_video: dict[str, set[int]], now: dt.datetime, using: str) -> None:
    """Replay the learners of ``users_by_video`` on their videos: subtract their old viewer rows from each
    video's stored tally, add the new ones. A few queries for all the videos of the unit, not per video;
    a video whose tally is not stored yet is rebuilt from all its viewers."""
    if not users_by_video:
        return
    tallies: dict[str, Tally] = {}
    for ids in chunks(sorted(users_by_video)):
        for video_id, *row in VideoTally.objects.using(using).filter(course_id=course_id, video_id__in=ids) \
                .values_list("video_id", *TALLIES.value_fields):
            tallies[video_id] = Tally.from_row(*row)
    for video_id in sorted(set(users_by_video) - set(tallies)):
        rebuild_video(course_id, video_id, now, using)
    changed = {video_id: users for video_id, users in users_by_video.items() if video_id in tallies}
    if not changed:
        return
    viewers = VideoViewer.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("video_id", "user_id", changed):
        old = viewers.filter(condition)
        for video_id, viewings_count, duration, segments in old.values_list("video_id", *VIEWERS.value_fields):
            tallies[video_id].add(Viewer({s: n for s, n in segments}, viewings_count, duration), -1)
        old.delete()
    rows = []
    facts = VideoEventFact.objects.using(using).filter(course_id=course_id)
    for condition, _covered in pair_filters("video_id", "user_id", changed):
        events = facts.filter(condition).order_by("video_id", "user_id", *REPLAY_ORDER) \
            .values_list("video_id", *_EVENT_COLUMNS).iterator(chunk_size=5000)
        for (video_id, user_id), viewer in contributions(events):
            tallies[video_id].add(viewer)
            rows.append((course_id, video_id, user_id, *_viewer_values(viewer)))
    insert_in_chunks(VideoViewer, _VIEWER_COLUMNS, rows, using)
    write(course_id, {video_id: tallies[video_id] for video_id in changed}, now, using)
