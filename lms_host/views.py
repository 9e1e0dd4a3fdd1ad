"""LMS-like views of the host: requests that go through the same doors as the LMS's own.

The enrollment view does what the LMS's enrollment code does: it writes in a transaction,
sends the openedx-events enrollment signal and emits the tracking event. Tests use it to
check that our doors never slow down or break such a request, whatever the broker does.
"""
from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST
from eventtracking import tracker
from opaque_keys.edx.keys import CourseKey
from openedx_events.learning.data import CourseData, CourseEnrollmentData, UserData, UserPersonalData
from openedx_events.learning.signals import COURSE_ENROLLMENT_CREATED


@require_POST
def enroll(request: HttpRequest, course_id: str) -> JsonResponse:
    """Enroll the learner named in POST ``username`` in ``course_id`` (mode from POST ``mode``)."""
    course_key = CourseKey.from_string(course_id)
    username = request.POST["username"]
    mode = request.POST.get("mode", "audit")
    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": f"{username}@x.test"})
        COURSE_ENROLLMENT_CREATED.send_event(
            enrollment=CourseEnrollmentData(
                user=UserData(id=user.id, is_active=True,
                              pii=UserPersonalData(username=user.username, email=user.email, name=username)),
                course=CourseData(course_key=course_key, display_name=str(course_key)),
                mode=mode,
                is_active=True,
                creation_date=dt.datetime.now(dt.timezone.utc),
            )
        )
        context = {"course_id": str(course_key), "org_id": course_key.org, "user_id": user.id}
        with tracker.get_tracker().context("edx.course.enrollment", context):
            tracker.emit("edx.course.enrollment.activated",
                         {"course_id": str(course_key), "user_id": user.id, "mode": mode})
    return JsonResponse({"username": username, "course_id": str(course_key), "mode": mode})
