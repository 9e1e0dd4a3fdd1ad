"""The install and backfill docs give commands that work in an edx-platform LMS."""
from __future__ import annotations

import re
from pathlib import Path

from django.core.management import ManagementUtility

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_no_doc_asks_manage_py_for_help_with_a_flag():
    """edx-platform's manage.py intercepts --help; Django's help command is what works there."""
    for doc in DOCS:
        for line in doc.read_text().splitlines():
            assert not re.search(r"manage\.py lms \S+.*\s(--help|-h)\b", line), f"{doc.name}: {line}"
    for name in ("install.md", "backfill.md"):
        assert "./manage.py lms help backfill_analytics" in (ROOT / "docs" / name).read_text()


def test_the_help_command_the_docs_give_prints_the_options(capsys):
    ManagementUtility(["manage.py", "help", "backfill_analytics"]).execute()
    assert "--tracking-logs" in capsys.readouterr().out


def test_install_doc_lists_both_migrations_and_every_check_id():
    from openedx_analytics import checks

    text = (ROOT / "docs" / "install.md").read_text()
    assert "./manage.py lms migrate openedx_analytics --database analytics" in text
    for check_id in (checks.WRONG_DATABASE, checks.MIGRATES_ELSEWHERE, checks.TABLES_MISSING,
                     checks.MIGRATIONS_MISSING, checks.DATABASE_UNREACHABLE):
        assert check_id in text


def test_the_readme_settings_table_names_every_setting_with_its_default():
    """Each setting of ``settings.common.DEFAULTS`` has its row (alone, or as a ``_SUFFIX`` beside its sibling)."""
    from os.path import commonprefix

    from openedx_analytics.settings.common import DEFAULTS

    table = (ROOT / "README.md").read_text().split("### Settings", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `OPENEDX_ANALYTICS_")]
    named = set()
    for row in rows:
        first, *suffixes = re.findall(r"`(OPENEDX_ANALYTICS_\w+|_\w+)`", row.split("|")[1])
        named.add(first)
        for suffix in suffixes:  # "`X_API_PAGE_SIZE` / `_MAX_PAGE_SIZE`": the sibling sharing most of X
            named.add(max((key for key in DEFAULTS if key.endswith(suffix)),
                          key=lambda key: len(commonprefix([key, first]))))
    assert sorted(set(DEFAULTS) - named) == []
