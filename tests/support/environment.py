"""Where the tests run: the repository root, CI or not, whether Redis answers, child processes' environment.

Live tests (real workers, real brokers, a real browser) skip when what they need is missing,
except under ``CI=true``, where they fail: CI must never pass by skipping the live path.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    """True under CI (``CI=true``), where a skipped live test is a failure."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def redis_unreachable(url: str) -> str | None:
    """Why the Redis at ``url`` cannot be used, or None when it answers PING."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return f"{type(exc).__name__}: {exc}"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip the test with ``reason``; under CI fail instead."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: live tests may not be skipped)")
    pytest.skip(reason)


def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_environment(**overrides: str) -> dict[str, str]:
    """This process's environment for a child process of the host (``test_settings``), the repository importable.

    ``overrides`` are applied last (e.g. ``OA_USE_TEST_DB_NAMES="1"`` to open the databases
    pytest-django created).
    """
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="test_settings",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.update(overrides)
    return env
