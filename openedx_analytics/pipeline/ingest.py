"""Take a batch of raw events through the normalizer into facts; count and sample rejections.

The one ingest routine: the Celery task of the live doors and ``backfill_analytics`` both
call ``ingest``, so what is admitted, stored, marked dirty and recorded as rejected cannot
differ between live and backfilled events. The backfill's differences are options: a scope
that admits only some courses and times (live admits everything), whole-course dirty
markers (one rebuild per course instead of one marker per learner), lines that were not
even JSON (recorded with the batch's rejections), and a dry run that counts instead of
writing. One malformed event never sinks its batch: it is counted by reason and the good
events of the same batch are still written. Only courses the LMS knows are stored (an
event's course may come from a page URL a learner posts): the others are counted as
``unknown_course``, unless a backfill names them. The ingest gateway's differences are
options too: its sender's grants, the courses it may speak for, all-or-nothing batches, and
its name kept on the facts it stores.
"""
from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction
from django.db.models import F

from openedx_analytics import conf
from openedx_analytics.lms.courses import known_courses
from openedx_analytics.lms.host import NotAvailable
from openedx_analytics.lms.outline_places import places
from openedx_analytics.models import RejectedEventSample, RejectionCount
from openedx_analytics.pipeline.facts import write_facts
from openedx_analytics.pipeline.kinds import KINDS
from openedx_analytics.pipeline.markers import Scope
from openedx_analytics.pipeline.normalizer import Outcome, normalize
from openedx_analytics.pipeline.records import ContentVisit, Record
from openedx_analytics.pipeline.redaction import sample_text

log = logging.getLogger(__name__)

#: Raw characters of a rejected event kept in its sample.
SAMPLE_PAYLOAD_CHARS = 2000
#: Rejection reason of an event whose course the LMS does not know (an invented course id).
UNKNOWN_COURSE = "unknown_course"
#: Rejection reason of an event of a course its sender may not speak for (``ingest``'s ``course_allowed``).
COURSE_NOT_GRANTED = "course_not_granted"


class Admission(Protocol):
    """Which events a run takes (a backfill's courses and time window); live takes all."""

    def admits(self, course_id: str | None, time: Any) -> bool:
        """Whether an accepted event of ``course_id`` at ``time`` is taken."""

    def admits_rejected(self, raw: Any, time: Any) -> bool:
        """Whether a rejected event may belong to what is taken (so its rejection is recorded)."""


@dataclass
class BatchResult:
    """What one batch became.

    ``rejections`` pairs the index of each rejected event in the batch with its outcome,
    so a caller can say where each came from (a backfill names file and line).
    """

    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    out_of_scope: int = 0
    by_course: Counter = field(default_factory=Counter)
    scopes: set[Scope] = field(default_factory=set)
    rejections: list[tuple[int, Outcome]] = field(default_factory=list)

    @property
    def courses(self) -> set[str]:
        """Courses whose aggregates the batch may have changed."""
        return {scope[1] for scope in self.scopes}


class DryRun:
    """Counts, instead of writing, what batches would store and how many of their facts are new.

    Kept across the batches of one run, so a fact repeated in two batches counts as new once.
    """

    def __init__(self, records: Counter | None = None, new_facts: Counter | None = None) -> None:
        self.records: Counter = records if records is not None else Counter()
        self.new_facts: Counter = new_facts if new_facts is not None else Counter()
        self._seen: set[str] = set()

    def count(self, records: Iterable[Record]) -> None:
        """Count ``records`` per course and kind, and the facts among them not stored yet."""
        fingerprints: dict[Any, dict[str, str]] = {}
        for record in records:
            kind = KINDS[type(record)]
            label = f"{record.course_id} {kind.label}"
            self.records[label] += 1
            if kind.fingerprinted:  # facts without a fingerprint cannot tell whether they are new
                fingerprint = record.fingerprint()
                if fingerprint not in self._seen:
                    self._seen.add(fingerprint)
                    fingerprints.setdefault(kind.model, {})[fingerprint] = label
        using = conf.analytics_db()
        for model, labels in fingerprints.items():
            existing = set(
                model.objects.using(using).filter(fingerprint__in=list(labels)).values_list("fingerprint", flat=True)
            )
            for fingerprint, label in labels.items():
                if fingerprint not in existing:
                    self.new_facts[label] += 1


def ingest(raw_events: Sequence[Any], *, source: str, generic: bool = True, admit: Admission | None = None,
           whole_courses: bool = False, dry_run: DryRun | None = None,
           unparsed: Sequence[tuple[Any, Outcome]] = (), named_courses: Collection[str] = (),
           grants: Collection[str] = (), course_allowed: Callable[[str], bool] | None = None,
           atomic: bool = False, fact_source: str | None = None) -> BatchResult:
    """Normalize and store a batch; record its rejections; return what happened.

    For a sending service (the ingest gateway): ``grants`` are the kinds of events it may
    assert (``normalize``); an event of a course ``course_allowed`` refuses is rejected
    (``course_not_granted``); with ``atomic`` nothing is stored when any event is rejected
    (the rejections are still recorded); ``fact_source`` is kept on each fact stored
    (``source`` otherwise, the door's name).

    ``admit`` drops (and counts as out of scope) events it does not take; ``whole_courses``
    marks each touched course dirty as a whole; ``dry_run`` counts instead of writing;
    ``unparsed`` are (raw text, outcome) of inputs rejected before normalizing (log lines
    that are not JSON), recorded with the batch's own rejections. Events of a course the
    LMS does not know are rejected (``unknown_course``), except for ``named_courses``: the
    courses an operator named to a backfill, whose history may outlive the course itself.
    """
    events = raw_events if isinstance(raw_events, list) else list(raw_events)
    result = BatchResult()
    taken: list[tuple[int, Outcome]] = []
    rejected = result.rejected
    rejections = result.rejections
    for index, raw in enumerate(events):
        outcome = normalize(raw, generic=generic, grants=grants)
        if outcome.reason is None:
            if outcome.records and admit is not None and not admit.admits(outcome.records[0].course_id, outcome.time):
                result.out_of_scope += 1
                continue
            taken.append((index, outcome))
        else:
            if admit is not None and not admit.admits_rejected(raw, outcome.time):
                result.out_of_scope += 1
                continue
            rejected[outcome.reason] += 1
            rejections.append((index, outcome))
    if course_allowed is not None:
        taken = _keep_allowed_courses(taken, result, course_allowed)
    records = _keep_known_courses(taken, result, named_courses)
    for _text, outcome in unparsed:
        rejected[outcome.reason] += 1
    if dry_run is not None:
        dry_run.count(records)
        return result
    if atomic and (rejections or unparsed):
        result.accepted = 0
        result.by_course.clear()
    else:
        result.scopes = write_facts(records, whole_courses=whole_courses,
                                    source=source if fact_source is None else fact_source)
    rejections.sort(key=lambda pair: pair[0])
    if rejections or unparsed:
        record_rejections(
            source,
            [events[index] for index, _outcome in rejections] + [text for text, _outcome in unparsed],
            [outcome for _index, outcome in rejections] + [outcome for _text, outcome in unparsed],
        )
    return result


def _keep_allowed_courses(taken: list[tuple[int, Outcome]], result: BatchResult,
                          course_allowed: Callable[[str], bool]) -> list[tuple[int, Outcome]]:
    """The accepted events whose every record is of a course ``course_allowed`` admits; the others
    become ``course_not_granted`` rejections (checked before the LMS is asked about any course)."""
    kept: list[tuple[int, Outcome]] = []
    for index, outcome in taken:
        refused = next((record.course_id for record in outcome.records if not course_allowed(record.course_id)), None)
        if refused is None:
            kept.append((index, outcome))
            continue
        result.rejected[COURSE_NOT_GRANTED] += 1
        result.rejections.append((index, Outcome(
            records=[], reason=COURSE_NOT_GRANTED, detail=f"this sender may not send events of {refused[:200]!r}",
            name=outcome.name, time=outcome.time, field="context.course_id")))
    return kept


def _keep_known_courses(taken: list[tuple[int, Outcome]], result: BatchResult,
                        named_courses: Collection[str]) -> list[Record]:
    """The records of the accepted events whose courses the LMS knows, with their visits placed in the
    outline (``placed_visits``); the others become rejections.

    One look-up for the batch's distinct courses (``lms.courses.known_courses``, cached).
    Where there is neither the LMS nor a stand-in app the check cannot run and every course
    is taken: no learner-facing door runs there (see docs/reliability.md).
    """
    courses = {record.course_id for _index, outcome in taken for record in outcome.records}
    unchecked = courses - set(named_courses)
    try:
        known = known_courses(unchecked) if unchecked else set()
    except NotAvailable:
        _warn_unchecked()
        known = unchecked
    known |= courses - unchecked
    records: list[Record] = []
    visits: list[ContentVisit] = []
    for index, outcome in taken:
        unknown = next((record.course_id for record in outcome.records if record.course_id not in known), None)
        if unknown is not None:
            result.rejected[UNKNOWN_COURSE] += 1
            result.rejections.append((index, Outcome(
                records=[], reason=UNKNOWN_COURSE, detail=f"the LMS has no course {unknown[:200]!r}",
                name=outcome.name, time=outcome.time, field="context.course_id")))
            continue
        if outcome.records:
            result.by_course[outcome.records[0].course_id] += 1
            records.extend(outcome.records)
            if outcome.visit is not None:
                visits.append(outcome.visit)
        result.accepted += 1
    return records + placed_visits(visits)


def placed_visits(visits: Iterable[ContentVisit]) -> list[ContentVisit]:
    """The visits whose block is in its course's outline, each with the outline parts holding it.

    A block in no part of the outline (an invented id, a block of another course, one
    deleted from the course) stores nothing: what one learner can add to engagement by
    content is bounded by the outline, not by what they send. Without any LMS there is no
    outline, and no visit is stored. One cached outline read per course (``outline_places``).
    """
    placed: list[ContentVisit] = []
    outlines: dict[str, dict[str, tuple[str, ...]]] = {}
    for visit in visits:
        outline = outlines.get(visit.course_id)
        if outline is None:
            try:
                outline = places(visit.course_id)
            except NotAvailable:
                outline = {}
            outlines[visit.course_id] = outline
        parts = outline.get(visit.block_id)
        if parts:
            placed.append(dataclasses.replace(visit, parts=parts))
    return placed


_warned_unchecked = False


def _warn_unchecked() -> None:
    """Say once per process that courses are not checked here (no LMS, no stand-in app)."""
    global _warned_unchecked  # noqa: PLW0603 - one warning per process, not one per batch
    if not _warned_unchecked:
        _warned_unchecked = True
        log.warning("openedx_analytics: no LMS and no stand-in LMS app: events are stored without checking "
                    "that their courses exist")


def record_rejections(source: str, events: list[Any], outcomes: list[Outcome]) -> None:
    """Add to the per-reason counters and keep a bounded sample of rejected events."""
    using = conf.analytics_db()
    counts = Counter(outcome.reason for outcome in outcomes if outcome.reason)
    limit = int(conf.get("OPENEDX_ANALYTICS_REJECTED_SAMPLE_SIZE"))
    with transaction.atomic(using=using):
        for reason, count in counts.items():
            updated = RejectionCount.objects.using(using).filter(source=source, reason=reason).update(
                count=F("count") + count
            )
            if not updated:
                RejectionCount.objects.using(using).get_or_create(source=source, reason=reason)
                RejectionCount.objects.using(using).filter(source=source, reason=reason).update(
                    count=F("count") + count
                )
        samples = [
            RejectedEventSample(
                source=source, reason=outcome.reason, name=outcome.name[:255], detail=outcome.detail[:1000],
                payload=_excerpt(event),
            )
            for event, outcome in zip(events, outcomes, strict=True)
            if outcome.reason
        ][: limit * len(counts)]
        RejectedEventSample.objects.using(using).bulk_create(samples)
        for reason in counts:
            stale = (
                RejectedEventSample.objects.using(using).filter(reason=reason)
                .order_by("-created", "-id").values_list("id", flat=True)[limit:]
            )
            stale_ids = list(stale)
            if stale_ids:
                RejectedEventSample.objects.using(using).filter(id__in=stale_ids).delete()
    log.info("openedx_analytics: rejected %s events from %s: %s", sum(counts.values()), source, dict(counts))


def _excerpt(event: Any) -> str:
    return sample_text(event, SAMPLE_PAYLOAD_CHARS)
