"""The LMS's learner-retirement signals, found where the running LMS release keeps them."""
from __future__ import annotations

import logging
from typing import Any

from openedx_analytics.lms.host import lms_available, stand_in_module

log = logging.getLogger(__name__)


def retirement_signals() -> list[Any]:
    """The LMS's learner-retirement signals (``USER_RETIRE_LMS_MISC``, ``USER_RETIRE_LMS_CRITICAL``).

    Plain Django signals sent with ``user=`` by the LMS's retirement API. Outside the LMS,
    the stand-in app's (its ``signals`` module) when one is installed (so tests retire learners the same way),
    else none: there is no retirement to follow.
    """
    try:
        if lms_available():
            from openedx.core.djangoapps.user_api.accounts import signals
        else:
            signals = stand_in_module("signals")
            if signals is None:
                return []
    except ImportError:  # an LMS release that moved them: say so rather than break startup
        log.error("openedx_analytics: the LMS's retirement signals were not found; retired learners' "
                  "analytics facts will not be deleted")
        return []
    return [signals.USER_RETIRE_LMS_MISC, signals.USER_RETIRE_LMS_CRITICAL]
