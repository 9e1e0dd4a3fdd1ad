"""A backfill process killed with SIGKILL mid-file, then rerun, ends exactly where one clean run ends."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.harness.tracking_log import COURSES
from openedx_analytics import conf
from openedx_analytics.models import BackfillCheckpoint
from tests.support.analytics import wipe
from tests.support.environment import ROOT, child_environment
from tests.support.lms import lms_knows
from tests.support.snapshots import snapshot

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])

LINES = 40_000


def backfill_process(log: Path) -> subprocess.Popen:
    """``backfill_analytics`` in its own process, on the databases this test uses."""
    env = child_environment(OA_USE_TEST_DB_NAMES="1")
    return subprocess.Popen(
        [sys.executable, "-m", "django", "backfill_analytics", "--skip-checks", "--no-progress",
         "--batch-size", "2000", "--tracking-logs", str(log)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def checkpointed_line() -> int:
    checkpoint = BackfillCheckpoint.objects.using(conf.analytics_db()).first()
    if checkpoint is None:
        return 0
    return max((position.get("line", 0) for position in checkpoint.position.values()), default=0)


def test_sigkill_mid_file_then_rerun_equals_one_clean_run(tmp_path):
    lms_knows(*COURSES)  # the generated log's courses, as the LMS has them
    log = tmp_path / "tracking.log"
    subprocess.run([sys.executable, "-m", "bench.generate_tracking_log", str(LINES), str(log)],
                   cwd=ROOT, check=True, capture_output=True)
    clean = backfill_process(log)
    output, _ = clean.communicate(timeout=600)
    assert clean.returncode == 0, output
    expected = snapshot(COURSES)
    assert any(course["enrollment"] for course in expected.values())
    wipe()

    doomed = backfill_process(log)
    deadline = time.monotonic() + 300
    while checkpointed_line() < LINES // 4:
        assert doomed.poll() is None, "the backfill finished before it could be killed"
        assert time.monotonic() < deadline, "no checkpoint progress"
        time.sleep(0.05)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    doomed.stdout.close()
    killed_at = checkpointed_line()
    assert LINES // 4 <= killed_at < LINES

    rerun = backfill_process(log)
    output, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, output
    assert "Resumed from the checkpoint" in output
    assert snapshot(COURSES) == expected
