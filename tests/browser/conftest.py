"""The real-browser test's machinery: Debian's Chromium through Playwright, and the demo host.

``demo_host`` starts ``demo.sh`` itself (the README's demo command) on its own SQLite files
and a free port of ``OA_BROWSER_PORTS`` (default 8140-8199), seeded, and waits until it
prints its address; the test then drives Chromium (``/usr/bin/chromium``, or ``OA_CHROMIUM``)
against it. No browser is ever downloaded: ``playwright install`` is never run.

Without Chromium or Playwright the tests are skipped, except under ``CI=true`` where they
fail. Screenshots, downloads and the demo's output go to ``OA_TEST_OUTPUT`` (default
``test-output/``) under ``browser/``; the run prints the folder at its end.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
STARTUP_TIMEOUT = 240.0  # seeding on a busy two-core machine
OUTPUT = Path(os.environ.get("OA_TEST_OUTPUT") or ROOT / "test-output") / "browser"


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


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """This run's folder of screenshots, downloads and the demo's output (emptied first)."""
    shutil.rmtree(OUTPUT, ignore_errors=True)
    OUTPUT.mkdir(parents=True)
    return OUTPUT


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    executable = chromium_path()
    if executable is None:
        skip_or_fail("Chromium not installed (apt-get install chromium); real-browser test skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Playwright not installed (pip install -r requirements/test.txt); real-browser test skipped")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def demo_host(output_dir: Path) -> Iterator[DemoHost]:
    """The demo, started by demo.sh on a free port, seeded with 40 learners."""
    host = DemoHost(learners=40)
    try:
        host.wait_ready()
        yield host
    finally:
        server_log = host.data_dir / "server.log"
        if server_log.exists():
            shutil.copy(server_log, output_dir / "server.log")
        host.stop()
        (output_dir / "demo-output.txt").write_text(host.output + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are, when a browser test ran."""
    if OUTPUT.exists() and any(OUTPUT.glob("*.png")):
        terminalreporter.write_line(f"Browser test screenshots, downloads and the demo's output: {OUTPUT}")
