"""JWTs are verified as the LMS verifies them: signed by the LMS's key or refused, claims grant nothing.

The test host holds a test-only RSA key pair (``test_settings.JWT_AUTH``): the public key set
verifies, the private key signs the good tokens here. Every forged token is a 401.
"""
import base64
import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from edx_rest_framework_extensions.auth.jwt.tests.utils import generate_latest_version_payload
from jwt.api_jwk import PyJWK
from rest_framework.test import APIClient

from tests.support.api import endpoints

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

ROOT = Path(__file__).resolve().parent.parent


def _lms_key() -> Any:
    return PyJWK.from_json(settings.JWT_AUTH["JWT_PRIVATE_SIGNING_JWK"]).key


def _payload(user: Any, **claims: Any) -> dict[str, Any]:
    return {**generate_latest_version_payload(user), **claims}


def _get(token: str, name: str = "summary") -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"JWT {token}")
    return client.get(endpoints()[name])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(payload: dict[str, Any]) -> str:
    """A token with ``alg: none`` and no signature."""
    return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(payload).encode())}."


def _hs256(payload: dict[str, Any], secret: str) -> str:
    """An HS256 token made by hand (PyJWT refuses some keys an attacker would try, e.g. a public key)."""
    signed = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signed}.{_b64(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())}"


def test_a_token_signed_with_the_lms_key_works(people, history_loaded, analytics_on):
    token = jwt.encode(_payload(people["course_staff"]), _lms_key(), algorithm="RS512")
    assert _get(token).status_code == 200
    assert _get(jwt.encode(_payload(people["course_staff"]), _lms_key(), algorithm="RS256")).status_code == 200


@pytest.mark.parametrize("forgery", [
    "another RSA key", "HS256 with a guessed secret", "HS256 with the Django secret key",
    "HS256 with the public key set as secret", "alg none",
])
def test_forged_tokens_are_401(people, history_loaded, analytics_on, forgery):
    payload = _payload(people["course_staff"])
    token = {
        "another RSA key": lambda: jwt.encode(
            payload, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS512"),
        "HS256 with a guessed secret": lambda: _hs256(payload, "secret"),
        "HS256 with the Django secret key": lambda: _hs256(payload, settings.SECRET_KEY),
        "HS256 with the public key set as secret": lambda: _hs256(
            payload, settings.JWT_AUTH["JWT_PUBLIC_SIGNING_JWK_SET"]),
        "alg none": lambda: _unsigned(payload),
    }[forgery]()
    for name in ("summary", "courses"):
        response = _get(token, name)
        assert response.status_code == 401, (forgery, name, response.content[:200])


@pytest.mark.parametrize("claims", [
    {"exp": int(time.time()) - 60},
    {"aud": "another-service"},
    {"iss": "https://evil.example.com/oauth2"},
    {"version": "2.0.0"},
])
def test_correctly_signed_but_invalid_tokens_are_401(people, history_loaded, analytics_on, claims):
    token = jwt.encode(_payload(people["course_staff"], **claims), _lms_key(), algorithm="RS512")
    assert _get(token).status_code == 401


def test_claims_grant_nothing(people, history_loaded, analytics_on):
    """An ``administrator`` claim does not make global staff, nor does a token rewrite the user."""
    learner = people["learner"]
    token = jwt.encode(_payload(learner, administrator=True, email="boss@example.com"), _lms_key(),
                       algorithm="RS512")
    assert _get(token).status_code == 403
    assert _get(token, "courses").json()["results"] == []
    learner.refresh_from_db()
    assert not learner.is_staff and learner.email == "l1@example.com"


def test_the_test_host_has_no_shared_secret():
    issuer, = settings.JWT_AUTH["JWT_ISSUERS"]
    assert not issuer["SECRET_KEY"] and not settings.JWT_AUTH["JWT_SECRET_KEY"]
    assert "d" not in json.loads(settings.JWT_AUTH["JWT_PUBLIC_SIGNING_JWK_SET"])["keys"][0]  # public half only


def test_the_demo_host_verifies_with_a_key_pair_kept_beside_its_data(tmp_path):
    """Two demo processes (the server, and a shell minting a token) share one test-only key, readable by its owner."""
    script = ("import django, json; django.setup(); from django.conf import settings; "
              "print(json.dumps(settings.JWT_AUTH))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "lms_host.settings_demo", "OA_SQLITE_DIR": str(tmp_path / "demo")}
    runs = [json.loads(subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True,
                                      capture_output=True, text=True, timeout=120).stdout) for _ in range(2)]
    assert runs[0] == runs[1]
    assert runs[0]["JWT_PUBLIC_SIGNING_JWK_SET"] and not runs[0]["JWT_ISSUERS"][0]["SECRET_KEY"]
    key_file = tmp_path / "demo" / "jwt-signing-key.test-only.json"
    assert key_file.read_text() == runs[0]["JWT_PRIVATE_SIGNING_JWK"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
