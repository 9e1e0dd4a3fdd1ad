"""Who sees the "Insights numbers / live numbers" switch: a waffle flag with the LMS's course and org overrides.

The same rollout mechanism as the analytics flag (``rollout``): chosen users or groups
through the flag, then partner organizations or courses through the LMS's "Waffle flag
course/org overrides" of this flag's name (read through ``flags``), which win over it.
The switch shows only where an old Insights data API is configured as well.
"""
from __future__ import annotations

from edx_toggles.toggles import WaffleFlag

from openedx_analytics.lms.flags import course_flag_override

FLAG_NAME = "openedx_analytics.insights_switch"

# .. toggle_name: openedx_analytics.insights_switch
# .. toggle_implementation: WaffleFlag
# .. toggle_default: False
# .. toggle_description: Shows the "Insights numbers / live numbers" switch on the analytics tab
#   (``?new_data=true|false``) to chosen users or groups, and through the LMS's waffle flag course
#   and org overrides of this name to chosen courses or partner organizations, so they can compare
#   the old Insights numbers with the live ones without leaving the dashboard. Needs an enabled
#   ``InsightsDataApiConfiguration``; ``OPENEDX_ANALYTICS_NEW_DATA_DEFAULT`` chooses which
#   numbers show first.
# .. toggle_use_cases: temporary, opt_in
# .. toggle_creation_date: 2026-12-07
# .. toggle_target_removal_date: 2027-12-31
# .. toggle_warning: Evaluated for the user of the current request (crum).
SWITCH = WaffleFlag(FLAG_NAME, __name__)


def switch_enabled(course_id: str) -> bool:
    """Whether the current request's user sees the switch on ``course_id``: course, then org override, then flag."""
    decided = course_flag_override(FLAG_NAME, course_id)
    return bool(SWITCH.is_enabled()) if decided is None else decided
