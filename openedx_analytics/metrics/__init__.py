"""Metric engines: each turns one kind of fact into the aggregates we serve.

Every engine has the same steps and names the tables it owns (``metrics.engine``);
``ENGINES`` lists them, in the order the drain recomputes their kinds. The drain's map of
kinds to recomputes and ``verify_analytics`` are derived from it. ``SITE_ENGINES`` count
across courses (one unit for the whole site, recomputed after the course engines, in
``DirtyScope.SITE_ORDER``); they are not per course, so ``verify_analytics`` leaves them out.
"""
from __future__ import annotations

from openedx_analytics.metrics import activity, enrollment, grades, problems, site_activity, video
from openedx_analytics.metrics.engine import Engine

#: Every engine, in ``DirtyScope.ORDER``.
ENGINES: tuple[Engine, ...] = (video, enrollment, activity, problems, grades)
#: Engines counting across courses, in ``DirtyScope.SITE_ORDER`` (each has ``KIND`` and ``recompute``).
SITE_ENGINES = (site_activity,)
