"""Run ``edx-analytics-data-api-client`` against the test host in process.

The client calls ``requests.get``/``requests.post`` on a base URL; ``django_transport``
swaps the transport of ``requests`` (its ``HTTPAdapter.send``) for Django's test client
for requests to ``http://testserver``, so everything the client does (building paths and
query strings, ``Accept`` and ``Authorization: Token`` headers, form-encoded POSTs,
status handling, JSON or CSV parsing) runs unchanged against the real views.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import requests
from django.test import Client
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

HOST = "http://testserver"
BASE_URL = f"{HOST}/api/analytics/insights/v1"


@contextmanager
def django_transport() -> Iterator[list[requests.PreparedRequest]]:
    """Within the block, ``requests`` to ``http://testserver`` reach the Django test host; yields the requests sent."""
    sent: list[requests.PreparedRequest] = []
    real_send = HTTPAdapter.send

    def send(adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if not request.url.startswith(HOST):
            return real_send(adapter, request, **kwargs)
        sent.append(request)
        parts = urlsplit(request.url)
        meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in request.headers.items()
                if name.lower() not in ("content-type", "content-length")}
        client = Client()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if request.method == "POST":
            django_response = client.generic("POST", path, data=request.body or b"",
                                             content_type=request.headers.get("Content-Type", ""), **meta)
        else:
            django_response = client.generic(request.method, path, **meta)
        response = requests.Response()
        response.status_code = django_response.status_code
        response.headers = CaseInsensitiveDict(dict(django_response.items()))
        response._content = (b"".join(django_response.streaming_content) if django_response.streaming
                             else django_response.content)
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    with mock.patch.object(HTTPAdapter, "send", send):
        yield sent
