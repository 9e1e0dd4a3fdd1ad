"""Backfills running at the same time: lost lock races are retried, and one checkpoint has one runner.

The concurrent runs are real ``backfill_analytics`` processes on the test databases; on
MariaDB (run-tests.sh's second pass) their overlapping inserts deadlock (error 1213)
unless the batch write retries.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.db import OperationalError, connections
from django.utils import timezone

from openedx_analytics import conf
from openedx_analytics.backfill.checkpoints import STALE_SECONDS, Checkpoint, run_key
from openedx_analytics.backfill.runner import Options
from openedx_analytics.db import errors, retry
from openedx_analytics.models import BackfillCheckpoint
from openedx_analytics.pipeline import ingest
from tests.support.commands import backfill
from tests.support.environment import ROOT, child_environment
from tests.support.lms import lms_knows
from tests.support.logs import COURSES, SampleLog
from tests.support.snapshots import assert_matches_log

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(*COURSES)

RUN_TIMEOUT = 300
#: Times each overlapping log holds its lines, so the runs' writes overlap in time for several seconds.
REPEATS = 8


def start_backfill(*args: str, log_path: Path) -> subprocess.Popen:
    """A ``backfill_analytics`` process of its own on the test databases."""
    env = child_environment(OA_USE_TEST_DB_NAMES="1", OA_CELERY_EAGER="1")
    with open(log_path, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "django", "backfill_analytics", *args, "--no-progress"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@pytest.mark.skipif(connections["analytics"].vendor != "mysql",
                    reason="concurrent writers need MariaDB row locks; SQLite locks the whole file")
def test_concurrent_backfills_over_overlapping_logs_give_the_right_numbers(tmp_path):
    log = SampleLog()
    lines = log.lines()
    cut = len(lines) // 4
    # Overlapping logs (a rotated log read twice, two hosts' logs with shared lines...), each
    # in its own order, so the two runs insert the same facts in different orders.
    parts = {"first": lines[: 3 * cut], "second": lines[cut:], "third": lines[:]}
    paths = []
    for seed, (name, part) in enumerate(parts.items()):
        part = list(part) * REPEATS  # re-delivered lines: more writes racing for the same rows
        random.Random(seed).shuffle(part)
        paths.append(tmp_path / f"{name}.log")
        paths[-1].write_text("\n".join(part) + "\n")
    runs = [start_backfill("--tracking-logs", str(path), "--batch-size", "500", log_path=path.with_suffix(".out"))
            for path in paths]
    for process in runs:
        process.wait(timeout=RUN_TIMEOUT)
    outputs = [path.with_suffix(".out").read_text() for path in paths]
    assert [process.returncode for process in runs] == [0] * len(runs), "\n\n".join(outputs)
    assert_matches_log(log)


def test_a_second_run_of_the_same_command_says_who_holds_the_checkpoint(tmp_path):
    path = SampleLog().write(tmp_path / "tracking.log")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        options = Options(inputs=[str(path)])
        Checkpoint(options.arguments())  # the row the first run created
        since = timezone.now().replace(microsecond=0)
        BackfillCheckpoint.objects.using(conf.analytics_db()).filter(run_key=run_key(options.arguments())).update(
            holder_host=socket.gethostname(), holder_pid=holder.pid, held_since=since, heartbeat=timezone.now())
        with pytest.raises(CommandError) as error:
            backfill("--tracking-logs", str(path))
        message = str(error.value)
        assert f"host {socket.gethostname()}, pid {holder.pid}, since {since:%Y-%m-%d %H:%M:%S}" in message
        row = BackfillCheckpoint.objects.using(conf.analytics_db()).get()
        assert row.position == {} and not row.finished and row.holder_pid == holder.pid  # untouched

        with pytest.raises(CommandError, match=f"pid {holder.pid}"):
            backfill("--tracking-logs", str(path), "--restart")  # nor may a restart take it
    finally:
        holder.kill()
        holder.wait()
    # The holder is gone (as after a SIGKILL): the next run takes the checkpoint over and finishes.
    output = backfill("--tracking-logs", str(path))
    assert "Lines read" in output
    row = BackfillCheckpoint.objects.using(conf.analytics_db()).get()
    assert row.finished and row.holder_pid is None and row.holder_host == ""


def test_a_holder_on_another_host_is_trusted_until_its_heartbeat_goes_stale(tmp_path):
    path = SampleLog().write(tmp_path / "tracking.log")
    options = Options(inputs=[str(path)])
    Checkpoint(options.arguments())
    rows = BackfillCheckpoint.objects.using(conf.analytics_db())
    rows.update(holder_host="worker-7.example", holder_pid=4242, held_since=timezone.now(), heartbeat=timezone.now())
    with pytest.raises(CommandError, match="host worker-7.example, pid 4242"):
        backfill("--tracking-logs", str(path))
    rows.update(heartbeat=timezone.now() - dt.timedelta(seconds=STALE_SECONDS + 5))
    backfill("--tracking-logs", str(path))
    assert rows.get().finished


def test_a_deadlocked_batch_write_is_retried_and_the_run_finishes(tmp_path, monkeypatch):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    real_write = ingest.write_facts
    calls = {"n": 0}

    def deadlocking_write(records, **kwargs):
        calls["n"] += 1
        if calls["n"] in (2, 3):  # the same batch loses twice, as a deadlock victim is rolled back
            raise OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")
        return real_write(records, **kwargs)

    monkeypatch.setattr(ingest, "write_facts", deadlocking_write)
    monkeypatch.setattr(retry, "FIRST_DELAY", 0.001)
    output = backfill("--tracking-logs", str(path), "--batch-size", "100")
    assert "Lines read" in output and calls["n"] > 4
    assert_matches_log(log)


def test_retries_are_bounded_and_only_for_lost_lock_races():
    slept: list[float] = []
    attempts = {"n": 0}

    def always_deadlocked():
        attempts["n"] += 1
        raise OperationalError(1213, "Deadlock found")

    with pytest.raises(OperationalError):
        retry.retry_lock_races(always_deadlocked, sleep=slept.append)
    assert attempts["n"] == retry.ATTEMPTS and len(slept) == retry.ATTEMPTS - 1
    assert slept[-1] > slept[0] and max(slept) <= retry.MAX_DELAY * 1.5  # growing, capped backoff

    attempts["n"] = 0

    def broken():
        attempts["n"] += 1
        raise OperationalError(1054, "Unknown column")

    with pytest.raises(OperationalError):
        retry.retry_lock_races(broken, sleep=slept.append)
    assert attempts["n"] == 1
    assert errors.lost_lock_race(OperationalError(1205, "Lock wait timeout exceeded"))
    assert errors.lost_lock_race(OperationalError("database is locked"))
    assert not errors.lost_lock_race(ValueError("1213"))


def test_the_heartbeat_keeps_the_lease_fresh(tmp_path, monkeypatch):
    from openedx_analytics.backfill import checkpoints

    monkeypatch.setattr(checkpoints, "HEARTBEAT_SECONDS", 0.05)
    checkpoint = Checkpoint({"inputs": [str(tmp_path / "x.log")]})
    checkpoint.hold()
    try:
        row = BackfillCheckpoint.objects.using(conf.analytics_db()).get()
        first = row.heartbeat
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and row.heartbeat == first:
            time.sleep(0.1)
            row.refresh_from_db()
        assert row.heartbeat > first and row.holder_pid == os.getpid()
    finally:
        checkpoint.release()
    row.refresh_from_db()
    assert row.holder_pid is None and row.heartbeat is None
