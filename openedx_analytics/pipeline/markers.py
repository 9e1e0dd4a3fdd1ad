"""Dirty-scope markers: the one place their keys are written and read.

A marker (``DirtyScope``) names a kind, a course and a key; ``DirtyScope`` describes what
the key of each kind names. Writers (the fact writer, retirement, the drain's retries)
and readers (the engines) meet here, so a key is encoded and decoded by one rule:

- a learner key ``"<user_id> <block id or ISO day>"`` (``learner_key``, ``learner_day_key``),
  read back by ``split_learner_keys`` and ``split_learner_days``; an id too long to carry
  a user id as well is written bare, which asks for the whole block (every learner of it);
- a day key (ISO date, ``day_key``), read by ``first_day``;
- a user key (the user id, ``user_key``), read by ``user_ids_of``;
- a site week key ``"<ISO Monday> <org>"`` (``site_week_key``; course id ``SITE``), read by
  ``split_site_weeks``; a bare Monday asks for the site and every org of that week;
- ``ALL_KEYS``: rebuild the kind's aggregates of the course from all its facts.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from openedx_analytics import conf
from openedx_analytics.db.bulk import insert_ignore
from openedx_analytics.models import DirtyScope

#: (kind, course_id, key) of one marker.
Scope = tuple[str, str, str]

#: The key of a marker that asks for every key of its kind and course (bulk writers and retirement use it).
ALL_KEYS = "*"

#: The course id of markers naming figures of the whole site (``DirtyScope.SITE_ORDER`` kinds): one unit, one lock.
SITE = ""

#: The longest key a marker can hold (read from the model, so the two cannot disagree).
KEY_LENGTH: int = DirtyScope._meta.get_field("key").max_length

_USER_ID = re.compile(r"[0-9]+")


def learner_key(user_id: int, block_id: str) -> str:
    """``"<user_id> <block_id>"``: one learner of a block; a block id too long for that asks for the whole block.

    Every block id that fits its own column is accepted this way: one whose learner key
    would pass ``KEY_LENGTH`` gets a bare key, and its engine recomputes every learner of it.
    """
    key = f"{user_id} {block_id}"
    return key if len(key) <= KEY_LENGTH else block_id


def learner_day_key(user_id: int, day: dt.date) -> str:
    """``"<user_id> <ISO day>"``: one learner active on a day (an activity marker)."""
    return learner_key(user_id, day_key(day))


def day_key(day: dt.date) -> str:
    """The key naming a UTC day (enrollment markers; the day part of activity markers)."""
    return day.isoformat()


def user_key(user_id: int) -> str:
    """The key naming a learner (grades markers)."""
    return str(user_id)


def site_week_key(monday: dt.date, org: str) -> str:
    """``"<ISO Monday> <org>"``: the site's and ``org``'s distinct learners of a week (a site activity marker).

    A course without an org, or an org too long to fit, gives the bare Monday: the whole week.
    """
    key = f"{day_key(monday)} {org}"
    return key if org and len(key) <= KEY_LENGTH else day_key(monday)


def split_site_weeks(keys: Iterable[str]) -> tuple[bool, set[dt.date], dict[dt.date, set[str]]]:
    """Read site week keys: (``ALL_KEYS`` asked, weeks to recount whole, week -> orgs to recount).

    Raises ``ValueError`` for a key that names no day (the drain records it as a failed scope).
    """
    whole: set[dt.date] = set()
    orgs: dict[dt.date, set[str]] = defaultdict(set)
    everything = False
    for key in keys:
        if key == ALL_KEYS:
            everything = True
            continue
        day, _, org = key.partition(" ")
        monday = dt.date.fromisoformat(day)
        if org:
            orgs[monday].add(org)
        else:
            whole.add(monday)
    return everything, whole, {monday: found for monday, found in orgs.items() if monday not in whole}


def whole_course(kind: str, course_id: str) -> Scope:
    """The marker asking for a rebuild of the course's aggregates of ``kind`` from all its facts."""
    return (kind, course_id, ALL_KEYS)


def _user_id(text: str) -> int | None:
    """The user id a key part names, or None when it is not one (ASCII digits only)."""
    return int(text) if _USER_ID.fullmatch(text) else None


def split_learner_keys(keys: Iterable[str]) -> tuple[set[str], dict[str, set[int]]]:
    """Read learner keys: (blocks to rebuild whole, block id -> learners to update).

    A key without a user id in front (a bare id) asks for its whole block. A block that is
    also asked for whole is left out of the per-learner map: its rebuild covers them.
    """
    whole: set[str] = set()
    learners: dict[str, set[int]] = defaultdict(set)
    for key in keys:
        user_text, _, block_id = key.partition(" ")
        user_id = _user_id(user_text) if block_id else None
        if user_id is None:
            whole.add(key)
        else:
            learners[block_id].add(user_id)
    return whole, {block: users for block, users in learners.items() if block not in whole}


def split_learner_days(keys: Iterable[str]) -> tuple[set[dt.date], dict[dt.date, set[int]]]:
    """Read activity keys: (days to recount whole, day -> learners active on it).

    A bare ISO day (a marker written before markers named learners) asks for the whole day.
    Raises ``ValueError`` for a key that names no day (the drain records it as a failed scope).
    """
    whole, learners = split_learner_keys(keys)
    return ({dt.date.fromisoformat(day) for day in whole},
            {dt.date.fromisoformat(day): users for day, users in learners.items()})


def first_day(keys: Iterable[str]) -> dt.date | None:
    """The earliest day named by day keys; None when a key asks for everything (``ALL_KEYS``, or a
    key that is not a day: a marker written before markers named a day)."""
    days = []
    for key in keys:
        if key == ALL_KEYS:
            return None
        try:
            days.append(dt.date.fromisoformat(key))
        except ValueError:
            return None
    return min(days) if days else None


def user_ids_of(keys: Iterable[str]) -> set[int] | None:
    """The learners named by user keys; None when a key asks for every learner (``ALL_KEYS``, or a key
    that is not a user id)."""
    user_ids = set()
    for key in keys:
        user_id = _user_id(key)
        if user_id is None:
            return None
        user_ids.add(user_id)
    return user_ids


def expand_keys(keys: set[str], facts: QuerySet, field: str) -> set[str]:
    """``keys``, or, when they hold ``ALL_KEYS``, every distinct ``field`` value of ``facts``."""
    if ALL_KEYS not in keys:
        return keys
    return set(facts.values_list(field, flat=True).distinct().order_by())


def mark_dirty(scopes: Iterable[Scope], *, using: str | None = None) -> None:
    """Append dirty markers for ``scopes`` (callers on the analytics alias pass ``using``)."""
    now = timezone.now()
    insert_ignore(
        DirtyScope, ("kind", "course_id", "key", "created"),
        [(kind, course, key, now) for kind, course, key in sorted(scopes)],
        using or conf.analytics_db(), ignore_conflicts=False,
    )
