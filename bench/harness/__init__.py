"""What the benchmark scripts share: data and databases, the processes they start, and the settings those run on.

Nothing here is run on its own except the load harness's child roles
(``python -m bench.harness.live.generator`` and ``bench.harness.live.probe``, which
``bench.live`` starts). Settings modules and WSGI apps are named by their dotted path
(``DJANGO_SETTINGS_MODULE=bench.harness.live.settings``,
``bench.harness.request_path.wsgi:application``) in the processes the scripts start, all
with the repository root as their working directory.
"""
from __future__ import annotations

import sys
from pathlib import Path

#: The repository root: the working directory of every process a benchmark starts.
ROOT = Path(__file__).resolve().parents[2]
#: The interpreter running the benchmark, which runs its child processes too.
PYTHON = sys.executable
