"""Forum posts: a thread, response or comment counts for "posted_forum", whichever door it came through.

Only the server may say a learner posted (a browser copy of these names counts as the
sender's "any" activity only); nothing of the post (title, body, URL) is read or kept.
"""
from __future__ import annotations

from openedx_analytics.pipeline.envelope import Envelope
from openedx_analytics.pipeline.events.activity import learner_activity
from openedx_analytics.pipeline.events.registration import SIGNAL_PREFIX, Family, Signal
from openedx_analytics.pipeline.records import Record

ENGAGEMENT = Family("forum and engagement")


@ENGAGEMENT.register(
    "edx.forum.thread.created",
    "edx.forum.response.created",
    "edx.forum.comment.created",
)
def forum_post(envelope: Envelope) -> list[Record]:
    """A forum post (tracking event) counts for "posted_forum"."""
    return [learner_activity(envelope, "forum")]


@ENGAGEMENT.register(
    Signal("FORUM_THREAD_CREATED", "thread", SIGNAL_PREFIX + "forum.thread.created.v1"),
    Signal("FORUM_THREAD_RESPONSE_CREATED", "thread", SIGNAL_PREFIX + "forum.thread.response.created.v1"),
    Signal("FORUM_RESPONSE_COMMENT_CREATED", "thread", SIGNAL_PREFIX + "forum.thread.response.comment.created.v1"),
)
def forum_signal(envelope: Envelope) -> list[Record]:
    """A forum post (openedx-events signal) counts for "posted_forum"."""
    return [learner_activity(envelope, "forum")]
