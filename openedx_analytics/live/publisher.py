"""A bounded in-process buffer of events, drained by one background thread per process.

Why: handing a batch to the broker costs a round trip, and with a hung broker the send
timeouts; an LMS request must pay neither. Requests and tasks hand their events over with
``submit`` (a lock and an append, never a wait), and one daemon thread takes them out in
batches that span requests: up to ``OPENEDX_ANALYTICS_MAX_BATCH_SIZE`` events, sent as soon
as a batch is full or its oldest event has waited ``OPENEDX_ANALYTICS_PUBLISH_LINGER_SECONDS``.

- Bounded memory: at most ``OPENEDX_ANALYTICS_PUBLISH_BUFFER_SIZE`` events, and at most
  ``OPENEDX_ANALYTICS_PUBLISH_BUFFER_BYTES`` of them (``json_size``: their size as JSON,
  estimated without encoding them), wait. When the buffer is full, new events are dropped
  (the request carries on) and counted; so is, at once, an event larger on its own than
  ``event_bytes_bound`` (a sixty-fourth of the buffer's bytes: whatever one learner sends,
  the buffer holds at least that many of the largest events). The thread logs one ERROR per
  ``DROP_LOG_SECONDS`` with the count and the ``backfill_analytics`` command that recovers them.
- Fork safety: gunicorn, uWSGI and Celery's prefork pool fork after import. A publisher
  belongs to the process that made it (``pid``): ``current()`` in a forked child makes a new
  one, with its own thread, and leaves the inherited buffer alone (its events are the
  parent's, which publishes them).
- Exit: ``close`` (called at interpreter exit and when a Celery pool process shuts down)
  sends what is left within a bounded wait, then logs anything still unsent as lost.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from openedx_analytics import conf
from openedx_analytics.worker.losses import LossTally

log = logging.getLogger(__name__)

#: Least time between two ERROR lines about events dropped on a full buffer.
DROP_LOG_SECONDS = 60.0
#: The buffer's bytes hold at least this many events of the largest size accepted (``event_bytes_bound``).
LARGEST_EVENTS_PER_BUFFER = 64
THREAD_NAME = "openedx-analytics-publisher"

Events = list[dict[str, Any]]


def event_bytes_bound() -> int:
    """The largest event the buffer takes, in bytes (``json_size``): larger ones are dropped at the door."""
    return max(int(conf.get("OPENEDX_ANALYTICS_PUBLISH_BUFFER_BYTES")) // LARGEST_EVENTS_PER_BUFFER, 1)


def json_size(value: Any, limit: int) -> int:
    """About how many bytes ``value`` takes as JSON, counting no further than just past ``limit``.

    Cheap enough for the request's thread: no encoding, only a walk that adds up string
    lengths (characters, as JSON's ASCII escapes would at least take), a few bytes per number,
    key and separator, and stops once past ``limit``, so a huge event costs no more than
    ``limit`` small steps (about 3 µs for an ordinary event, less than ``json.dumps`` takes).
    What the walk does not know (an object the batch's JSON-safe copy will turn into a
    string) counts as its ``str`` would.
    """
    size = 0
    pending = [value]
    pop, extend = pending.pop, pending.extend
    while pending:
        item = pop()
        kind = type(item)
        if kind is str:
            size += len(item) + 2
        elif kind is dict:
            size += 2 + 2 * len(item)  # braces; a colon and a comma per key
            if size <= limit:
                extend(item.keys())
                extend(item.values())
        elif kind is list or kind is tuple:
            size += 2 + len(item)
            if size <= limit:
                extend(item)
        elif item is None or kind is bool or kind is int or kind is float:
            size += 8
        else:  # a subclass of the above, a datetime, a UUID, a key: what ``str`` makes of it
            size += len(str(item)) + 2
        if size > limit:
            return size
    return size


class Publisher:
    """One process's buffer and publisher thread; ``send(batch)`` hands a batch on (and never raises)."""

    def __init__(self, send: Callable[[Events], None]) -> None:
        """An empty buffer; the thread starts with the first ``submit``."""
        self.pid = os.getpid()
        self._send = send
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the thread waits here for events
        self._settled_cond = threading.Condition(self._lock)  # ``flush`` callers wait here
        self._chunks: deque[tuple[float, Events, list[int]]] = deque()  # (time handed over, events, their
        # json_size), oldest first
        self._size = 0
        self._bytes = 0
        self._handed = 0  # events accepted so far
        self._settled = 0  # of those, events sent, dropped by the pause switch or logged lost
        self._in_flight: Events = []
        self._dropped = LossTally()  # dropped on a full buffer, not yet logged
        self._dropped_logged_at = -DROP_LOG_SECONDS
        self._reporting = 0  # tallies of dropped events taken and not logged yet
        self._hurry = 0  # > 0 while a flush waits: no lingering
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- the request's side -------------------------------------------------------------
    def submit(self, events: Events) -> None:
        """Take ``events`` for publishing, or drop what does not fit. Never waits on the broker."""
        if not events:
            return
        capacity = int(conf.get("OPENEDX_ANALYTICS_PUBLISH_BUFFER_SIZE"))
        capacity_bytes = int(conf.get("OPENEDX_ANALYTICS_PUBLISH_BUFFER_BYTES"))
        max_batch = int(conf.get("OPENEDX_ANALYTICS_MAX_BATCH_SIZE"))
        bound = event_bytes_bound()
        sizes = [json_size(event, bound) for event in events]
        with self._lock:
            if self._stopping:
                inline = True
            else:
                inline = False
                taken, taken_sizes, dropped = self._fit(events, sizes, capacity, capacity_bytes, bound)
                wake = bool(dropped) and not self._dropped.count
                if dropped:
                    self._dropped.add(dropped)
                if taken:
                    wake = wake or not self._size or self._size + len(taken) >= max_batch
                    self._chunks.append((time.monotonic(), taken, taken_sizes))
                    self._size += len(taken)
                    self._bytes += sum(taken_sizes)
                    self._handed += len(taken)
                if wake:
                    self._work.notify()
        if inline:  # after close (another exit hook emitting): no thread any more, send here
            self._send(events)
        elif self._thread is None or not self._thread.is_alive():
            self._start()

    def _fit(self, events: Events, sizes: list[int], capacity: int, capacity_bytes: int,
             bound: int) -> tuple[Events, list[int], Events]:
        """What of ``events`` the buffer takes, in order (and their sizes), and what it drops: events larger
        than ``bound`` on their own, and those past the buffer's count or bytes."""
        taken: Events = []
        taken_sizes: list[int] = []
        dropped: Events = []
        count, held = self._size, self._bytes
        for event, size in zip(events, sizes, strict=True):
            if size > bound or count >= capacity or held + size > capacity_bytes:
                dropped.append(event)
                continue
            taken.append(event)
            taken_sizes.append(size)
            count += 1
            held += size
        return taken, taken_sizes, dropped

    def _start(self) -> None:
        with self._lock:
            if self._stopping or (self._thread is not None and self._thread.is_alive()):
                return
            thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            try:
                thread.start()
            except RuntimeError:  # interpreter shutting down: close() sends what waits
                log.debug("openedx_analytics: could not start the publisher thread", exc_info=True)
                return
            self._thread = thread

    # -- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                batch, dropped = self._take()
            except Exception:  # noqa: BLE001 - a bug here must not end publishing
                log.exception("openedx_analytics: the publisher thread failed; it carries on")
                time.sleep(0.1)
                continue
            if dropped is not None:
                self._report(dropped)
            if batch is None:
                return
            if batch:
                self._deliver(batch)

    def _take(self) -> tuple[Events | None, LossTally | None]:
        """The next batch to send ([] when only dropped events are due for logging; None: stop)."""
        with self._lock:
            while True:
                now = time.monotonic()
                dropped = self._due_dropped(now)
                wait: float | None = None
                if self._size:
                    max_batch = int(conf.get("OPENEDX_ANALYTICS_MAX_BATCH_SIZE"))
                    if self._size >= max_batch or self._hurry or self._stopping:
                        wait = 0.0
                    else:
                        linger = float(conf.get("OPENEDX_ANALYTICS_PUBLISH_LINGER_SECONDS"))
                        wait = linger - (now - self._chunks[0][0])
                    if wait <= 0:
                        self._in_flight = self._pop(max_batch)
                        return self._in_flight, dropped
                elif self._stopping:
                    return None, dropped
                if dropped is not None:
                    return [], dropped
                if self._dropped.count:
                    due = self._dropped_logged_at + DROP_LOG_SECONDS - now
                    wait = due if wait is None else min(wait, due)
                self._work.wait(wait)

    def _due_dropped(self, now: float) -> LossTally | None:
        if not self._dropped.count:
            return None
        if now - self._dropped_logged_at < DROP_LOG_SECONDS and not (self._hurry or self._stopping):
            return None
        dropped, self._dropped = self._dropped, LossTally()
        self._dropped_logged_at = now
        self._reporting += 1
        return dropped

    def _report(self, dropped: LossTally) -> None:
        try:
            log.error(
                "openedx_analytics: DROPPED %s events, the publishing buffer was full "
                "(OPENEDX_ANALYTICS_PUBLISH_BUFFER_SIZE, OPENEDX_ANALYTICS_PUBLISH_BUFFER_BYTES; the broker is down, "
                "hung or slower than events come) or an event alone was over %s bytes. %s",
                dropped.count, event_bytes_bound(), dropped.hint(),
            )
        finally:
            with self._lock:
                self._reporting -= 1
                self._settled_cond.notify_all()

    def _pop(self, limit: int) -> Events:
        batch: Events = []
        taken_bytes = 0
        while self._chunks and len(batch) < limit:
            handed_at, events, sizes = self._chunks.popleft()
            room = limit - len(batch)
            if len(events) > room:
                self._chunks.appendleft((handed_at, events[room:], sizes[room:]))
                events, sizes = events[:room], sizes[:room]
            batch.extend(events)
            taken_bytes += sum(sizes)
        self._size -= len(batch)
        self._bytes -= taken_bytes
        return batch

    def _deliver(self, batch: Events) -> None:
        try:
            self._send(batch)
        except Exception:  # noqa: BLE001 - send logs its own failures; this is a bug's last net
            log.exception("openedx_analytics: could not send %s events", len(batch))
        finally:
            with self._lock:
                self._settled += len(batch)
                self._in_flight = []
                self._settled_cond.notify_all()

    # -- waiting for it -----------------------------------------------------------------
    def flush(self, timeout: float) -> bool:
        """Wait until everything submitted so far is settled (sent, paused or logged lost); False on timeout.

        Also logs events dropped on a full buffer at once. Without a running thread the
        caller sends the batches itself.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            target = self._handed
            self._hurry += 1
            self._work.notify()
        try:
            while True:
                with self._lock:
                    if self._settled >= target and not self._dropped.count and not self._reporting:
                        return True
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    alive = self._thread is not None and self._thread.is_alive()
                    if alive:
                        self._settled_cond.wait(remaining)
                        continue
                    batch = self._pop(int(conf.get("OPENEDX_ANALYTICS_MAX_BATCH_SIZE")))
                    dropped = self._due_dropped(time.monotonic())
                    if not batch and dropped is None:  # another caller is sending the last batch
                        self._settled_cond.wait(remaining)
                        continue
                    if batch:
                        self._in_flight = batch
                if dropped is not None:
                    self._report(dropped)
                if batch:
                    self._deliver(batch)
        finally:
            with self._lock:
                self._hurry -= 1

    def close(self, timeout: float) -> None:
        """Send what is left within ``timeout`` seconds, then stop; log anything still unsent as lost."""
        with self._lock:
            self._stopping = True
            self._work.notify()
        settled = self.flush(timeout)
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(max(0.0, timeout / 10))
        if settled:
            return
        with self._lock:
            unsent = [*self._in_flight, *(event for _at, events, _sizes in self._chunks for event in events)]
            self._chunks.clear()
            self._size = 0
            self._bytes = 0
        if unsent:
            tally = LossTally()
            tally.add(unsent)
            log.error(
                "openedx_analytics: LOST %s events at process exit: the broker did not take them within %ss "
                "(OPENEDX_ANALYTICS_PUBLISH_EXIT_SECONDS); some may have arrived, backfill counts them once. %s",
                tally.count, timeout, tally.hint(),
            )

    def pending(self) -> int:
        """Events submitted and not settled yet (buffered or being sent)."""
        with self._lock:
            return self._handed - self._settled


_current: Publisher | None = None
_current_lock = threading.Lock()


def current(send: Callable[[Events], None]) -> Publisher:
    """This process's publisher (made on first use, and afresh in a forked child)."""
    global _current
    publisher = _current
    if publisher is not None and publisher.pid == os.getpid():
        return publisher
    with _current_lock:
        if _current is None or _current.pid != os.getpid():
            _current = Publisher(send)
        return _current


def existing() -> Publisher | None:
    """This process's publisher if it made one (an inherited one does not count)."""
    publisher = _current
    return publisher if publisher is not None and publisher.pid == os.getpid() else None


def _forget_after_fork() -> None:
    """In a forked child: the parent's publisher, its lock and its buffer are not ours."""
    global _current, _current_lock
    _current = None
    _current_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
