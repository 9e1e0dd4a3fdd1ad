"""Every setting and toggle is annotated, and the annotation agrees with the code."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from django.apps import apps

from openedx_analytics.settings.common import DEFAULTS

PACKAGE = Path(__file__).resolve().parent.parent / "openedx_analytics"


def annotations(path: Path, key: str) -> dict[str, str]:
    """Map each ``.. <key>_name:`` annotation in ``path`` to its ``.. <key>_default:`` value."""
    found: dict[str, str] = {}
    name = None
    for line in path.read_text().splitlines():
        match = re.search(rf"\.\. {key}_(name|default): (.+)$", line)
        if not match:
            continue
        if match.group(1) == "name":
            name = match.group(2).strip()
        elif name is not None:
            found[name] = match.group(2).strip()
    return found


def test_every_setting_default_matches_its_annotation():
    annotated: dict[str, str] = {}
    for path in PACKAGE.rglob("settings/*.py"):
        annotated.update(annotations(path, "setting"))
    assert set(annotated) == set(DEFAULTS)
    for name, default in DEFAULTS.items():
        assert ast.literal_eval(annotated[name]) == default, name


def test_every_waffle_toggle_is_annotated_with_its_real_name_and_default():
    import importlib
    import pkgutil

    from edx_toggles.toggles import WaffleFlag, WaffleSwitch

    import openedx_analytics

    for module in pkgutil.walk_packages(openedx_analytics.__path__, "openedx_analytics."):
        if ".migrations" not in module.name and ".management.commands." not in module.name:
            importlib.import_module(module.name)
    toggles = {}
    for path in PACKAGE.rglob("*.py"):
        toggles.update(annotations(path, "toggle"))
    ours = [
        toggle for cls in (WaffleFlag, WaffleSwitch) for toggle in cls.get_instances()
        if toggle.module_name.startswith("openedx_analytics")
    ]
    assert ours, "no toggle found"
    for toggle in ours:
        assert toggle.name in toggles, f"{toggle.name} has no annotation"
        assert toggles[toggle.name] == "False"


def test_every_model_says_whether_it_holds_pii():
    models = list(apps.get_app_config("openedx_analytics").get_models())
    assert len(models) > 10  # the loop below checks something
    for model in models:
        doc = model.__doc__ or ""
        assert ".. no_pii:" in doc or ".. pii:" in doc, model.__name__
