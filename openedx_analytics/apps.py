"""Django AppConfig that makes openedx-analytics an LMS plugin (edx-django-utils plugin framework)."""
from __future__ import annotations

from django.apps import AppConfig
from django.dispatch import Signal
from django.utils.module_loading import import_string

from openedx_analytics.pipeline.events.registry import SIGNALS

#: openedx-events signals we listen to (``openedx_events.learning.signals`` attribute names, as
#: the event registry declares them), and the receiver in ``signals/receivers.py`` for each.
#: Used for ``plugin_app`` and for connecting in ``ready()``.
RECEIVED_SIGNALS: dict[str, str] = {signal.attribute: "receive_learning_event" for signal in SIGNALS}

_RECEIVERS_MODULE = "openedx_analytics.signals.receivers"


def _receivers_config() -> list[dict[str, str]]:
    return [
        {
            "receiver_func_name": func,
            "signal_path": f"openedx_events.learning.signals.{signal}",
            "dispatch_uid": f"openedx_analytics.{signal}",
        }
        for signal, func in RECEIVED_SIGNALS.items()
    ]


class OpenedxAnalyticsConfig(AppConfig):
    """Plugin entry point: URLs, settings hooks and openedx-events receivers for the LMS."""

    name = "openedx_analytics"
    verbose_name = "Open edX Analytics"
    default_auto_field = "django.db.models.BigAutoField"

    plugin_app = {
        "url_config": {
            "lms.djangoapp": {
                "namespace": "openedx_analytics",
                "regex": r"^",
                "relative_path": "urls",
            },
        },
        "settings_config": {
            "lms.djangoapp": {
                "common": {"relative_path": "settings.common"},
                "production": {"relative_path": "settings.production"},
                "devstack": {"relative_path": "settings.devstack"},
                "test": {"relative_path": "settings.test"},
            },
        },
        "signals_config": {
            "lms.djangoapp": {
                "relative_path": "signals.receivers",
                "receivers": _receivers_config(),
            },
        },
    }

    def ready(self) -> None:
        """Connect the receivers ourselves as well, so any host (not only the LMS) gets them.

        Django de-duplicates on ``dispatch_uid``, so the LMS connecting the same
        receivers through ``signals_config`` does not double them.
        """
        receivers = __import__(_RECEIVERS_MODULE, fromlist=["*"])
        for config in _receivers_config():
            signal: Signal = import_string(config["signal_path"])
            signal.connect(
                getattr(receivers, config["receiver_func_name"]),
                dispatch_uid=config["dispatch_uid"],
                weak=False,
            )
        from openedx_analytics.live import retirement
        from openedx_analytics.lms.retirement_signals import retirement_signals

        for retire_signal in retirement_signals():  # the LMS's learner retirement (or a stand-in host's)
            retire_signal.connect(retirement.receive_retirement, dispatch_uid=retirement.DISPATCH_UID, weak=False)
        from openedx_analytics.checks import report_at_startup  # registers the system checks
        report_at_startup()
        from openedx_analytics.live import dispatch  # noqa: F401  (connects request/task end hooks)
