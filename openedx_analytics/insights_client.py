"""The old Insights data API (edx-analytics-data-api v0), read server-side for the tab's "Insights numbers".

An outside service, like the LMS: it sits beside the LMS seam, below everything that shows
or compares figures, and nothing in it touches our tables. Where it answers is operator
configuration (``InsightsDataApiConfiguration``: base URL and token, in the admin). Every
read has a connect and a read timeout (``OPENEDX_ANALYTICS_INSIGHTS_API_TIMEOUT``); the
reads of one page go out together and the page waits for them at most that long, so a hung
API costs a page one timeout, never one per panel. A failure marks the API down for a short
while (``DOWN_SECONDS``) so the next pages do not wait again, and every answer is cached
briefly (``OPENEDX_ANALYTICS_INSIGHTS_API_CACHE_SECONDS``): the old numbers are frozen
anyway once the pipeline is off.

``requests`` rather than the official ``edx-analytics-data-api-client``: the paths and
shapes read here are few and fixed, ``requests`` is already in every LMS, and the client
would be one more runtime dependency for a feature meant to be switched off after a
migration.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests
from django.core.cache import cache

from openedx_analytics import conf
from openedx_analytics.models import InsightsDataApiConfiguration

log = logging.getLogger(__name__)

#: After a failure, the API is not asked again for this long (pages show the "down" message at once).
DOWN_SECONDS = 30
#: Reads of one page that run at once.
WORKERS = 4
#: When a series is asked for without dates, it starts here (the API answers only the latest day without one).
EARLIEST = dt.date(2012, 1, 1)

#: The v0 course endpoints the tab reads, by name: path under ``courses/{course_id}/`` and whether it takes dates.
ENDPOINTS: dict[str, tuple[str, bool]] = {
    "enrollment": ("enrollment/", True),
    "enrollment_mode": ("enrollment/mode/", True),
    "activity": ("activity/", True),
    "videos": ("videos/", False),
    "problems": ("problems/", False),
    "birth_year": ("enrollment/birth_year/", False),
    "education": ("enrollment/education/", False),
    "gender": ("enrollment/gender/", False),
    "location": ("enrollment/location/", False),
}


class Unavailable(Exception):
    """The old API did not answer usefully (down, slow, refused the token, answered garbage)."""


@dataclass(frozen=True)
class Source:
    """Where the old API answers and the token it wants."""

    base_url: str
    token: str


def configured() -> Source | None:
    """The old API the operator configured (the current enabled row with a URL), or None.

    Read from the default database (ConfigurationModels cache their current row); a table
    not migrated yet or a database error reads as "not configured", never as a broken page.
    """
    try:
        row = InsightsDataApiConfiguration.current()
    except Exception:  # noqa: BLE001 - no configuration readable means no old API, not a broken tab
        log.exception("openedx_analytics: could not read the Insights data API configuration")
        return None
    if not row.enabled or not row.base_url:
        return None
    return Source(row.base_url.rstrip("/"), row.auth_token)


def timeouts() -> tuple[float, float]:
    """(connect, read) seconds for one read of the old API, from the setting (a number means both)."""
    value = conf.get("OPENEDX_ANALYTICS_INSIGHTS_API_TIMEOUT")
    if isinstance(value, (int, float)):
        return float(value), float(value)
    connect, read = value
    return float(connect), float(read)


def _url(source: Source, course_id: str, name: str, start: dt.date | None, end: dt.date | None) -> str:
    path, dated = ENDPOINTS[name]
    url = f"{source.base_url}/courses/{quote(course_id, safe=':+@/')}/{path}"
    if dated:
        first = start or EARLIEST
        last = end or (dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1))
        url += "?" + urlencode({"start_date": first.isoformat(), "end_date": last.isoformat()})
    return url


def _key(*parts: str) -> str:
    return "openedx_analytics.insights." + hashlib.sha256(repr(parts).encode()).hexdigest()


def _get(source: Source, url: str, limits: tuple[float, float]) -> list[dict[str, Any]]:
    """One read: the list the API answers, [] for its 404 (it answers 404 when it holds no rows)."""
    headers = {"Accept": "application/json"}
    if source.token:
        headers["Authorization"] = f"Token {source.token}"
    try:
        response = requests.get(url, headers=headers, timeout=limits, allow_redirects=False)
    except requests.RequestException as error:
        raise Unavailable(type(error).__name__) from None
    if response.status_code == 404:
        return []
    if response.status_code != 200:
        raise Unavailable(f"HTTP {response.status_code}")
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError):
        raise Unavailable("not JSON") from None
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise Unavailable("not a list of rows")
    return data


def fetch(source: Source, course_id: str, names: list[str], start: dt.date | None = None,
          end: dt.date | None = None) -> dict[str, list[dict[str, Any]]]:
    """The rows of each course endpoint in ``names`` (``ENDPOINTS``) for one course, read together (``fetch_urls``)."""
    return fetch_urls(source, {name: _url(source, course_id, name, start, end) for name in names})


def resource_url(source: Source, kind: str, item_id: str, what: str) -> str:
    """An item's resource: ``videos/{pipeline_video_id}/timeline/``, ``problems/{id}/answer_distribution/``."""
    return f"{source.base_url}/{kind}/{quote(item_id, safe=':+@|')}/{what}/"


def fetch_urls(source: Source, urls: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The rows each URL of ``urls`` answers (by name), read together within one timeout.

    Cached answers are used first; the rest are read at once, and the caller waits at most
    connect + read timeout for all of them. Raises ``Unavailable`` (with a short reason) when
    the API is marked down or any read fails, and then marks it down for ``DOWN_SECONDS``.
    """
    down_key = _key("down", source.base_url)
    if cache.get(down_key):
        raise Unavailable("marked down after a recent failure")
    seconds = int(conf.get("OPENEDX_ANALYTICS_INSIGHTS_API_CACHE_SECONDS") or 0)
    found: dict[str, list[dict[str, Any]]] = {}
    for name, url in urls.items():
        cached = cache.get(_key(source.base_url, source.token, url)) if seconds > 0 else None
        if cached is not None:
            found[name] = cached
    missing = [name for name in urls if name not in found]
    if not missing:
        return found
    limits = timeouts()
    executor = ThreadPoolExecutor(max_workers=min(WORKERS, len(missing)), thread_name_prefix="oa-insights")
    try:
        futures = {name: executor.submit(_get, source, urls[name], limits) for name in missing}
        done, _pending = wait_for(futures.values(), timeout=sum(limits) + 0.5)
        for name, future in futures.items():
            if future not in done:
                raise Unavailable("timed out")
            found[name] = future.result()  # raises Unavailable for a failed read
    except Unavailable as error:
        log.warning("openedx_analytics: the Insights data API at %s did not answer (%s)", source.base_url, error)
        cache.set(down_key, True, DOWN_SECONDS)
        raise
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    if seconds > 0:
        for name in missing:
            cache.set(_key(source.base_url, source.token, urls[name]), found[name], seconds)
    return found


def parse_date(text: Any) -> dt.date | None:
    """A date of the API (``2014-12-01``, or its timestamps ``2014-12-01T000000``), None when unreadable."""
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_time(text: Any) -> dt.datetime | None:
    """A timestamp of the API (``%Y-%m-%dT%H%M%S``, UTC), None when unreadable."""
    if not isinstance(text, str):
        return None
    for form in ("%Y-%m-%dT%H%M%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, form).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None


def number(value: Any) -> int:
    """A count of the API as an int (0 for anything that is not a count: the API is outside our control)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0
