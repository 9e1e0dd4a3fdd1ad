"""backfill_analytics over tracking logs: numbers equal to an independent count and to the live path.

The log is small and deterministic; the expected figures are counted here directly from
the events the test wrote (``tests.support.logs.SampleLog``), with no code of the plugin involved.
"""
from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import re

import pytest
from django.core.management.base import CommandError

from openedx_analytics import api, conf
from openedx_analytics.models import BackfillCheckpoint, EnrollmentFact, RejectionCount
from openedx_analytics.pipeline import ingest as ingest_module
from openedx_analytics.worker.tasks import process_event_batch
from tests.support.analytics import analytics_rows, wipe
from tests.support.commands import backfill
from tests.support.lms import lms_knows
from tests.support.logs import ALPHA, BETA, COURSES, GAMMA, SampleLog, at
from tests.support.snapshots import assert_matches_log, snapshot

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


@pytest.fixture(autouse=True)
def courses_in_the_lms() -> None:
    """The LMS knows the courses these tests send events of (the ingest stores no other)."""
    lms_knows(*COURSES)


def test_backfill_equals_independent_count_and_live_path(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    output = backfill("--tracking-logs", str(path))
    assert "Rejected: 0" in output, output
    assert_matches_log(log)
    backfilled = snapshot()
    assert backfilled[ALPHA]["videos"] and backfilled[BETA]["problems"]

    # The same events sent live give the same numbers.
    wipe()
    events = [json.loads(text[text.index("{"):]) for text in log.lines() if "{" in text]
    for start in range(0, len(events), 50):
        process_event_batch.delay(events[start:start + 50], "live")
    assert snapshot() == backfilled


def test_second_backfill_changes_nothing(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    backfill("--tracking-logs", str(path))
    first, rows = snapshot(), analytics_rows()
    assert "already finished" in backfill("--tracking-logs", str(path))
    output = backfill("--tracking-logs", str(path), "--restart")
    assert "Events accepted" in output
    assert snapshot() == first
    after = analytics_rows()
    assert {k: v for k, v in after.items() if k != "ScopeLock"} == {k: v for k, v in rows.items() if k != "ScopeLock"}


def test_live_then_backfill_over_the_same_window_changes_nothing(tmp_path):
    log = SampleLog()
    events = [json.loads(text[text.index("{"):]) for text in log.lines() if "{" in text]
    process_event_batch.delay(events, "live")
    live = snapshot()
    backfill("--tracking-logs", str(log.write(tmp_path / "tracking.log")))
    assert snapshot() == live


def test_garbage_log_gives_exact_summary_and_correct_numbers(tmp_path):
    log = SampleLog()
    good = log.lines(noise=False)
    truncated = good[5][: len(good[5]) // 2]
    garbage = [
        truncated,  # truncated
        "\x00\x01\x02binary\x03\x04\x05 garbage",  # binary
        "not json at all",  # bad_json
        '{"event_type": "play_video", "time": "2026-01-06T10:00:00+00:00", '
        '"context": {"user_id": "someone", "course_id": "' + ALPHA + '"}, "event": {"id": "v"}}',  # wrong type
        '{"event_type": "edx.course.enrollment.activated", "time": "yesterday", "context": {}, "event": {}}',
        '{"event_type": "some.unknown.event", "time": "2026-01-06T10:00:00+00:00", "context": {}, "event": {}}',
        '{"event_type": "play_video", "time": "2026-01-06T10:00:00+00:00", "event": 17, '
        '"context": {"user_id": 3, "course_id": "' + ALPHA + '"}}',  # payload of the wrong type
        "   ",
        "# a comment {with braces}",
    ]
    path = tmp_path / "garbage.log"
    path.write_bytes(("\n".join(good + garbage) + "\n").encode() + b"\xff\xfe\xfa{\"bad\": \xff}\n")
    output = backfill("--tracking-logs", str(path))
    expected = {"truncated": 1, "binary": 2, "bad_json": 1, "bad_user_id": 1, "bad_time": 1,
                "untracked_event": 1, "wrong_type": 1}
    for reason, count in expected.items():
        assert f"  {reason}: {count}\n" in output, (reason, output)
    assert f"Rejected: {sum(expected.values())}\n" in output
    assert f"Lines read: {len(good) + len(garbage) + 1:,} (blank or comment: 4)" in output
    assert f"garbage.log:{len(good) + 1}: line ends inside the JSON object" in output
    counts = dict(RejectionCount.objects.using(conf.analytics_db()).filter(source="backfill")
                  .values_list("reason", "count"))
    assert counts == expected
    assert_matches_log(log)


def test_dry_run_writes_nothing_and_says_what_would_change(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log", extra=["garbage"])
    output = backfill("--tracking-logs", str(path), "--dry-run")
    assert set(analytics_rows().values()) == {0}
    enrolments_alpha = sum(1 for c, *_ in log.enrollments if c == ALPHA)
    # duplicated lines are records again, but not new facts
    match = re.search(rf"{re.escape(ALPHA)} enrollment: (\d+) / (\d+) new", output)
    assert match and int(match.group(1)) >= enrolments_alpha and int(match.group(2)) == enrolments_alpha, output
    assert "bad_json: 1" in output and "Dry run: nothing was written" in output
    # After a real run, a dry run finds nothing new.
    backfill("--tracking-logs", str(path))
    output = backfill("--tracking-logs", str(path), "--dry-run")
    assert re.search(rf"{re.escape(ALPHA)} enrollment: \d+ / 0 new\n", output), output


def test_scope_flags_keep_exactly_the_scoped_events(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    output = backfill("--tracking-logs", str(path), "--course", BETA)
    assert "out of scope" in output
    assert api.get_enrollment(ALPHA) == [] and api.get_enrollment(GAMMA) == []
    assert_matches_log(log, courses=[BETA])

    wipe()
    backfill("--tracking-logs", str(path), "--org", "OtherU")
    assert api.get_enrollment(ALPHA) == [] and api.get_enrollment(BETA) == []
    assert_matches_log(log, courses=[GAMMA])

    wipe()
    backfill("--tracking-logs", str(path), "--since", "2026-01-12", "--until", "2026-01-19")
    weeks = {row["interval_start"] for row in api.get_activity(ALPHA)}
    assert weeks == {dt.date(2026, 1, 12)}
    assert api.get_activity(ALPHA)[0]["any"] == log.weekly_activity(ALPHA)[dt.date(2026, 1, 12)]["any"]
    first_fact = EnrollmentFact.objects.using(conf.analytics_db()).order_by("time").first()
    assert first_fact.time >= at(7, 0)
    assert not EnrollmentFact.objects.using(conf.analytics_db()).filter(time__gte=at(14, 0)).exists()


def test_interrupted_backfill_resumes_to_the_same_result(tmp_path, monkeypatch):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    backfill("--tracking-logs", str(path), "--batch-size", "40")
    uninterrupted = snapshot()
    wipe()

    real_write = ingest_module.write_facts
    calls = {"n": 0}

    def dying_write(records, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("killed mid-file")
        return real_write(records, **kwargs)

    monkeypatch.setattr(ingest_module, "write_facts", dying_write)
    with pytest.raises(KeyboardInterrupt):
        backfill("--tracking-logs", str(path), "--batch-size", "40")
    checkpoint = BackfillCheckpoint.objects.using(conf.analytics_db()).get()
    (position,) = checkpoint.position.values()
    assert not checkpoint.finished and not position["done"] and position["line"] > 0
    assert position["offset"] == len("\n".join(path.read_text().split("\n")[: position["line"]])) + 1

    monkeypatch.setattr(ingest_module, "write_facts", real_write)
    output = backfill("--tracking-logs", str(path), "--batch-size", "40")
    assert "Resumed from the checkpoint" in output
    total_lines = len(path.read_text().splitlines())
    assert f"Lines read: {total_lines - position['line']:,}" in output
    assert snapshot() == uninterrupted
    assert BackfillCheckpoint.objects.using(conf.analytics_db()).get().finished


def test_interrupted_gzip_backfill_resumes_by_line(tmp_path, monkeypatch):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log.gz", gz=True)
    real_write = ingest_module.write_facts
    calls = {"n": 0}

    def dying_write(records, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker lost")
        return real_write(records, **kwargs)

    monkeypatch.setattr(ingest_module, "write_facts", dying_write)
    with pytest.raises(RuntimeError):
        backfill("--tracking-logs", str(path), "--batch-size", "50")
    monkeypatch.setattr(ingest_module, "write_facts", real_write)
    backfill("--tracking-logs", str(path), "--batch-size", "50")
    assert_matches_log(log)


def test_inputs_directories_globs_and_stdin(tmp_path, monkeypatch):
    log = SampleLog()
    lines = log.lines()
    half = len(lines) // 2
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "tracking.log.1").write_text("\n".join(lines[:half]) + "\n")
    (folder / "tracking.log.2.gz").write_bytes(gzip.compress(("\n".join(lines[half:]) + "\n").encode()))
    output = backfill("--tracking-logs", str(folder))
    assert f"Lines read: {len(lines):,}" in output
    assert_matches_log(log)
    first = snapshot()

    wipe()
    backfill("--tracking-logs", str(folder / "tracking.log.*"))
    assert snapshot() == first

    wipe()
    stdin = io.TextIOWrapper(io.BytesIO(("\n".join(lines) + "\n").encode()))
    monkeypatch.setattr("sys.stdin", stdin)
    backfill("--tracking-logs", "-")
    assert snapshot() == first


def test_workers_split_the_log_into_celery_chunks(tmp_path):
    log = SampleLog()
    path = log.write(tmp_path / "tracking.log")
    backfill("--tracking-logs", str(path))
    single = snapshot()
    wipe()
    output = backfill("--tracking-logs", str(path), "--workers", "3", "--chunk-lines", "100")
    assert snapshot() == single
    checkpoint = BackfillCheckpoint.objects.using(conf.analytics_db()).get()
    assert len(checkpoint.position) == -(-len(path.read_text().splitlines()) // 100)
    assert all(entry["done"] for entry in checkpoint.position.values())
    assert "Rejected: 0" in output


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="nothing to backfill"):
        backfill()
    with pytest.raises(CommandError, match="no such file"):
        backfill("--tracking-logs", str(tmp_path / "missing.log"))
    with pytest.raises(CommandError, match="not a course id"):
        backfill("--tracking-logs", str(tmp_path), "--course", "nonsense")
    with pytest.raises(CommandError, match="--since must be before --until"):
        backfill("--tracking-logs", str(tmp_path), "--since", "2026-02-01", "--until", "2026-01-01")
