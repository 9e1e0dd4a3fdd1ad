"""Production settings hook: the common defaults, then nothing environment-specific yet."""
from __future__ import annotations

from typing import Any

from openedx_analytics.settings.common import plugin_settings as common_settings


def plugin_settings(settings: Any) -> None:
    """Re-apply the common hook so values loaded from the operator's YAML are merged, not lost."""
    common_settings(settings)
