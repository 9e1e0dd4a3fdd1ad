"""Where LMS data comes from: the LMS's own models, or a stand-in app that a test or demo host names.

Inside the LMS (its student app is installed) the real edx-platform models are imported.
Elsewhere the app whose label ``OPENEDX_ANALYTICS_LMS_STAND_IN_APP`` names (a test or demo
host's models with the LMS's names and fields) is looked up through Django's app registry,
so the product never imports a host by name and the queries stay the same. With neither,
``NotAvailable`` says so.
"""
from __future__ import annotations

import importlib
from types import ModuleType, SimpleNamespace
from typing import Any

from django.apps import AppConfig, apps
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from openedx_analytics import conf

_LMS_APP = "common.djangoapps.student"

#: The LMS models ``lms_models`` returns, by the names the stand-in app must also use.
LMS_MODEL_NAMES = ("CourseOverview", "CourseEnrollment", "HistoricalCourseEnrollment", "CourseAccessRole",
                   "PersistentCourseGrade", "GeneratedCertificate", "StudentModule")


class NotAvailable(Exception):
    """Raised when LMS data is asked for in a process that has neither the LMS nor a stand-in app."""


def lms_available() -> bool:
    """True inside the LMS (its student app is installed), whatever else is installed."""
    return apps.is_installed(_LMS_APP)


def stand_in_app() -> AppConfig | None:
    """The stand-in LMS app named by ``OPENEDX_ANALYTICS_LMS_STAND_IN_APP`` (its label), if installed."""
    label = conf.get("OPENEDX_ANALYTICS_LMS_STAND_IN_APP")
    if not label:
        return None
    try:
        return apps.get_app_config(label)
    except LookupError:
        return None


def stand_in_models(*names: str) -> SimpleNamespace | None:
    """The stand-in app's models of these names (None without a stand-in app)."""
    app = stand_in_app()
    if app is None:
        return None
    return SimpleNamespace(**{name: app.get_model(name) for name in names})


def stand_in_module(name: str) -> ModuleType | None:
    """A module of the stand-in app (``signals``), by its name inside the app (None without one)."""
    app = stand_in_app()
    return None if app is None else importlib.import_module(f"{app.name}.{name}")


def lms_models() -> SimpleNamespace:
    """The model classes we read: the LMS's, else the stand-in app's; else ``NotAvailable``."""
    if lms_available():
        from common.djangoapps.student.models import CourseAccessRole, CourseEnrollment
        from lms.djangoapps.certificates.models import GeneratedCertificate
        from lms.djangoapps.courseware.models import StudentModule
        from lms.djangoapps.grades.models import PersistentCourseGrade
        from openedx.core.djangoapps.content.course_overviews.models import CourseOverview

        return SimpleNamespace(
            CourseOverview=CourseOverview, CourseEnrollment=CourseEnrollment,
            HistoricalCourseEnrollment=CourseEnrollment.history.model, CourseAccessRole=CourseAccessRole,
            PersistentCourseGrade=PersistentCourseGrade, GeneratedCertificate=GeneratedCertificate,
            StudentModule=StudentModule,
        )
    models = stand_in_models(*LMS_MODEL_NAMES)
    if models is None:
        raise NotAvailable("LMS data is not available outside the LMS (and no stand-in LMS app is installed)")
    return models


def as_course_key(value: Any) -> CourseKey:
    """``value`` as a course key (a key already, or its text); ``ValueError`` when it is not one."""
    if isinstance(value, CourseKey):
        return value
    try:
        return CourseKey.from_string(str(value))
    except InvalidKeyError:
        raise ValueError(f"not a course key: {str(value)[:100]!r}") from None
