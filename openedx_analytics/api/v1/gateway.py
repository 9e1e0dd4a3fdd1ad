"""``POST /api/analytics/v1/events/``: the ingest gateway, where other systems send learning events.

The face of ``api.gateway``: who may call (a JWT of the LMS's OAuth2 client credentials, or a
key from ``ingest_api_key``; the ``send_learning_events`` permission; an enabled gateway
caller row), how often (per caller, 429 with ``Retry-After``), how much (413 with the limit,
before the body is read), what the body must be (400 for a body that is not JSON or not a
list), and how the answer reads (docs/gateway.md):

- 200: every item is stored, now or before (``duplicates``);
- 207: some items were rejected (listed), the others stored;
- 422: nothing was stored: every item was rejected, or ``?atomic=true`` and one was.

Nothing raised past the view: a database that does not answer in time is a 503 with
``Retry-After`` (the batch may be sent again unchanged: items are idempotent).
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, InterfaceError
from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from edx_rest_framework_extensions.auth.jwt.authentication import JwtAuthentication
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from openedx_analytics import conf, rate_limit
from openedx_analytics.api import gateway
from openedx_analytics.api.v1.key_auth import IngestKeyAuthentication
from openedx_analytics.db import time_limits
from openedx_analytics.models.gateway import SEND_PERMISSION
from openedx_analytics.pipeline.envelope import decode_json
from openedx_analytics.pipeline.rejected import Rejected

log = logging.getLogger(__name__)

#: The rate-limit count kept for the gateway (apart from the read API's and the page's).
THROTTLE_SCOPE = "gateway"
#: Seconds a caller is asked to wait after the database did not answer in time.
BUSY_RETRY_SECONDS = 5
_TRUE = ("1", "true", "yes")


class _Item(serializers.Serializer):
    """One event, in the Open edX tracking-event shape (``event_type``/``event`` or ``name``/``data``)."""

    id = serializers.CharField(required=False, help_text="The sender's id of the item (string or integer, at most "
                                                         "128 characters): a resent id is a duplicate.")
    name = serializers.CharField(required=False, help_text="Event name (or event_type); one the registry knows.")
    event_type = serializers.CharField(required=False)
    time = serializers.DateTimeField(help_text="When it happened (ISO 8601; no zone means UTC).")
    context = serializers.DictField(help_text="course_id and user_id of the learner.")
    event = serializers.DictField(required=False, help_text="The payload (or data).")
    data = serializers.DictField(required=False)


class _Rejection(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the batch, from 0.")
    id = serializers.JSONField(allow_null=True, help_text="The item's id as sent (null without one).")
    field = serializers.CharField(help_text="Dotted path of the fault in the item, e.g. context.course_id "
                                            "('' for the whole item).")
    reason = serializers.CharField(help_text="Machine-readable reason, e.g. unknown_event, not_granted.")
    detail = serializers.CharField()


class _Duplicate(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.JSONField(allow_null=True)


class _Aggregates(serializers.Serializer):
    visible_within_seconds = serializers.IntegerField()
    courses = serializers.DictField(child=serializers.URLField(), help_text="Course id -> its summary endpoint.")


class _Answer(serializers.Serializer):
    stored = serializers.BooleanField(help_text="Whether the good items were stored (false: nothing was).")
    atomic = serializers.BooleanField()
    received = serializers.IntegerField()
    accepted = serializers.IntegerField(help_text="Items stored by this request.")
    duplicates = _Duplicate(many=True, help_text="Items stored before (same id, or same content without one).")
    rejected = _Rejection(many=True)
    aggregates = _Aggregates()


class _Problem(serializers.Serializer):
    error = serializers.CharField(help_text="not_json, not_a_list, too_large, too_many_events, busy")
    detail = serializers.CharField()
    limit = serializers.IntegerField(required=False)


class IngestKeyScheme(OpenApiAuthenticationExtension):
    """Describe the ingest key (``Authorization: Token <key>``, made by ``ingest_api_key``) in the schema."""

    target_class = "openedx_analytics.api.v1.key_auth.IngestKeyAuthentication"
    name = "ingestKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        """A header scheme with the ``Token`` prefix."""
        return build_bearer_security_scheme_object(header_name="AUTHORIZATION", token_prefix="Token")


class GatewayThrottle(BaseThrottle):
    """Requests per sending service at its own rate (the caller row's, else the gateway setting)."""

    def __init__(self) -> None:
        """No wait until a request is refused."""
        self.wait_seconds: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        """Count the request; False past the caller's rate."""
        caller = getattr(view, "caller", None)
        setting = conf.get("OPENEDX_ANALYTICS_GATEWAY_THROTTLE_RATE")
        rate = (caller.throttle_rate if caller is not None else "") or setting
        try:
            allowance = rate_limit.parse_rate(rate)
        except ValueError:
            log.error("openedx_analytics: cannot read gateway throttle rate %r; using the setting", rate)
            allowance = rate_limit.parse_rate(setting)
        self.wait_seconds = rate_limit.refused_at(THROTTLE_SCOPE, rate_limit.caller(request.user, request.META),
                                                  allowance)
        return self.wait_seconds is None

    def wait(self) -> float | None:
        """Seconds until the caller may send again (``Retry-After``)."""
        return self.wait_seconds


class MaySendEvents(BasePermission):
    """The ``send_learning_events`` permission and an enabled gateway caller row."""

    message = "This user may not send events: it needs the send_learning_events permission and a gateway caller."

    def has_permission(self, request: Request, view: Any) -> bool:
        """Whether the authenticated user is a permitted, enabled sender."""
        user = request.user
        return bool(getattr(view, "caller", None) is not None
                    and user.has_perm(f"openedx_analytics.{SEND_PERMISSION}"))


def _problem(code: int, error: str, detail: str, **extra: Any) -> Response:
    return Response({"error": error, "detail": detail, **extra}, status=code)


@extend_schema(
    summary="Send a batch of learning events (ingest gateway)",
    description=(
        "Stores each event the event registry accepts from this sender (its grants, organizations and "
        "courses), in order, inside the request; the aggregates show them within "
        "`aggregates.visible_within_seconds`. 200: all stored (now or before); 207: some rejected, the "
        "others stored; 422: nothing stored (all rejected, or atomic). 400 body not JSON or not a list; "
        "413 too large (the limit is in the body); 429 with Retry-After. See docs/gateway.md."),
    parameters=[OpenApiParameter("atomic", bool, description="true: all or nothing (one bad item stores none).")],
    request=_Item(many=True),
    responses={
        200: _Answer, 207: _Answer, 422: _Answer,
        400: OpenApiResponse(_Problem, description="Not JSON, or not a list."),
        413: OpenApiResponse(_Problem, description="Too many bytes or events; `limit` says how many are allowed."),
        429: OpenApiResponse(description="Too many requests; wait Retry-After seconds."),
        503: OpenApiResponse(_Problem, description="The database did not answer in time; send again."),
    },
    examples=[OpenApiExample("A video event", request_only=True, value=[{
        "id": "evt-1", "event_type": "play_video", "time": "2026-12-01T10:00:00Z",
        "context": {"course_id": "course-v1:Org+Num+Run", "user_id": 42},
        "event": {"id": "block-v1:Org+Num+Run+type@video+block@intro", "currentTime": 12.5}}])],
)
class EventsView(APIView):
    """Receives batches of learning events from other systems."""

    authentication_classes = (IngestKeyAuthentication, JwtAuthentication)
    permission_classes = (IsAuthenticated, MaySendEvents)
    throttle_classes = (GatewayThrottle,)
    renderer_classes = (JSONRenderer,)
    schema = AutoSchema()
    caller = None

    #: Whether this request was counted already (``check_permissions`` counts it, ``initial`` would again).
    throttle_checked = False

    def check_permissions(self, request: Request) -> None:
        """Find the caller, count the request at its rate, then check permissions: a refused caller is
        throttled like an accepted one."""
        if getattr(request.user, "is_authenticated", False):
            self.caller = gateway.caller_of(request.user)
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request: Request) -> None:
        """Count the request once (the first call, from ``check_permissions``)."""
        if self.throttle_checked:
            return
        self.throttle_checked = True
        super().check_throttles(request)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Check the body's size and shape, then store its items (``api.gateway.receive``)."""
        max_bytes = int(conf.get("OPENEDX_ANALYTICS_GATEWAY_MAX_BYTES"))
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > max_bytes:
            return _problem(413, "too_large", f"The body has {declared} bytes; at most {max_bytes} are read.",
                            limit=max_bytes)
        body = request._request.read(max_bytes + 1)
        if len(body) > max_bytes:
            return _problem(413, "too_large", f"The body is over {max_bytes} bytes.", limit=max_bytes)
        try:
            items = decode_json(body)
        except (ValueError, Rejected) as exc:
            return _problem(400, "not_json", f"The body is not JSON: {str(exc)[:200]}")
        if not isinstance(items, list):
            return _problem(400, "not_a_list", f"The body must be a JSON list of events, not a {_json_type(items)}.")
        max_events = int(conf.get("OPENEDX_ANALYTICS_GATEWAY_MAX_EVENTS"))
        if len(items) > max_events:
            return _problem(413, "too_many_events", f"The batch has {len(items)} events; at most {max_events}.",
                            limit=max_events)
        atomic = str(request.query_params.get("atomic", "")).lower() in _TRUE
        seconds = float(conf.get("OPENEDX_ANALYTICS_GATEWAY_DATABASE_SECONDS"))
        try:
            with time_limits.time_budget(seconds, writes=True):
                receipt = gateway.receive(self.caller, items, atomic=atomic)
        except (time_limits.TimeLimitExceeded, DatabaseError, InterfaceError) as exc:
            log.warning("openedx_analytics: a gateway batch of %s items from %s met a database error (%s)",
                        len(items), request.user, exc)
            response = _problem(503, "busy", "The database did not answer in time; send the batch again.")
            response["Retry-After"] = str(BUSY_RETRY_SECONDS)
            return response
        return Response(self._answer(request, receipt, len(items)), status=_status(receipt, len(items)))

    def _answer(self, request: Request, receipt: gateway.Receipt, received: int) -> dict[str, Any]:
        match = request.resolver_match
        namespace = f"{match.namespace}:" if match is not None and match.namespace else ""
        return {
            "stored": receipt.stored,
            "atomic": receipt.atomic,
            "received": received,
            "accepted": receipt.accepted,
            "duplicates": receipt.duplicates,
            "rejected": [error.as_dict() for error in receipt.rejected],
            "aggregates": {
                "visible_within_seconds": gateway.visible_within_seconds(),
                "courses": {course: request.build_absolute_uri(reverse(f"{namespace}course-summary",
                                                                       kwargs={"course_id": course}))
                            for course in receipt.courses},
            },
        }

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        """Nothing of an answer is cached anywhere."""
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response


def _status(receipt: gateway.Receipt, received: int) -> int:
    if not receipt.rejected:
        return status.HTTP_200_OK
    if not receipt.stored or len(receipt.rejected) == received:
        return status.HTTP_422_UNPROCESSABLE_ENTITY
    return status.HTTP_207_MULTI_STATUS


def _json_type(value: Any) -> str:
    return {dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), "null" if value is None else type(value).__name__)
