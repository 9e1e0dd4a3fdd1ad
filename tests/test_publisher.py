"""The publisher's buffer on its own, with a stand-in for the broker: batching, lingering, exit.

The door-level behaviour (requests never wait, losses and drops logged with their backfill
window, exit and fork) is tested against real brokers in tests/integration.
"""
from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from openedx_analytics.live.publisher import Publisher, event_bytes_bound, json_size

EVENTUALLY_SECONDS = 10.0


def event(user_id: int) -> dict:
    return {"name": "play_video", "time": f"2026-11-22T10:00:{user_id:02d}+00:00",
            "context": {"course_id": "course-v1:Org+Pub+Run", "user_id": user_id}}


class Broker:
    """Records each batch; clearing ``released`` makes sends block until it is set; ``sending`` is set
    once a send has begun (a batch is in flight)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.released = threading.Event()
        self.released.set()
        self.sending = threading.Event()

    def send(self, batch: list[dict]) -> None:
        self.sending.set()
        self.released.wait()
        self.batches.append([e["context"]["user_id"] for e in batch])


def eventually(condition) -> None:
    deadline = time.monotonic() + EVENTUALLY_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "did not happen"
        time.sleep(0.005)


@pytest.fixture
def broker(settings) -> Broker:
    settings.OPENEDX_ANALYTICS_PUBLISH_LINGER_SECONDS = 600
    settings.OPENEDX_ANALYTICS_MAX_BATCH_SIZE = 4
    return Broker()


def test_batches_span_hand_overs_keep_their_order_and_stop_at_the_batch_size(broker):
    publisher = Publisher(broker.send)
    for users in ([1, 2, 3], [4, 5], [6]):
        publisher.submit([event(u) for u in users])
    assert publisher.flush(EVENTUALLY_SECONDS)
    assert broker.batches == [[1, 2, 3, 4], [5, 6]]
    assert publisher.pending() == 0


def test_a_full_batch_leaves_without_lingering(broker):
    publisher = Publisher(broker.send)
    publisher.submit([event(u) for u in range(1, 6)])
    eventually(lambda: broker.batches)  # the linger is ten minutes
    assert broker.batches[0] == [1, 2, 3, 4]
    assert publisher.pending() == 1  # the fifth waits for company


def test_a_partly_full_batch_leaves_after_the_linger(broker, settings):
    settings.OPENEDX_ANALYTICS_PUBLISH_LINGER_SECONDS = 0.01
    publisher = Publisher(broker.send)
    publisher.submit([event(1)])
    eventually(lambda: broker.batches == [[1]])


def test_a_full_buffer_drops_only_what_does_not_fit_and_reports_drops_at_a_bounded_rate(broker, settings, caplog):
    settings.OPENEDX_ANALYTICS_PUBLISH_BUFFER_SIZE = 3
    broker.released.clear()
    publisher = Publisher(broker.send)

    def reports() -> list[str]:
        return [r.getMessage() for r in caplog.records if "DROPPED" in r.getMessage()]

    with caplog.at_level(logging.ERROR, logger="openedx_analytics"):
        publisher.submit([event(1), event(2)])
        publisher.submit([event(3), event(4)])  # the 4th does not fit: reported at once
        eventually(lambda: reports())
        publisher.submit([event(5)])  # within the rate limit: counted, held back
        publisher.submit([event(6)])
        time.sleep(0.05)
        assert len(reports()) == 1
        broker.released.set()
        assert publisher.flush(EVENTUALLY_SECONDS)  # a flush reports what was held back
    assert broker.batches == [[1, 2, 3]]
    first, held_back = reports()
    assert "DROPPED 1 events" in first
    assert "--course course-v1:Org+Pub+Run --since 2026-11-22T10:00:04+00:00 --until 2026-11-22T10:00:05+00:00" in first
    assert "DROPPED 2 events" in held_back
    assert "--since 2026-11-22T10:00:05+00:00 --until 2026-11-22T10:00:07+00:00" in held_back


def test_at_exit_what_the_broker_did_not_take_in_time_is_logged_lost(broker, caplog):
    broker.released.clear()  # a broker that never answers
    publisher = Publisher(broker.send)
    publisher.submit([event(u) for u in range(1, 7)])  # a batch of 4 stuck in flight, 2 more waiting
    eventually(broker.sending.is_set)
    with caplog.at_level(logging.ERROR, logger="openedx_analytics"):
        publisher.close(0.2)
    [report] = [r.getMessage() for r in caplog.records]
    assert "LOST 6 events at process exit" in report
    assert "--since 2026-11-22T10:00:01+00:00 --until 2026-11-22T10:00:07+00:00" in report
    broker.released.set()


def test_on_a_quiet_site_each_event_leaves_within_the_linger(broker, settings):
    """One event at a time, each after a pause longer than the linger: no event waits for company or a wake-up."""
    linger = 0.05
    settings.OPENEDX_ANALYTICS_PUBLISH_LINGER_SECONDS = linger
    settings.OPENEDX_ANALYTICS_MAX_BATCH_SIZE = 500
    sent_at: dict[int, float] = {}

    def send(batch: list[dict]) -> None:
        for one in batch:
            sent_at[one["context"]["user_id"]] = time.monotonic()

    publisher = Publisher(send)
    delays = []
    for user in range(1, 16):
        offered = time.monotonic()
        publisher.submit([event(user)])
        eventually(lambda user=user: user in sent_at)
        delays.append(sent_at[user] - offered)
        time.sleep(linger * (2 + user % 4))  # the thread has gone back to waiting for the next event
    assert max(delays) < linger + 0.5, [round(d, 3) for d in delays]
    assert publisher.pending() == 0


def test_json_size_estimates_without_encoding_and_stops_past_its_limit():
    small = event(1)
    assert abs(json_size(small, 10_000) - len(json.dumps(small))) < len(json.dumps(small)) / 2
    huge = {"data": {"answer": "x" * 5_000_000, "parts": list(range(1_000_000))}}
    many = {"parts": [[n] for n in range(1_000_000)]}
    started = time.perf_counter()
    assert json_size(huge, 4096) > 4096
    assert json_size(many, 4096) > 4096
    assert time.perf_counter() - started < 0.05  # a few steps, not a million


def test_an_event_too_large_on_its_own_is_dropped_at_the_door_and_reported(broker, settings, caplog):
    settings.OPENEDX_ANALYTICS_PUBLISH_BUFFER_BYTES = 64 * 1024  # events over 1 KiB on their own are dropped
    assert event_bytes_bound() == 1024
    huge = event(2)
    huge["data"] = {"answer": "x" * 1_000_000}
    publisher = Publisher(broker.send)
    with caplog.at_level(logging.ERROR, logger="openedx_analytics"):
        publisher.submit([event(1), huge, event(3)])
        assert publisher.flush(EVENTUALLY_SECONDS)
    assert broker.batches == [[1, 3]]  # the rest of its batch goes on
    [report] = [r.getMessage() for r in caplog.records if "DROPPED" in r.getMessage()]
    assert "DROPPED 1 events" in report and "over 1024 bytes" in report
    assert "--since 2026-11-22T10:00:02+00:00 --until 2026-11-22T10:00:03+00:00" in report


def test_the_buffer_is_bounded_in_bytes_as_well_as_in_events(broker, settings, caplog):
    settings.OPENEDX_ANALYTICS_PUBLISH_BUFFER_BYTES = 64 * 4096  # at most 4 KiB an event
    broker.released.clear()  # a broker that does not answer: the buffer fills
    publisher = Publisher(broker.send)

    def large(user_id: int) -> dict:
        one = event(user_id)
        one["data"] = {"answer": "x" * 3500}
        return one

    with caplog.at_level(logging.ERROR, logger="openedx_analytics"):
        publisher.submit([large(u) for u in range(1, 5)])  # one batch of 4 goes in flight
        eventually(broker.sending.is_set)
        publisher.submit([large(u) for u in range(5, 80)])
        # the count cap (10,000) is far away; the bytes one is not: 256 KiB hold fewer than 75 of these
        assert publisher.pending() - 4 <= 64 * 4096 // 3500
        broker.released.set()
        assert publisher.flush(EVENTUALLY_SECONDS)
    sent = sum(len(batch) for batch in broker.batches)
    [report] = [r.getMessage() for r in caplog.records if "DROPPED" in r.getMessage()]
    assert f"DROPPED {79 - sent} events" in report
    assert 4 < sent <= 4 + 64 * 4096 // 3500
