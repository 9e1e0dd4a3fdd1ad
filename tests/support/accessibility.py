"""axe-core's accessibility scan of the page a browser test shows, and a readable report of what it finds.

``axe-playwright-python`` carries axe-core and runs it through the sync Playwright API the
browser tests use. Every rule axe-core runs by default is checked (WCAG 2.x A and AA and its
best practices); none is turned off. Data tables fold away in ``<details>``, which axe-core
leaves out as hidden, so the scan unfolds them first: what a person sees after opening them.
"""
from __future__ import annotations

from typing import Any

from tests.support.environment import skip_or_fail


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The violations axe-core finds on ``page`` as it is, every data table unfolded."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        skip_or_fail("axe-playwright-python not installed (pip install -r requirements/test.txt); "
                     "accessibility scan skipped")
    page.eval_on_selector_all("details", "all => all.forEach(details => { details.open = true; })")
    return Axe().run(page).response["violations"]


def report(violations: list[dict[str, Any]]) -> str:
    """Each violation's rule id, impact and help, and the elements it names (their selector and HTML)."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:10]:
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:200]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    ... and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)
