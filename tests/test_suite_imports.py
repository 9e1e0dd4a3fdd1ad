"""The tests share code only through ``tests.support``: no test module or conftest imports a test module.

A test module imported by another runs its tests' module-level code twice and ties
unrelated tests together; a fixture imported from a conftest is one pytest already offers
by name. Every ``import`` of the suite (module level and inside functions) is read from the
source: of ``tests``, only ``tests.support`` and its modules may be imported.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SUPPORT = "tests.support"


def module_name(path: Path) -> str:
    """The dotted name of a file of the suite (``tests/integration/conftest.py`` -> ``tests.integration.conftest``)."""
    return ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)


def imported_modules(source: str, importer: str) -> list[str]:
    """Every module ``source`` (the code of module ``importer``) imports, as absolute dotted names.

    ``from package import name`` counts as importing ``package.name`` too, since ``name``
    may be a module; relative imports are resolved against ``importer``.
    """
    package = importer.rsplit(".", 1)[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names)
    return found


def forbidden(module: str) -> bool:
    """Whether importing ``module`` from the suite ties test modules together: a module of ``tests``
    outside ``tests.support`` (a package of the suite itself, a folder, holds nothing to share)."""
    if module != "tests" and not module.startswith("tests."):
        return False
    if module == SUPPORT or module.startswith(f"{SUPPORT}."):
        return False
    return not TESTS.parent.joinpath(*module.split(".")).is_dir()


def violations(source: str, importer: str) -> list[str]:
    """The imports of ``source`` that reach a test module, a conftest or another helper outside ``tests.support``."""
    return [module for module in imported_modules(source, importer) if forbidden(module)]


def suite_files() -> list[Path]:
    """Every Python file of the suite: test modules, conftests, the support package."""
    return sorted(path for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts)


def test_no_file_of_the_suite_imports_a_test_module_or_a_conftest():
    found = {}
    for path in suite_files():
        bad = violations(path.read_text(), module_name(path))
        if bad:
            found[str(path.relative_to(TESTS.parent))] = bad
    assert found == {}, f"import from tests.support (fixtures come from conftest by name): {found}"


def test_helpers_live_only_in_the_support_package():
    """Outside ``tests/support``, the suite holds test modules, conftests and package markers only."""
    strays = [str(path.relative_to(TESTS.parent)) for path in suite_files()
              if "support" not in path.relative_to(TESTS).parts
              and not path.name.startswith("test_") and path.name not in ("conftest.py", "__init__.py")]
    assert strays == []


SPELLINGS = [
    ("from tests.test_backfill import SampleLog", "tests.test_verify", ["tests.test_backfill",
                                                                        "tests.test_backfill.SampleLog"]),
    ("import tests.test_backfill", "tests.test_verify", ["tests.test_backfill"]),
    ("from tests import test_backfill", "tests.test_verify", ["tests.test_backfill"]),
    ("from tests.conftest import skip_or_fail", "tests.browser.conftest", ["tests.conftest",
                                                                           "tests.conftest.skip_or_fail"]),
    ("from tests import conftest", "tests.integration.test_x", ["tests.conftest"]),
    ("from .test_live_worker import x", "tests.integration.test_x", ["tests.integration.test_live_worker",
                                                                    "tests.integration.test_live_worker.x"]),
    ("from .. import test_backfill", "tests.integration.test_x", ["tests.test_backfill"]),
    ("def f():\n    from tests.integration import streams", "tests.test_x", ["tests.integration.streams"]),
    ("from tests.support.logs import SampleLog\nfrom tests.support import doors\nimport tests.support.api",
     "tests.test_x", []),
    ("from django.test import Client\nimport pytest", "tests.test_x", []),
]


@pytest.mark.parametrize(("source", "importer", "expected"), SPELLINGS,
                         ids=[f"spelling{index}" for index in range(len(SPELLINGS))])
def test_the_check_sees_every_spelling_of_such_an_import(source, importer, expected):
    assert violations(source, importer) == expected
