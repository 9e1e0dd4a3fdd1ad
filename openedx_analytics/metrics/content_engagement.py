"""Engagement by content: distinct learners per outline part (section, subsection, unit) over a range of days.

Why read the facts at request time, and why these facts. Distinct learners over a range
cannot be summed from per-day or per-week counts (a learner active on two days would
count twice), and a page lets the range be any pair of days, so no stored count answers
every range. The facts are therefore kept at the grain a range query needs and counted
in the database: ``ContentActivityFact`` has one row per learner, outline part, kind and
day, the block an event touched already placed in its unit, subsection and section when
it was stored (``pipeline.ingest.placed_visits``). A page shows one level at a time (the
sections, or one section's subsections, or one subsection's units), so one query reads
only the rows of the parts shown, in the range, through the unique index
``(course_id, node_id, kind, day, user_id)``, which covers it, and ``COUNT(DISTINCT
user_id)`` runs in the database: what leaves it is one row per part and kind. The cost
grows with the learner-days of the parts shown within the range, not with the course's
history or its number of blocks; docs/benchmarks.md has the measurement at 100,000
learners.

Storing per outline part rather than per block is what makes the count a single index
range per part: counting a unit's learners from its blocks' rows would need a union of
sets outside the database. The price: a block moved to another unit keeps its past
activity under the parts that held it when the activity was stored.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Count

from openedx_analytics.metrics.store import CHUNK
from openedx_analytics.models import ContentActivityFact

#: The kinds counted, in the order shown: viewed the part, played one of its videos, submitted one of its problems.
KINDS = (ContentActivityFact.ANY, ContentActivityFact.VIDEO, ContentActivityFact.PROBLEM)


def learners_by_part(course_id: str, parts: Sequence[str], start: dt.date, end: dt.date,
                     using: str) -> dict[tuple[str, str], int]:
    """(part, kind) -> distinct learners with a fact of that kind in that part, ``start`` <= day < ``end``.

    Parts and kinds without any learner are absent (read them as zero).
    """
    counts: dict[tuple[str, str], int] = {}
    wanted = list(dict.fromkeys(parts))
    for first in range(0, len(wanted), CHUNK):
        rows = (
            ContentActivityFact.objects.using(using)
            .filter(course_id=course_id, node_id__in=wanted[first:first + CHUNK], kind__in=KINDS,
                    day__gte=start, day__lt=end)
            .values("node_id", "kind")
            .annotate(learners=Count("user_id", distinct=True))
            .order_by()
        )
        for row in rows:
            counts[(row["node_id"], row["kind"])] = row["learners"]
    return counts
