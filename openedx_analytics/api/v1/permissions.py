"""Who may read a course's analytics, as the REST API answers it: ``openedx_analytics.access`` in DRF's terms.

The rules (roles, course existence, the rollout gate, and the order that keeps a course's
existence private) are ``access``'s, shared with the analytics page and the instructor
dashboard; this only turns its ``Refused`` into the DRF exception of the same status, so
the API's error bodies are DRF's usual ones.
"""
from __future__ import annotations

from typing import Any

from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError

from openedx_analytics import access


def as_api_exception(refused: access.Refused) -> APIException:
    """The DRF exception that answers ``refused`` (a 400 names the path's ``course_id``)."""
    if refused.status == 400:
        return ValidationError({"course_id": [refused.message]})
    if refused.status == 403:
        return PermissionDenied(refused.message)
    if refused.status == 404:
        return NotFound(refused.message)
    error = APIException(refused.message)
    error.status_code = refused.status
    return error


def course_for(user: Any, raw_course_id: str) -> str:
    """Check ``user`` may read the course named in the URL; return its canonical id (else 400, 403 or 404)."""
    try:
        return access.course_for(user, raw_course_id)
    except access.Refused as refused:
        raise as_api_exception(refused) from None
