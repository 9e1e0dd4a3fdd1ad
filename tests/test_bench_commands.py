"""The benchmark scripts start as the docs run them, and every bench module the docs name exists.

Each script under ``bench/`` is run as a module from the repository root
(``python -m bench.<script>``), and the processes the scripts start name their settings and
WSGI apps by dotted path. A script moved or renamed, or a doc still giving an old path,
fails here rather than the next time someone measures.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DOCS = [ROOT / "README.md", BENCH / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SCRIPTS = sorted(path.stem for path in BENCH.glob("*.py") if path.stem != "__init__")
#: Modules of the harness the scripts run as child processes of their own.
CHILD_ROLES = ["harness.live.generator", "harness.live.probe"]


@pytest.mark.parametrize("module", [*SCRIPTS, *CHILD_ROLES])
def test_every_script_starts_as_a_module_and_says_how_it_is_run(module):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-m", f"bench.{module}", "--help"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m bench.{module}"), result.stdout[:300]


def test_the_docs_run_bench_scripts_as_modules_and_name_only_modules_that_exist():
    for doc in DOCS:
        text = doc.read_text()
        assert not re.search(r"python\S*\s+bench/", text), f"{doc}: a bench script run by path"
        for dotted in re.findall(r"(?<![\w./-])bench\.([a-z_]+(?:\.[a-z_]+)*)", text):
            path = BENCH.joinpath(*dotted.split("."))
            assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), \
                f"{doc}: bench.{dotted} is no module"


def test_no_bench_module_reaches_into_sys_path():
    for path in BENCH.rglob("*.py"):
        assert "sys.path" not in path.read_text(), f"{path.relative_to(ROOT)} changes sys.path"
