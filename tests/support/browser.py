"""The demo host served by ``demo.sh`` for the real-browser tests, where Chromium is, and a person's tab on it.

``DemoHost`` starts ``demo.sh`` itself (the README's demo command) on its own SQLite files
and a free port of ``OA_BROWSER_PORTS`` (default 8140-8199), seeded, and waits until it
prints its address. ``chromium_path`` finds Debian's Chromium (``/usr/bin/chromium``, or
``OA_CHROMIUM``); no browser is ever downloaded. Screenshots, downloads and the demo's
output go to ``OUTPUT``: ``OA_TEST_OUTPUT`` (default ``test-output/``) under ``browser/``.
``Session`` is one person's browser tab on the demo, with the REST API in the same session.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.environment import ROOT

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
STARTUP_TIMEOUT = 240.0  # seeding on a busy two-core machine
OUTPUT = Path(os.environ.get("OA_TEST_OUTPUT") or ROOT / "test-output") / "browser"
API = "api/analytics/v1/courses/"


def chromium_path() -> str | None:
    """Debian's Chromium (or ``OA_CHROMIUM``), if installed."""
    candidate = os.environ.get("OA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return candidate if os.access(candidate, os.X_OK) else None


def free_port() -> int:
    """A port of ``OA_BROWSER_PORTS`` (``first-last``) that nobody listens on."""
    first, last = (int(part) for part in os.environ.get("OA_BROWSER_PORTS", "8140-8199").split("-"))
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


class DemoHost:
    """``demo.sh`` running as a real server: its base URL and everything it printed."""

    def __init__(self, learners: int) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="oa-browser-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.lines: list[str] = []
        env = {**os.environ, "DEMO_PYTHON": sys.executable, "OA_SQLITE_DIR": str(self.data_dir),
               "PYTHONUNBUFFERED": "1"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.process = subprocess.Popen(
            ["bash", str(ROOT / "demo.sh"), "--fresh", "--port", str(self.port), "--learners", str(learners)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        """What ``demo.sh`` printed so far."""
        return "\n".join(self.lines)

    def wait_ready(self) -> None:
        """Wait until the demo printed its address and the list of accounts."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if any(line.startswith(f"Open {self.url}") for line in self.lines) and self.lines[-1].startswith("  admin"):
                return
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                raise RuntimeError(f"demo.sh exited with {self.process.returncode}:\n{self.output}")
            time.sleep(0.2)
        raise RuntimeError(f"demo.sh did not serve within {STARTUP_TIMEOUT}s:\n{self.output}")

    def stop(self) -> None:
        """Stop demo.sh and its server (their own process group), and remove the databases."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)  # the pipe ends with the process group; then close our end
        if self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class Session:
    """One person's browser tab on the demo, with what went wrong on the way (errors, failed requests).

    ``context_options`` go to Playwright's ``new_context`` (a test that needs more than a
    person's browser, such as the accessibility scan's ``bypass_csp``, says so there).
    """

    def __init__(self, browser: Any, base_url: str, output_dir: Path, **context_options: Any) -> None:
        self.base_url = base_url
        self.output_dir = output_dir
        self.context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900},
                                           accept_downloads=True, **context_options)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("response", self._response)
        self.expected_status: set[str] = set()

    def _console(self, message: Any) -> None:
        if message.type == "error" and message.location.get("url") not in self.expected_status:
            self.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.url not in self.expected_status:
            self.problems.append(f"{response.status} {response.url}")

    def log_in(self, username: str) -> None:
        """Through the login page, as a person does (the password is the user name)."""
        self.page.goto("/")
        assert "/accounts/login/" in self.page.url
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", username)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base_url)
        assert self.page.inner_text(".host-user") == f"Logged in as {username}"

    def api(self, path: str) -> Any:
        """The REST API's JSON for this user (the browser's own session)."""
        response = self.context.request.get(self.base_url + API + path)
        assert response.ok, f"{path}: {response.status} {response.text()[:200]}"
        return response.json()

    def shot(self, name: str, full_page: bool = False) -> None:
        """A screenshot into this run's output folder."""
        self.page.screenshot(path=str(self.output_dir / f"{name}.png"), full_page=full_page)

    def close(self) -> None:
        """Close the tab; nothing may have failed that was not expected."""
        self.context.close()
        assert not self.problems, self.problems
