"""WSGI app of ``bench.request_path``'s servers: the test host with the doors of ``OA_BENCH_DOORS``, timed.

Adds up, in ``views.TOTALS``: each request's time in this process (from the
WSGI call to the response's close, which runs ``request_finished``), and the time spent in
our own code: our tracking backend's ``send``, our openedx-events receiver, and our
``request_started``/``request_finished`` handlers (each wrapped in a perf_counter pair). With
``OA_BENCH_DOORS=off`` our receivers are disconnected instead.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string
from eventtracking import tracker

from bench.harness.request_path.views import add
from openedx_analytics.apps import OpenedxAnalyticsConfig
from openedx_analytics.live import dispatch
from openedx_analytics.settings.common import TRACKING_BACKEND_KEY

django_application = get_wsgi_application()
SIGNAL_RECEIVERS = [(import_string(c["signal_path"]), c["dispatch_uid"])
                    for c in OpenedxAnalyticsConfig.plugin_app["signals_config"]["lms.djangoapp"]["receivers"]]
HOOKS = [(request_started, "openedx_analytics.request_started", dispatch._request_started),
         (request_finished, "openedx_analytics.request_finished", dispatch._request_finished)]


def timed(func: Callable, kind: str) -> Callable:
    """``func``, adding its time to ``kind``."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            add(kind, time.perf_counter() - started)
    return wrapper


def remove_doors() -> None:
    """Our doors off: our backend is not configured (the settings), our receivers and request hooks disconnected."""
    assert TRACKING_BACKEND_KEY not in tracker.get_tracker().backends
    for signal, uid in SIGNAL_RECEIVERS:
        assert signal.disconnect(dispatch_uid=uid)
    for signal, uid, _handler in HOOKS:
        assert signal.disconnect(dispatch_uid=uid)


def time_doors() -> None:
    """Our doors timed: our backend's ``send``, our signal receiver and our request hooks each wrapped by ``timed``."""
    backend = tracker.get_tracker().backends[TRACKING_BACKEND_KEY]
    inner = backend.backends["analytics"] if hasattr(backend, "backends") else backend  # under a RoutingBackend
    inner.send = timed(inner.send, "ours_tracking")
    from openedx_analytics.signals.receivers import receive_learning_event

    for signal, uid in SIGNAL_RECEIVERS:
        assert signal.disconnect(dispatch_uid=uid)
        signal.connect(timed(receive_learning_event, "ours_signal"), dispatch_uid=uid, weak=False)
    for signal, uid, handler in HOOKS:
        assert signal.disconnect(dispatch_uid=uid)
        signal.connect(timed(handler, "ours_hooks"), dispatch_uid=uid, weak=False)


class TimedResponse:
    """The response iterable, adding the request's time when the server closes it."""

    def __init__(self, result: Iterable[bytes], started: float) -> None:
        self.result = result
        self.started = started

    def __iter__(self):
        return iter(self.result)

    def close(self) -> None:
        """Close the response, then add the request's time since the WSGI call."""
        try:
            self.result.close()
        finally:
            add("request", time.perf_counter() - self.started)
            add("requests", 1)


def application(environ: dict, start_response: Callable) -> Any:
    """The Django app, each /bench/emit/ request timed to its close."""
    started = time.perf_counter()
    result = django_application(environ, start_response)
    if environ.get("PATH_INFO", "").startswith("/bench/emit/"):
        return TimedResponse(result, started)
    return result


if settings.DOORS == "off":
    remove_doors()
else:
    time_doors()
