"""Toggles of openedx-analytics (edx-toggles), each annotated for the Open edX toggle report."""
from __future__ import annotations

from edx_toggles.toggles import WaffleSwitch

# .. toggle_name: openedx_analytics.pause_enqueueing
# .. toggle_implementation: WaffleSwitch
# .. toggle_default: False
# .. toggle_description: Kill switch for the live doors. When on, the signal receivers and the
#   event-tracking backend hand nothing to Celery (events are dropped and counted in the log);
#   recover the gap afterwards with ``backfill_analytics``.
# .. toggle_use_cases: circuit_breaker
# .. toggle_creation_date: 2026-11-21
PAUSE_ENQUEUEING = WaffleSwitch("openedx_analytics.pause_enqueueing", __name__)
