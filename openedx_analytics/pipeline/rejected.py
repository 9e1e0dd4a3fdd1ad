"""The one exception a bad event becomes: ``Rejected``, with a reason operators can count.

It sits below everything that reads an event (parsing, the payload accessor, the records'
bounds, the normalizers), so each of them can refuse an event the same way.
"""
from __future__ import annotations


class Rejected(Exception):
    """An event we cannot count, with a short machine-readable ``reason`` and a human ``detail``.

    ``field`` is where in the event the fault lies, when the code that refuses it knows: a dotted
    path such as ``context.course_id``, or ``data.<key>`` for a payload field (``data`` standing
    for the payload, whichever key holds it). The ingest gateway tells its senders this path.
    """

    def __init__(self, reason: str, detail: str = "", field: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.field = field
