"""The plausibility bounds every event is held to: its time, video positions, grades.

Read from settings once and re-read when a setting changes (as tests do), because a missing
Django setting costs an exception on every read and these are read for every event.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from openedx_analytics import conf
from openedx_analytics.pipeline.rejected import Rejected


@dataclass(frozen=True, slots=True)
class Bounds:
    """The plausibility settings, read once (a missing Django setting costs an exception per read)."""

    earliest: dt.datetime
    max_ahead: dt.timedelta
    longest_video: float


_bounds: list[Bounds] = []


def bounds() -> Bounds:
    """The current plausibility bounds (re-read whenever a setting changes, as tests do)."""
    if not _bounds:
        earliest = dt.datetime.fromisoformat(str(conf.get("OPENEDX_ANALYTICS_EARLIEST_EVENT_TIME")))
        _bounds.append(Bounds(
            earliest=earliest if earliest.tzinfo else earliest.replace(tzinfo=dt.timezone.utc),
            max_ahead=dt.timedelta(seconds=float(conf.get("OPENEDX_ANALYTICS_MAX_FUTURE_SECONDS"))),
            longest_video=float(conf.get("OPENEDX_ANALYTICS_MAX_VIDEO_SECONDS")),
        ))
    return _bounds[0]


@receiver(setting_changed, dispatch_uid="openedx_analytics.normalizer.bounds")
def _forget_bounds(**_kwargs: Any) -> None:
    _bounds.clear()


def bounded(value: float | None, name: str, high: float) -> float | None:
    """``value`` when it lies in [0, ``high``]; a counted rejection otherwise."""
    if value is not None and not 0 <= value <= high:
        raise Rejected("out_of_range", f"{name} {value:g} is outside [0, {high:g}]")
    return value
