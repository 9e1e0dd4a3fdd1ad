"""pytest.ini's warning filters: our deprecations fail the run, upstream ones are not hidden wholesale."""
from __future__ import annotations

import itertools
import warnings

import pytest

_lines = itertools.count(1000)


def warn_from(module: str, category: type[Warning] = DeprecationWarning) -> None:
    """Issue a warning as if ``module`` had issued it (the filters match on that module)."""
    warnings.warn_explicit(f"probe from {module}", category, f"{module.replace('.', '/')}.py", next(_lines),
                           module=module)


@pytest.mark.parametrize("module", ["openedx_analytics.worker.tasks", "openedx_analytics.api.v1.views",
                                    "lms_host.views", "tests.test_something"])
@pytest.mark.parametrize("category", [DeprecationWarning, PendingDeprecationWarning])
def test_our_deprecation_warnings_fail_the_run(module, category):
    with pytest.raises(category):
        warn_from(module, category)


def test_upstream_deprecation_warnings_are_shown_not_hidden():
    with warnings.catch_warnings(record=True) as caught:  # keeps the configured filters
        warn_from("some_upstream_library.module")
    assert [str(w.message) for w in caught] == ["probe from some_upstream_library.module"]


def test_only_named_upstream_warnings_are_ignored():
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn_explicit("Passing positional arguments to save() is deprecated", DeprecationWarning,
                               "config_models/models.py", next(_lines), module="config_models.models")
        warnings.warn_explicit("something else is deprecated", DeprecationWarning,
                               "config_models/models.py", next(_lines), module="config_models.models")
    assert [str(w.message) for w in caught] == ["something else is deprecated"]
