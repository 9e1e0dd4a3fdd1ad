"""The gunicorn every benchmark that times HTTP starts: one sync worker on 127.0.0.1, from the repository root."""
from __future__ import annotations

from pathlib import Path

from bench.harness import PYTHON

#: The WSGI app of the test host as its settings build it (the REST API, the page, the LMS stand-in).
TEST_HOST_APP = "django.core.wsgi:get_wsgi_application()"


def gunicorn_command(port: int, app: str, *options: str) -> list[str]:
    """The command serving ``app`` (``module:callable``) with one sync worker on 127.0.0.1:``port``.

    Run it with the repository root as working directory: gunicorn puts that directory on
    the import path, so ``app`` and the settings module are named by their dotted path.
    """
    return [str(Path(PYTHON).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", *options,
            "--log-level", "warning", app]
