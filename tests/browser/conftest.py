"""The real-browser test's fixtures: Debian's Chromium through Playwright, and the demo host.

``demo_host`` starts ``demo.sh`` itself (the README's demo command) on its own SQLite files
and a free port of ``OA_BROWSER_PORTS`` (default 8140-8199), seeded, and waits until it
prints its address; the test then drives Chromium (``/usr/bin/chromium``, or ``OA_CHROMIUM``)
against it. No browser is ever downloaded: ``playwright install`` is never run. The
machinery (``DemoHost``, ``chromium_path``) is in ``tests.support.browser``.

Without Chromium or Playwright the tests are skipped, except under ``CI=true`` where they
fail. Screenshots, downloads and the demo's output go to ``OA_TEST_OUTPUT`` (default
``test-output/``) under ``browser/``; the run prints the folder at its end.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM_ARGS, OUTPUT, DemoHost, chromium_path
from tests.support.environment import skip_or_fail


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
