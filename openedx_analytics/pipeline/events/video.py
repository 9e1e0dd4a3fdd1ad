"""Video: player events (play, pause, seek, stop) from the browser, the mobile apps or the server.

Any source may send them: a player event speaks only for its sender's own viewing (its
learner is the authenticated one, see ``Envelope.user_id``). Positions and durations are
bounded by ``OPENEDX_ANALYTICS_MAX_VIDEO_SECONDS``: one player (or one learner with a
console) must not stretch a video to a million seconds.
"""
from __future__ import annotations

import re
from typing import Any

from openedx_analytics.pipeline.envelope import Envelope, IdMemo
from openedx_analytics.pipeline.events.activity import learner_activity
from openedx_analytics.pipeline.events.bounds import bounded, bounds
from openedx_analytics.pipeline.events.registration import Family
from openedx_analytics.pipeline.records import Record, VideoEvent, column_length
from openedx_analytics.pipeline.rejected import Rejected

VIDEO = Family("video")

#: Player event name -> the action stored.
VIDEO_ACTIONS = {
    "play_video": "play",
    "edx.video.played": "play",
    "pause_video": "pause",
    "edx.video.paused": "pause",
    "seek_video": "seek",
    "edx.video.position.changed": "seek",
    "stop_video": "stop",
    "edx.video.stopped": "stop",
}

_BLOCK_ID = re.compile(r"[0-9A-Za-z_\-.]+$")

#: (course, raw video id) pairs ``video_usage_id`` remembers, in characters: a site has a few thousand
#: videos, about 20,000 pairs of the usual length fit; ids are held to their column's length first.
VIDEO_ID_MEMO = IdMemo(max_characters=4_000_000)


def video_usage_id(course_id: str, raw_id: Any) -> str:
    """Name a video within its course by usage key where one can be built, else by its raw id.

    Answers are remembered: every player event of a video asks the same question. A raw id
    longer than the video id column is refused (``too_long``) before it is parsed or remembered.
    """
    if type(raw_id) is str:
        known = VIDEO_ID_MEMO.get((course_id, raw_id))
        if known is not None:
            return known
        if len(raw_id) > column_length("VideoEventFact", "video_id"):
            raise Rejected("too_long", f"video id has {len(raw_id)} characters", "data.id")
    usage_id = _video_usage_id(course_id, raw_id)
    VIDEO_ID_MEMO.put((course_id, raw_id), usage_id, len(course_id) + len(raw_id) + len(usage_id))
    return usage_id


def _video_usage_id(course_id: str, raw_id: Any) -> str:
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise Rejected("missing_field", "video id", "data.id")
    raw_id = raw_id.strip()
    if "@" in raw_id:  # block-v1:...+type@video+block@<id>
        block = raw_id.rsplit("@", 1)[1]
    elif raw_id.startswith("i4x"):  # i4x://Org/Num/video/<id> or i4x-Org-Num-video-<id>
        block = re.split(r"[/-]", raw_id)[-1]
    else:
        block = raw_id
    if not _BLOCK_ID.fullmatch(block):
        raise Rejected("bad_video_id", f"not a video id: {raw_id[:80]!r}", "data.id")
    if course_id.startswith("course-v1:"):
        return f"block-v1:{course_id[len('course-v1:'):]}+type@video+block@{block}"
    return f"i4x://{course_id.split('/')[0]}/{course_id.split('/')[1]}/video/{block}"


@VIDEO.register(
    *VIDEO_ACTIONS,
    sources=None,
    fields=("id", "module_id", "currentTime", "current_time", "old_time", "new_time", "duration"),
)
def video_event(envelope: Envelope) -> list[Record]:
    """Player events: play/pause/stop carry a position, seeks carry old and new times."""
    action = VIDEO_ACTIONS[envelope.name]
    activity = learner_activity(envelope, *(("video",) if action == "play" else ()))
    payload = envelope.payload
    longest = bounds().longest_video
    seek = action == "seek"
    event = VideoEvent(
        course_id=activity.course_id,
        video_id=video_usage_id(activity.course_id, payload.get("id") or payload.get("module_id")),
        user_id=activity.user_id,
        time=envelope.time,
        action=action,
        position=None if seek else bounded(payload.number("currentTime", "current_time"), "position", longest),
        old_time=bounded(payload.number("old_time", required=True), "old_time", longest) if seek else None,
        new_time=bounded(payload.number("new_time", required=True), "new_time", longest) if seek else None,
        duration=bounded(payload.number("duration"), "duration", longest),
    )
    if action in ("play", "pause") and event.position is None:
        raise Rejected("missing_field", "currentTime", "data.currentTime")
    return [activity, event]
