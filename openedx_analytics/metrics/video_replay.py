"""Viewings replayed from one learner's player events, and the timeline and summary a video's tally gives.

Pure, no database: each learner's events on a video make one ``Viewer`` (segments
touched, viewings, the duration their player reported); a video's ``Tally`` is the sum
of its viewers, and ``compute`` turns a tally into the 5-second segment timeline and the
summary we serve. ``metrics.video`` reads the events and stores the results.

What one viewing may touch is bounded, so one learner cannot make a video thousands of
segments long: by the duration their player reported; by the wall-clock time between the
play and the event that ends it (no player plays faster than ``MAX_PLAYBACK_RATE``, give or
take ``CLOCK_ALLOWANCE_SECONDS``; a seek closes the viewing and touches no segment); with no duration reported, by
``MAX_UNTIMED_VIEWING_SEGMENTS``. The timeline of a video whose duration is known (the
viewers' vote) stops at that duration's segment.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SEGMENT_LENGTH = 5
MIN_VIEWING_SECONDS = 0.25
DURATION_SLACK_SECONDS = 1.0
#: Fastest playback believed in (Open edX's players stop at 2x): a viewing covers at most this many video
#: seconds per wall-clock second between its play and its end.
MAX_PLAYBACK_RATE = 4.0
#: Video seconds a viewing may cover beyond that bound: event times are stamped on arrival, and a player
#: (the mobile apps batch their events) may deliver a play and its pause together; two minutes of video
#: (24 segments) is all the clock cannot vouch for.
CLOCK_ALLOWANCE_SECONDS = 120.0
#: Most segments one viewing may touch when the learner's player reported no duration (4 hours of video).
MAX_UNTIMED_VIEWING_SEGMENTS = 4 * 3600 // SEGMENT_LENGTH


@dataclass(frozen=True, slots=True)
class PlayerEvent:
    """One player event of one learner on one video (the replay's input)."""

    action: str
    position: float | None = None
    old_time: float | None = None
    new_time: float | None = None
    time: dt.datetime | None = None


#: The order events are replayed in (the database sorts; ties broken by fingerprint so
#: delivery order never matters).
REPLAY_ORDER = ("time", "fingerprint")


def segment_of(position: float) -> int:
    """The 5-second segment a position falls in."""
    return int(math.floor(position)) // SEGMENT_LENGTH


def plausible(start: float, end: float, elapsed: float | None, duration: float | None) -> bool:
    """Whether a viewing from ``start`` to ``end`` may count: long enough, within the reported ``duration``,
    no faster than ``MAX_PLAYBACK_RATE`` over the ``elapsed`` wall-clock seconds (when known), and, with no
    duration reported, touching at most ``MAX_UNTIMED_VIEWING_SEGMENTS`` segments."""
    if end < start or end - start < MIN_VIEWING_SECONDS:
        return False
    if duration is not None and end > duration + DURATION_SLACK_SECONDS:
        return False
    if elapsed is not None and end - start > MAX_PLAYBACK_RATE * max(elapsed, 0.0) + CLOCK_ALLOWANCE_SECONDS:
        return False
    return duration is not None or segment_of(end) - segment_of(start) < MAX_UNTIMED_VIEWING_SEGMENTS


def viewings(events: Iterable[PlayerEvent], duration: float | None) -> list[tuple[float, float]]:
    """Replay one learner's events on a video (in ``REPLAY_ORDER``) into (start, end) viewings, per the contract."""
    result: list[tuple[float, float]] = []
    open_start: float | None = None
    opened_at: dt.datetime | None = None
    seek_resume: float | None = None

    def close(end: float | None, at: dt.datetime | None) -> None:
        nonlocal open_start
        start, open_start = open_start, None
        if start is None or end is None:
            return
        elapsed = (at - opened_at).total_seconds() if at is not None and opened_at is not None else None
        if plausible(start, end, elapsed, duration):
            result.append((start, end))

    for event in events:
        if event.action == "play":
            open_start = seek_resume if seek_resume is not None else event.position
            opened_at = event.time
            seek_resume = None
        elif open_start is None:
            continue
        elif event.action in ("pause", "stop"):
            close(event.position, event.time)
            seek_resume = None
        elif event.action == "seek":
            close(event.old_time, event.time)
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


#: A player event fact as the replay reads it: (action, position, old_time, new_time, duration, time).
EventRow = tuple[str, float | None, float | None, float | None, float | None, dt.datetime | None]


def viewer_of(rows: Iterable[EventRow]) -> Viewer:
    """One learner's events on one video, as ``EventRow``s in ``REPLAY_ORDER``.

    Their viewings are checked against the longest duration their own player reported,
    which is also their one vote for the video's duration.
    """
    facts = list(rows)
    durations = [row[4] for row in facts if row[4]]
    duration = max(durations) if durations else None
    views = viewings((PlayerEvent(a, p, o, n, t) for a, p, o, n, _d, t in facts), duration)
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
        final = segment_of(reported)  # no viewer stretches a video past the duration the viewers voted for
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
