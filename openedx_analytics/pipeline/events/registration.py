"""How an accepted event name is declared: its normalizer, its sources, its payload fields, its signal.

Each family module (enrollment, grades, ...) holds a ``Family`` and registers its names on
it next to the functions that read them; ``registry`` gathers the families into the one
table every door and the normalizer derive their rules from.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from openedx_analytics.pipeline.envelope import SERVER_SOURCES, Envelope
from openedx_analytics.pipeline.payload import Entries, FieldList, field_list
from openedx_analytics.pipeline.records import Record

Normalizer = Callable[[Envelope], list[Record]]

#: Start of the event type of every openedx-events learning signal.
SIGNAL_PREFIX = "org.openedx.learning."


@dataclass(frozen=True, slots=True)
class Signal:
    """The openedx-events signal an event name comes from.

    ``attribute`` names it in ``openedx_events.learning.signals``; its data object travels
    in the keyword argument ``keyword``; ``event_type`` is the name it is registered under.
    """

    attribute: str
    keyword: str
    event_type: str


@dataclass(frozen=True, slots=True)
class Registration:
    """What one accepted event name means and who may say it.

    ``sources``: the event sources that may assert it (None: any). ``fields``: the payload
    fields its normalizer may read, the identity fields included. ``signal``: the
    openedx-events signal it comes from, when it is one.
    """

    name: str
    normalizer: Normalizer
    sources: frozenset[str] | None
    fields: FieldList
    signal: Signal | None = None

    def allows(self, source: str) -> bool:
        """Whether an event of this name from ``source`` may be read as what it says."""
        return self.sources is None or source in self.sources


class Family:
    """The event names one module accepts, in the order it registers them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.registrations: list[Registration] = []

    def register(
        self,
        *names: str | Signal,
        sources: frozenset[str] | None = SERVER_SOURCES,
        fields: tuple[str | Entries, ...] = (),
    ) -> Callable[[Normalizer], Normalizer]:
        """Register the decorated function as the normalizer of each name (or signal) given.

        The default sources are the server's: a name a browser or mobile app may send too
        must say so (``sources=None``) and then read nothing from its payload that only the
        server knows. ``fields`` are the payload fields the function may read (besides the
        course and learner ids); ``Entries`` names a mapping of parts and the keys read in each.
        """
        allowed = field_list(*fields)

        def decorator(func: Normalizer) -> Normalizer:
            for name in names:
                signal = name if isinstance(name, Signal) else None
                event_name = name.event_type if isinstance(name, Signal) else name
                self.registrations.append(Registration(event_name, func, sources, allowed, signal))
            return func

        return decorator
