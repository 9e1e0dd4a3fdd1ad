"""The management commands as an operator runs them, their output captured."""
from __future__ import annotations

import io

from django.core.management import call_command


def backfill(*args: str) -> str:
    """``backfill_analytics <args> --no-progress``; what it printed."""
    out = io.StringIO()
    call_command("backfill_analytics", *args, "--no-progress", stdout=out)
    return out.getvalue()
