"""The packages depend only downwards: a module never imports one of a higher layer.

Every import of ``openedx_analytics`` modules is read from the source (module-level and
function-level alike, so a deferred import cannot hide a cycle) and checked against the
layer table below, which is the order drawn in the README. A new module must be placed in
a layer before this test passes.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "openedx_analytics"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

#: Lowest first. A module may import from its own layer and the layers before it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", (
        f"{PACKAGE}.conf", f"{PACKAGE}.settings", f"{PACKAGE}.models", f"{PACKAGE}.migrations",
        f"{PACKAGE}.router", f"{PACKAGE}.compat", f"{PACKAGE}.toggles", f"{PACKAGE}.failures",
    )),
    ("normalize", (
        f"{PACKAGE}.pipeline.rejected", f"{PACKAGE}.pipeline.payload", f"{PACKAGE}.pipeline.envelope",
        f"{PACKAGE}.pipeline.records", f"{PACKAGE}.pipeline.events", f"{PACKAGE}.pipeline.normalizer",
        f"{PACKAGE}.pipeline.redaction",
    )),
    ("facts and markers", (f"{PACKAGE}.pipeline",)),
    ("engines", (f"{PACKAGE}.metrics",)),
    ("drain", (f"{PACKAGE}.drain",)),
    ("backfill batches", (
        f"{PACKAGE}.backfill.runner", f"{PACKAGE}.backfill.readers", f"{PACKAGE}.backfill.scope",
        f"{PACKAGE}.backfill.checkpoints", f"{PACKAGE}.backfill.progress", f"{PACKAGE}.backfill.summary",
        f"{PACKAGE}.backfill.retry", f"{PACKAGE}.backfill.heap",
    )),
    ("tasks and the hand-off to them", (
        f"{PACKAGE}.tasks", f"{PACKAGE}.dispatch", f"{PACKAGE}.retention", f"{PACKAGE}.losses", f"{PACKAGE}.broker",
        f"{PACKAGE}.publisher",
    )),
    ("doors, commands, API and admin", (PACKAGE,)),
]


def layer_of(module: str) -> int:
    """Index of the layer whose longest prefix matches ``module``."""
    best, best_length = -1, -1
    for index, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    assert best >= 0, f"{module} is in no layer"
    return best


def module_name(path: Path) -> str:
    """Dotted name of a source file of the package."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> set[str]:
    """Every ``openedx_analytics`` module ``path`` imports, at any depth of the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:  # "from pkg import module" imports pkg.module when it is one
                candidate = f"{base}.{alias.name}"
                found.add(candidate if _is_module(candidate) else base)
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (ROOT.parent / relative.with_suffix(".py")).exists() or (ROOT.parent / relative / "__init__.py").exists()


def upward_imports() -> list[str]:
    """``importer (layer) -> imported (layer)`` for every import that goes up."""
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        own = layer_of(module)
        for imported in sorted(imports_of(path, module)):
            if imported == PACKAGE:  # the package's own __init__ is empty of logic
                continue
            target = layer_of(imported)
            if target > own:
                problems.append(f"{module} ({LAYERS[own][0]}) imports {imported} ({LAYERS[target][0]})")
    return problems


def test_no_module_imports_a_higher_layer():
    assert upward_imports() == []


def test_the_drain_sits_above_the_engines_and_the_pipeline_below_them():
    """The order the README draws: normalize, facts and markers, engines, drain, tasks."""
    order = [layer_of(f"{PACKAGE}.{name}") for name in (
        "pipeline.normalizer", "pipeline.ingest", "metrics.video", "drain", "tasks", "tracking",
    )]
    assert order == sorted(order) and len(set(order)) == len(order)


@pytest.mark.parametrize("source, imported, expected", [
    ("from openedx_analytics.metrics import video\n", "openedx_analytics.pipeline.facts", ["video"]),
    ("def later():\n    from openedx_analytics import tasks\n", "openedx_analytics.metrics.video", ["tasks"]),
])
def test_an_upward_import_is_caught(tmp_path, source, imported, expected):
    """The checker sees module-level and deferred imports alike."""
    path = tmp_path / "probe.py"
    path.write_text(source)
    found = imports_of(path, imported)
    assert [name.rpartition(".")[2] for name in found] == expected
    assert all(layer_of(name) > layer_of(imported) for name in found)
