"""Who may see a course's analytics page, section or tab: exactly the REST API's rules.

The REST API's ``permissions.course_for`` decides (role, then course existence and the
rollout gate); this module only turns its answer into what a page or a filter needs, so
the API, the page, the section and the tab can never disagree.
"""
from __future__ import annotations

from typing import Any

from rest_framework.exceptions import APIException, NotFound, PermissionDenied

from openedx_analytics.api.v1 import permissions


class Refused(Exception):
    """The user may not see the course's analytics; ``status`` is the HTTP status the API answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def course_for(user: Any, raw_course_id: str) -> str:
    """The canonical course id if ``user`` may see its analytics; else ``Refused`` (400, 403 or 404)."""
    try:
        return permissions.course_for(user, raw_course_id)
    except (PermissionDenied, NotFound) as exc:
        raise Refused(exc.status_code, str(exc.detail)) from None
    except APIException as exc:  # ValidationError: a malformed course id
        raise Refused(400, "Not a course id.") from exc


def visible(user: Any, course_id: Any) -> str | None:
    """The canonical course id when ``user`` sees the section/tab for it; None when the gate keeps them out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return course_for(user, str(course_id))
    except Refused:
        return None
