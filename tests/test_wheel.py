"""The package works as installed from its wheel: every file it reads at run time is shipped, its commands run.

The list of files is derived from the source tree (everything under ``templates/``,
``static/``, ``locale/`` and ``conf/locale/``, and the OpenAPI schema), so a file added there is checked
without touching this test. The wheel is built offline from a copy of the sources.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "openedx_analytics"
#: Folders of the package whose every file is read at run time (templates, static assets, translations).
DATA_DIRS = ("templates", "static", "locale", "conf/locale")
SCHEMA = PACKAGE / "api" / "v1" / "openapi.yaml"
TIMEOUT = 300


def runtime_files() -> set[str]:
    """Paths, as inside the wheel, of every non-code file the package reads at run time."""
    files = {SCHEMA.relative_to(ROOT).as_posix(),
             (PACKAGE / "dashboard" / "world_map.json").relative_to(ROOT).as_posix()}
    for folder in DATA_DIRS:
        for path in (PACKAGE / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
                files.add(path.relative_to(ROOT).as_posix())
    return files


def _run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of the package, built (pip wheel --no-deps) from a copy of the sources."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in ("setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                 "-w", base / "dist", source)
    assert built.returncode == 0, built.stderr[-2000:]
    (path,) = (base / "dist").glob("openedx_analytics-*.whl")
    return path


def test_the_wheel_ships_every_file_the_package_reads(wheel: Path):
    expected = runtime_files()
    assert "openedx_analytics/api/v1/openapi.yaml" in expected
    assert any(name.startswith("openedx_analytics/templates/") for name in expected)
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert sorted(expected - shipped) == []


def test_the_commands_work_from_the_installed_wheel(wheel: Path, tmp_path: Path):
    site = tmp_path / "site"
    installed = _run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, wheel)
    assert installed.returncode == 0, installed.stderr[-2000:]
    # The host's settings come from the checkout; the package only from the installed wheel (first on the path).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
           "DJANGO_SETTINGS_MODULE": "test_settings", "OA_TEST_DB": "sqlite", "OA_SQLITE_DIR": str(tmp_path)}
    where = _run(sys.executable, "-c", "import openedx_analytics; print(openedx_analytics.__file__)",
                 env=env, cwd=tmp_path)
    assert where.stdout.strip().startswith(str(site)), (where.stdout, where.stderr[-2000:])

    check = _run(sys.executable, "-m", "django", "analytics_openapi", "--check", env=env, cwd=tmp_path)
    assert check.returncode == 0, check.stderr[-2000:]
    assert "schema is current" in check.stdout

    page = _run(sys.executable, "-c", (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/api/analytics/v1/docs/'); print(r.status_code, b'timeline' in r.content)"),
        env=env, cwd=tmp_path)
    assert page.stdout.split() == ["200", "True"], page.stderr[-2000:]
