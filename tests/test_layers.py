"""The package's folders are its layers: a module imports only from its own layer and the ones below.

Every module of ``openedx_analytics`` is placed in exactly one layer of ``LAYERS`` by its
folder (or, inside ``pipeline/``, by its module): there is no catch-all, so a new module
fails this test until it is given a place. Imports are read from the source: module-level
and deferred ``import`` statements alike, and the dynamic forms that name a module in a
string (``importlib.import_module``, ``__import__``, Django's ``import_string``,
``apps.get_model`` / ``apps.get_app_config`` by app label). The checks:

- no import goes up a layer;
- no two modules import each other, directly or round a longer loop (a cycle inside one
  layer is as tangled as one across layers);
- no product module imports the test and demo host (``lms_host``) or the tests.

The last tests copy the package, plant one violation each and show the checker names it.
"""
from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps

PACKAGE = "openedx_analytics"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

#: Lowest first; each entry names modules or folders relative to the package. The longest
#: matching name decides, so ``api.v1`` sits in the faces while ``api`` is the Python API.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("conf", "settings", "models", "migrations", "router", "course_cache", "broker_connection")),
    ("database mechanics", ("db",)),
    ("the LMS seam", ("lms",)),
    ("normalize", ("pipeline.rejected", "pipeline.payload", "pipeline.envelope", "pipeline.records",
                   "pipeline.events", "pipeline.redaction", "pipeline.normalizer")),
    ("record kinds and dirty markers", ("pipeline.kinds", "pipeline.markers")),
    ("engines", ("metrics",)),
    ("fact writing and ingest", ("pipeline.facts", "pipeline.ingest")),
    ("privacy", ("privacy",)),
    ("worker", ("worker",)),
    ("backfill", ("backfill",)),
    ("doors", ("live", "signals")),
    ("python API", ("api",)),
    ("access", ("access", "rate_limit", "service_keys")),
    ("faces", ("api.v1", "api.urls", "dashboard", "research")),
    ("plugin entry points", ("apps", "admin", "urls", "tasks", "checks", "management")),
]
#: Packages whose ``__init__`` spans layers (the package root, ``pipeline``): they must import nothing.
EMPTY_PACKAGES = ("", "pipeline")
#: Top-level names no product module may import, statically or by string.
FORBIDDEN = ("lms_host", "tests")
#: Calls whose first argument, a string, names a module to import.
MODULE_CALLS = ("import_module", "__import__", "import_string")
#: ``django.apps.apps`` calls whose first argument is an app label (or ``"label.Model"``).
APP_CALLS = ("get_model", "get_app_config")


@dataclass(frozen=True)
class Import:
    """One module named by another: where, how (``import``, a call's name) and on which line."""

    importer: str
    imported: str
    how: str
    line: int


def module_name(path: Path, root: Path) -> str:
    """Dotted name of a source file of the package rooted at ``root``."""
    parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int | None:
    """Index of the layer whose longest entry matches ``module`` (None: the module has no place)."""
    relative = module[len(PACKAGE) + 1:] if module.startswith(PACKAGE + ".") else ""
    best, best_length = None, -1
    for index, (_name, entries) in enumerate(LAYERS):
        for entry in entries:
            if (relative == entry or relative.startswith(entry + ".")) and len(entry) > best_length:
                best, best_length = index, len(entry)
    return best


def _is_module(name: str, root: Path) -> bool:
    if name == PACKAGE:
        return True
    if not name.startswith(PACKAGE + "."):
        return False
    relative = Path(*name.split(".")[1:])
    return (root / relative).with_suffix(".py").exists() or (root / relative / "__init__.py").exists()


def _resolve(name: str, root: Path) -> str:
    """The module a dotted name reaches: itself, or its longest prefix that is a module of the package."""
    if not name.startswith(PACKAGE + "."):
        return name
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if _is_module(candidate, root):
            return candidate
    return name


def _app_module(label_or_model: str) -> str | None:
    """The module an app label names (``"label"`` or ``"label.Model"``): our models, or the app's package."""
    label = label_or_model.partition(".")[0]
    if label == PACKAGE:
        return f"{PACKAGE}.models"
    try:
        return apps.get_app_config(label).name
    except LookupError:
        return None


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _string_argument(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def imports_of(path: Path, module: str, root: Path) -> Iterator[Import]:
    """Every module ``path`` names, at any depth of the file, statically or in a string."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, _resolve(alias.name, root), "import", node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:  # "from pkg import module" imports pkg.module when it is one
                yield Import(module, _resolve(f"{base}.{alias.name}", root), "import", node.lineno)
        elif isinstance(node, ast.Call):
            name, text = _call_name(node), _string_argument(node)
            if text is None:
                continue
            if name in MODULE_CALLS:
                yield Import(module, _resolve(text, root), name, node.lineno)
            elif name in APP_CALLS and (target := _app_module(text)) is not None:
                yield Import(module, target, name, node.lineno)


def product_imports(root: Path = ROOT) -> tuple[list[str], list[Import]]:
    """Every product module's dotted name, and every import between product modules or of forbidden ones."""
    modules, found = [], []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        modules.append(module)
        found.extend(imports_of(path, module, root))
    return modules, list(dict.fromkeys(found))  # "from m import a, b" names m once


def unplaced(modules: list[str]) -> list[str]:
    """Modules no layer holds (the packages in ``EMPTY_PACKAGES`` aside)."""
    empty = {PACKAGE + (f".{name}" if name else "") for name in EMPTY_PACKAGES}
    return [module for module in modules if module not in empty and layer_of(module) is None]


def upward(found: list[Import], modules: list[str]) -> list[str]:
    """``importer (layer) -> imported (layer)`` for every import that goes up a layer or leaves an empty package."""
    problems = []
    empty = {PACKAGE + (f".{name}" if name else "") for name in EMPTY_PACKAGES}
    known = set(modules)
    for item in found:
        if item.imported not in known or item.imported in empty and item.how == "import":
            continue
        if item.importer in empty:
            problems.append(f"{item.importer} (an empty package) imports {item.imported}")
            continue
        own, target = layer_of(item.importer), layer_of(item.imported)
        if own is not None and target is not None and target > own:
            problems.append(f"{item.importer} ({LAYERS[own][0]}) imports {item.imported} ({LAYERS[target][0]}) "
                            f"by {item.how}, line {item.line}")
    return problems


def forbidden(found: list[Import]) -> list[str]:
    """Product imports of the test and demo host or of the tests."""
    return [f"{item.importer} imports {item.imported} by {item.how}, line {item.line}" for item in found
            if item.imported.split(".")[0] in FORBIDDEN]


def cycles(found: list[Import], modules: list[str]) -> list[list[str]]:
    """Groups of modules that import each other round a loop (strongly connected, Tarjan's algorithm)."""
    known = set(modules) - {PACKAGE}
    graph: dict[str, set[str]] = {module: set() for module in known}
    for item in found:
        if item.importer in known and item.imported in known:
            graph[item.importer].add(item.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def violations(root: Path = ROOT) -> list[str]:
    """Everything wrong with the package at ``root``, one line each (empty when the layers hold)."""
    modules, found = product_imports(root)
    problems = [f"{module} has no layer" for module in unplaced(modules)]
    problems += upward(found, modules)
    problems += forbidden(found)
    problems += [f"import cycle: {' -> '.join(group)}" for group in cycles(found, modules)]
    return problems


def test_every_module_has_a_layer_and_imports_only_downwards_without_cycles():
    assert violations() == []


def test_the_layers_run_in_the_order_the_readme_draws():
    """normalize, markers, engines, fact writing, worker, doors, API, faces, entry points."""
    order = [layer_of(f"{PACKAGE}.{name}") for name in (
        "pipeline.records", "pipeline.markers", "metrics.video", "pipeline.ingest", "worker.drain",
        "live.tracking", "api", "access", "api.v1.views", "apps",
    )]
    assert None not in order and order == sorted(order) and len(set(order)) == len(order)


# ---------------------------------------------------------------- the checker fails where it must


@pytest.fixture
def package_copy(tmp_path) -> Path:
    """A copy of the package's source to plant violations in."""
    copy = tmp_path / PACKAGE
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__", "locale", "static", "templates"))
    assert violations(copy) == []
    return copy


def plant(root: Path, relative: str, source: str) -> None:
    """Append ``source`` to the module at ``relative`` (created when missing)."""
    path = root / relative
    path.write_text((path.read_text() if path.exists() else '"""Planted."""\n') + "\n" + source)


@pytest.mark.parametrize("relative, source, expected", [
    # A deferred import of the REST views from the Python API below them.
    ("api/__init__.py", "def _later():\n    from openedx_analytics.api.v1 import views\n",
     "openedx_analytics.api (python API) imports openedx_analytics.api.v1.views (faces) by import"),
    # The tasks reached through importlib from an engine.
    ("metrics/activity.py", "import importlib\n\n\ndef _later():\n"
                            "    return importlib.import_module('openedx_analytics.tasks')\n",
     "openedx_analytics.metrics.activity (engines) imports openedx_analytics.tasks (plugin entry points) "
     "by import_module"),
    # An engine writing facts: the ingest routine sits above the engines.
    ("metrics/video.py", "from openedx_analytics.pipeline.facts import write_facts\n",
     "openedx_analytics.metrics.video (engines) imports openedx_analytics.pipeline.facts (fact writing and "
     "ingest) by import"),
    ("lms/courses.py", "from django.utils.module_loading import import_string\n\n\ndef _later():\n"
                       "    return import_string('openedx_analytics.live.dispatch.enqueue')\n",
     "openedx_analytics.lms.courses (the LMS seam) imports openedx_analytics.live.dispatch (doors) "
     "by import_string"),
])
def test_an_upward_import_is_named(package_copy, relative, source, expected):
    plant(package_copy, relative, source)
    assert any(problem.startswith(expected) for problem in violations(package_copy)), violations(package_copy)


def test_a_module_without_a_layer_is_named(package_copy):
    plant(package_copy, "newroom.py", "")
    assert violations(package_copy) == ["openedx_analytics.newroom has no layer"]


def test_an_empty_package_that_imports_is_named(package_copy):
    plant(package_copy, "pipeline/__init__.py", "from openedx_analytics.pipeline import records\n")
    assert violations(package_copy) == [
        "openedx_analytics.pipeline (an empty package) imports openedx_analytics.pipeline.records"]


def test_a_cycle_inside_one_layer_is_named(package_copy):
    plant(package_copy, "lms/host.py", "def _later():\n    from openedx_analytics.lms import roles\n")
    assert any(problem.startswith("import cycle:") and "openedx_analytics.lms.host" in problem
               and "openedx_analytics.lms.roles" in problem for problem in violations(package_copy))


@pytest.mark.parametrize("source", [
    "import lms_host.stub\n",
    "def _later():\n    from lms_host.stub.models import CourseBlock\n",
    "from django.apps import apps\n\n\ndef _later():\n    return apps.get_model('lms_stub', 'CourseBlock')\n",
    "import importlib\n\n\ndef _later():\n    return importlib.import_module('lms_host.stub.signals')\n",
    "def _later():\n    from tests.support import logs\n",
])
def test_an_import_of_the_test_host_or_the_tests_is_named(package_copy, source):
    plant(package_copy, "lms/courses.py", source)
    found = violations(package_copy)
    assert len(found) == 1 and found[0].startswith("openedx_analytics.lms.courses imports "), found
