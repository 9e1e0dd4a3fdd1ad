"""Run by tests/integration/test_publisher_processes.py as a process of its own: emit events, then exit.

``python -m tests.support.publisher_script <queue> exit``: one request emits learners 1-3's
events and the process exits at once, its publisher still lingering over them (atexit must
send them).

``python -m tests.support.publisher_script <queue> fork``: a request emits learners 1-2's events, which
wait in this process's buffer; the process forks; the child's request emits learners 11-12's
and the child exits; then the parent exits. Each must send its own events, once.

Run by its path (``python tests/support/publisher_script.py <queue> <mode>``) it works the same.
The linger is a minute, so nothing leaves before exit. Events go to ``<queue>``, which no test
worker consumes; the test reads the messages there.
"""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import django

#: The repository: put first on the path when the script is run by its path (not as a module).
ROOT = Path(__file__).resolve().parents[2]


def request(user_ids: list[int]) -> None:
    """One LMS-like request emitting a tracked video event per learner."""
    from django.core.signals import request_finished, request_started

    from tests.support import doors

    request_started.send(sender=None)
    for user_id in user_ids:
        doors.emit("play_video", {"id": doors.VIDEO, "currentTime": user_id}, user_id, event_source="browser")
    request_finished.send(sender=None)


def main(queue: str, mode: str) -> None:
    """Emit the events of ``mode`` (``exit`` or ``fork``) towards ``queue``, then exit."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_settings")
    django.setup()
    from django.conf import settings

    settings.OPENEDX_ANALYTICS_CELERY_QUEUE = queue
    settings.OPENEDX_ANALYTICS_PUBLISH_LINGER_SECONDS = 60
    if mode == "exit":
        request([1, 2, 3])
        sys.exit(0)
    request([1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with the publisher thread running: on purpose
        child = os.fork()
    if child == 0:
        request([11, 12])
        sys.exit(0)
    _pid, status = os.waitpid(child, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    if not __package__:  # run by its path: import from the repository, not from this folder
        sys.path[0] = str(ROOT)
    main(sys.argv[1], sys.argv[2])
