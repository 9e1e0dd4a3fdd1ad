"""The one event registry: every accepted name with its normalizer, sources, payload fields and signal.

Everything that decides which events we take is derived from here:

- ``registration_for``: which function reads an event, given its name and who sent it (the
  source rules), and under which payload allow-list;
- ``is_tracked``: the doors' cheap filter before anything is enqueued;
- ``DATA_FIELDS``: the payload fields the doors keep (tracking door, signal door, log
  reader): the union of what the registered events may read;
- ``SIGNALS`` and ``DATA_KWARGS``: the openedx-events signals the app connects and the
  keywords their data objects travel in;
- ``GRANTS``: the kinds of events another system may be granted through the ingest gateway
  (each a family), and the kinds it holds without an explicit grant.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

from openedx_analytics.pipeline.envelope import CLIENT_SOURCES, SERVICE_SOURCE, Envelope
from openedx_analytics.pipeline.events.activity import GENERIC, NOT_ENGAGEMENT_PREFIXES
from openedx_analytics.pipeline.events.certificates import CERTIFICATES
from openedx_analytics.pipeline.events.engagement import ENGAGEMENT
from openedx_analytics.pipeline.events.enrollment import ENROLLMENT
from openedx_analytics.pipeline.events.grades import GRADES
from openedx_analytics.pipeline.events.problems import PROBLEMS
from openedx_analytics.pipeline.events.registration import Family, Registration, Signal
from openedx_analytics.pipeline.events.video import VIDEO
from openedx_analytics.pipeline.rejected import Rejected

#: The families of accepted events, in the order their signals are connected.
FAMILIES: tuple[Family, ...] = (ENROLLMENT, GRADES, CERTIFICATES, ENGAGEMENT, VIDEO, PROBLEMS)


def _gather(families: tuple[Family, ...]) -> dict[str, Registration]:
    registry: dict[str, Registration] = {}
    for family in families:
        for registration in family.registrations:
            if registration.name in registry:
                raise ValueError(f"event {registration.name!r} is registered twice")
            registry[registration.name] = registration
    return registry


#: event name -> its registration: the one place that says what a name means and who may say it.
REGISTRY: dict[str, Registration] = _gather(FAMILIES)


def _door_fields(registrations: list[Registration]) -> dict[str, tuple[str, ...] | None]:
    """The union of the registrations' payload allow-lists (one entry-key list per mapping field)."""
    union: dict[str, tuple[str, ...] | None] = {}
    for registration in registrations:
        for name, keys in registration.fields.items():
            if union.setdefault(name, keys) != keys:
                raise ValueError(f"payload field {name!r} is declared with different entry keys")
    return union


#: Payload fields the doors keep: those some registered event may read. A tuple keeps only those
#: keys in each entry of the mapping (per-part problem details).
DATA_FIELDS: dict[str, tuple[str, ...] | None] = _door_fields([GENERIC, *REGISTRY.values()])

#: Kinds of events a sending service (``SERVICE_SOURCE``) may be granted, each the family of its names.
GRANTS: dict[str, Family] = {
    "activity": ENGAGEMENT, "video": VIDEO, "problems": PROBLEMS,
    "enrollment": ENROLLMENT, "grades": GRADES, "certificates": CERTIFICATES,
}
#: What an external tool may report without an explicit grant: what its learners did. Enrollment,
#: grade and certificate facts change who counts as enrolled, passing or certified: explicit grants only.
DEFAULT_GRANTS: frozenset[str] = frozenset({"activity", "video", "problems"})
#: event name -> the grant that lets a sending service assert it.
GRANT_OF: dict[str, str] = {
    registration.name: grant for grant, family in GRANTS.items() for registration in family.registrations
}

#: The openedx-events signals we receive, in registration order.
SIGNALS: tuple[Signal, ...] = tuple(r.signal for r in REGISTRY.values() if r.signal is not None)

#: The keywords the signals' data objects travel in, each once.
DATA_KWARGS: tuple[str, ...] = tuple(dict.fromkeys(signal.keyword for signal in SIGNALS))


def is_tracked(name: str, context: dict[str, Any] | None = None) -> bool:
    """Cheap test the doors run before enqueueing: is this event worth a message?

    Registered names always are; any other name only when its context ties it to a
    course (a course id, or a course URL as page or path) and to a learner.
    """
    if name in REGISTRY:
        return True
    if not context or not context.get("user_id") or name.startswith(NOT_ENGAGEMENT_PREFIXES):
        return False
    if context.get("course_id"):
        return True
    return any("/courses/" in str(context.get(key) or "") for key in ("page", "path")) or "/courses/" in name


def registration_for(envelope: Envelope, generic: bool, grants: Collection[str] = ()) -> Registration:
    """How ``envelope`` is read, given its name and who sent it.

    A name without a registration counts as generic activity (refused as ``unknown_event``
    when ``generic`` is off). A registered name from a source it does not trust is refused
    (``untrusted_source``), except that a browser or mobile copy of an engagement name still
    counts as the sender's own "any" activity, as any other course event of theirs does.
    An event another system sent (``SERVICE_SOURCE``) is read as the server's when the
    sender holds the grant of its name's family (``grants``), else refused (``not_granted``).
    """
    name = envelope.name
    registration = REGISTRY.get(name)
    if registration is None:
        if not generic:
            raise Rejected("unknown_event", f"no normalizer for {name[:100]!r}", "name")
        return GENERIC
    if envelope.event_source == SERVICE_SOURCE:
        grant = GRANT_OF[name]
        if grant not in grants:
            raise Rejected("not_granted", f"this sender is not granted {grant} events", "name")
        return registration
    if registration.allows(envelope.event_source):
        return registration
    if generic and envelope.event_source in CLIENT_SOURCES and not name.startswith(NOT_ENGAGEMENT_PREFIXES):
        return GENERIC
    raise Rejected("untrusted_source", f"{name[:100]!r} may not come from {envelope.event_source[:32]!r}", "name")
