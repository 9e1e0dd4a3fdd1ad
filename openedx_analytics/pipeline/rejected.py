"""The one exception a bad event becomes: ``Rejected``, with a reason operators can count.

It sits below everything that reads an event (parsing, the payload accessor, the records'
bounds, the normalizers), so each of them can refuse an event the same way.
"""
from __future__ import annotations


class Rejected(Exception):
    """An event we cannot count, with a short machine-readable ``reason`` and a human ``detail``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
