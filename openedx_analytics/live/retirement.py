"""The door of learner retirement: the LMS's retirement signals in, deletion and a recompute out.

``apps.ready`` connects ``receive_retirement`` to the signals ``lms.retirement_signals``
finds. The deletion itself (``privacy.retirement.retire_learner``) raises into the LMS's
retirement API on purpose, so the LMS records the step as failed and retries it; sending
the recompute afterwards never raises: the dirty markers are committed with the deletion,
and any later drain of those courses picks them up.

The cached content of the courses touched (page and section, ``course_cache``) is cleared
once the deletion is committed, and again by the recompute once the figures no longer
count the learner: a page rendered in between, from figures not yet recomputed, is not
served past the recompute either.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from openedx_analytics import conf, course_cache
from openedx_analytics.privacy.retirement import retire_learner
from openedx_analytics.worker.tasks import recompute_dirty_scopes

log = logging.getLogger(__name__)

DISPATCH_UID = "openedx_analytics.retire_learner"


def receive_retirement(sender: Any = None, user: Any = None, **kwargs: Any) -> None:
    """Receiver of the LMS's retirement signals (``user=`` the learner being retired)."""
    if user is None or getattr(user, "id", None) is None:
        log.warning("openedx_analytics: a retirement signal without a user was ignored")
        return
    usernames = [getattr(user, "username", "") or "", kwargs.get("retired_username") or ""]
    retired = retire_learner(user.id, usernames)
    courses = sorted(retired.courses)
    transaction.on_commit(lambda: _recompute(courses), using=conf.analytics_db())


def _recompute(courses: list[str]) -> None:
    """Clear the courses' cached content and send their recompute to the workers (which clears it again);
    on failure the committed markers wait for the next drain."""
    if not courses:
        return
    course_cache.clear(courses)
    try:
        recompute_dirty_scopes.apply_async(args=(courses,), kwargs={"wait": True, "clear_cached_content": True},
                                           queue=conf.celery_queue())
    except Exception:  # noqa: BLE001 - the markers are committed; never fail a retirement on the broker
        log.exception("openedx_analytics: could not schedule the recompute of %s courses after a retirement "
                      "(their dirty markers wait for the next recompute)", len(courses))
