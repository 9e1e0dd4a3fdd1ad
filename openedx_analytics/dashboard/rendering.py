"""Render the dashboard's Django templates with a Django engine, whatever engines the host lists first.

The LMS lists its Mako engine before Django's; a template name resolved by the wrong
engine would render as Mako. So the dashboard always picks the first Django engine.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template import engines
from django.template.backends.django import DjangoTemplates

TEMPLATE_DIR = "openedx_analytics/dashboard/"


def _engine() -> Any:
    for engine in engines.all():
        if isinstance(engine, DjangoTemplates):
            return engine
    raise LookupError("the analytics page needs a Django template engine in TEMPLATES")


def render(name: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
    """``templates/openedx_analytics/dashboard/<name>`` rendered with ``context``."""
    return _engine().get_template(TEMPLATE_DIR + name).render(context, request)
