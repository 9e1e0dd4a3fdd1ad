"""Service keys: issued once and stored hashed, one live key per user and scope, refused across scopes.

Driven as an operator and a caller meet them: the management command prints the key, a DRF
view guarded by the scope's authentication class accepts it (or answers 401 with
``WWW-Authenticate: Token``), and the database never holds the key itself.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from openedx_analytics import service_keys
from openedx_analytics.api.v1.key_auth import IngestKeyAuthentication, InsightsKeyAuthentication
from openedx_analytics.models import ServiceKey

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


class InsightsView(APIView):
    authentication_classes = (InsightsKeyAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({"user": request.user.username})


class IngestView(InsightsView):
    authentication_classes = (IngestKeyAuthentication,)


def call(view, header: str | None):
    request = APIRequestFactory().get("/x", **({"HTTP_AUTHORIZATION": header} if header else {}))
    response = view.as_view()(request)
    response.render()
    return response


def token_command(*args: str) -> str:
    out = io.StringIO()
    call_command("insights_api_token", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def service_user() -> User:
    return User.objects.create_user("insights_worker", "w@example.com", "x")


def test_the_command_prints_the_key_last_and_it_authenticates(service_user):
    key = token_command("insights_worker").strip().splitlines()[-1]
    response = call(InsightsView, f"Token {key}")
    assert response.status_code == 200 and response.data == {"user": "insights_worker"}
    stored = ServiceKey.objects.get(user=service_user)
    assert stored.scope == "insights" and stored.prefix == key[:8]
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in stored.key_hash


def test_issuing_again_rotates_and_revoke_removes(service_user):
    first = token_command("insights_worker").splitlines()[-1]
    second = token_command("insights_worker").splitlines()[-1]
    assert first != second
    assert call(InsightsView, f"Token {first}").status_code == 401
    assert call(InsightsView, f"Token {second}").status_code == 200
    assert ServiceKey.objects.filter(user=service_user).count() == 1
    assert "revoked" in token_command("insights_worker", "--revoke")
    assert call(InsightsView, f"Token {second}").status_code == 401
    assert "had no" in token_command("insights_worker", "--revoke")


def test_an_unknown_user_is_a_command_error(db):
    with pytest.raises(CommandError, match="No user"):
        token_command("nobody")


@pytest.mark.parametrize("header", ["Token wrong", "Token", "Token a b", "Token " + "x" * 500, "token  "])
def test_a_bad_key_is_401_asking_for_a_token(service_user, header):
    service_keys.issue_key(service_user, "insights")
    response = call(InsightsView, header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_key_with_the_right_prefix_and_a_wrong_rest_is_refused(service_user):
    key = service_keys.issue_key(service_user, "insights")
    assert call(InsightsView, f"Token {key[:8]}{'A' * (len(key) - 8)}").status_code == 401


def test_no_token_header_leaves_the_request_anonymous(service_user):
    assert call(InsightsView, None).status_code == 401
    assert call(InsightsView, "Bearer abc").status_code == 401


def test_a_key_opens_only_its_own_scope(service_user):
    insights = service_keys.issue_key(service_user, "insights")
    ingest = service_keys.issue_key(service_user, "ingest")
    assert call(InsightsView, f"Token {insights}").status_code == 200
    assert call(IngestView, f"Token {ingest}").status_code == 200
    assert call(IngestView, f"Token {insights}").status_code == 401
    assert call(InsightsView, f"Token {ingest}").status_code == 401
    assert service_keys.revoke_keys(service_user, "ingest") == 1
    assert call(InsightsView, f"Token {insights}").status_code == 200


def test_an_inactive_user_key_is_refused(service_user):
    key = service_keys.issue_key(service_user, "insights")
    service_user.is_active = False
    service_user.save()
    assert call(InsightsView, f"Token {key}").status_code == 401


def test_an_unknown_scope_is_a_programming_error(service_user):
    with pytest.raises(ValueError):
        service_keys.issue_key(service_user, "admin")


def test_use_is_logged_without_the_key_and_last_used_is_stamped_once_a_minute(service_user, caplog):
    key = service_keys.issue_key(service_user, "insights")
    with caplog.at_level(logging.INFO, logger="openedx_analytics.service_keys"):
        assert call(InsightsView, f"Token {key}").status_code == 200
    assert any("insights_worker" in r.getMessage() and "insights" in r.getMessage() for r in caplog.records)
    assert all(key not in r.getMessage() and key[:8] not in r.getMessage() for r in caplog.records)
    first = ServiceKey.objects.get().last_used
    assert first is not None
    call(InsightsView, f"Token {key}")
    assert ServiceKey.objects.get().last_used == first
    ServiceKey.objects.update(last_used=timezone.now() - dt.timedelta(minutes=2))
    call(InsightsView, f"Token {key}")
    assert ServiceKey.objects.get().last_used > first


def test_the_key_lives_in_the_default_database(service_user):
    from openedx_analytics.router import is_analytics_model
    assert not is_analytics_model(ServiceKey)
