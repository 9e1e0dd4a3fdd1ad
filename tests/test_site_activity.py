"""The site's and orgs' distinct weekly active learners (``metrics.site_activity``): facts in through the fact
writer, drained as the workers drain, figures out of ``api.site``; equal to hand-computed counts whatever the
order the facts arrive in, after a backfill and after a learner's retirement, and equal to counting at request time.

Four orgs' courses, one of them an old-style id (``Beta/B2/2026``) and one an org whose name
begins another's (``Alph``, ``Alpha``), so an org's courses are told apart by their ids' prefixes:

- week W0: learner 9 in Alpha's A2 only;
- week W1: learner 1 in A1 and B1 (two orgs), learner 2 in A1 and A2 (one org, two
  courses), learner 3 in B2, learner 4 in Alph's X1: the site 4, Alpha 2, Beta 2, Alph 1;
- week W2: learner 1 in A1, learner 5 in B1, learner 9 in B1: the site 3, Alpha 1, Beta 2.
"""
from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from openedx_analytics.api import site as api_site
from openedx_analytics.metrics import site_activity
from openedx_analytics.models import DirtyScope, SiteActivityWeek
from openedx_analytics.pipeline import markers
from openedx_analytics.pipeline.facts import write_facts
from openedx_analytics.pipeline.records import Activity
from openedx_analytics.privacy.retirement import retire_learner
from openedx_analytics.worker.drain import drain

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

A1, A2, B1, B2, X1 = ("course-v1:Alpha+A1+2026", "course-v1:Alpha+A2+2026", "course-v1:Beta+B1+2026",
                      "Beta/B2/2026", "course-v1:Alph+X1+2026")
W0, W1, W2 = dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 23)
#: (course, learner, day) of every activity, in the order the live tests send them: the newest week first,
#: then an older one late, then a backfilled week before both.
BATCHES = [
    [(A1, 1, W2 + dt.timedelta(days=2)), (B1, 5, W2), (B1, 9, W2 + dt.timedelta(days=6))],
    [(A1, 1, W1), (B1, 1, W1 + dt.timedelta(days=1)), (A1, 2, W1), (A2, 2, W1 + dt.timedelta(days=3)),
     (B2, 3, W1 + dt.timedelta(days=4)), (X1, 4, W1)],
    [(A2, 9, W0 + dt.timedelta(days=5))],
    # Nothing new to count: learner 1 again in an Alpha course that week, learner 2 on another day.
    [(A2, 1, W1 + dt.timedelta(days=2)), (A1, 2, W1 + dt.timedelta(days=6))],
]
EXPECTED = {
    ("", W0): 1, ("Alpha", W0): 1,
    ("", W1): 4, ("Alpha", W1): 2, ("Beta", W1): 2, ("Alph", W1): 1,
    ("", W2): 3, ("Alpha", W2): 1, ("Beta", W2): 2,
}
#: Learner 9 retired: week W0 had no one else, and B1 in W2 one learner less.
AFTER_RETIREMENT = {key: n for key, n in {**EXPECTED, ("", W2): 2, ("Beta", W2): 1}.items() if key[1] != W0}


def records(batch):
    return [Activity(course, user, day, ("any",)) for course, user, day in batch]


def send(batch) -> None:
    """Store a batch's facts and drain its courses, as a live batch is."""
    write_facts(records(batch))
    report = drain(courses=sorted({course for course, _user, _day in batch}))
    assert not report.failed and not report.quarantined, report


def stored() -> dict:
    return site_activity.stored_rows("analytics")


def test_live_events_in_any_order_give_the_hand_computed_counts():
    for batch in BATCHES:
        send(batch)
    assert stored() == EXPECTED
    assert site_activity.expected_rows("analytics") == EXPECTED
    assert not DirtyScope.objects.using("analytics").exists()


def test_a_backfill_gives_the_same_counts():
    write_facts(records([activity for batch in reversed(BATCHES) for activity in batch]), whole_courses=True)
    drain(courses=[A1, A2, B1, B2, X1])
    assert stored() == EXPECTED


def test_a_stale_figure_heals_at_the_next_recount():
    """A figure is recounted, never incremented: a wrong stored row is replaced, an orphan week removed."""
    for batch in BATCHES:
        send(batch)
    SiteActivityWeek.objects.using("analytics").filter(org="Beta", week=W1).update(any=99)
    SiteActivityWeek.objects.using("analytics").create(org="Gone", week=W1, any=5, last_updated=dt.datetime.now(
        dt.timezone.utc))
    send([(B1, 5, W1)])  # a new learner of Beta that week: Beta and the site recounted
    assert stored()[("Beta", W1)] == 3 and stored()[("", W1)] == 5
    markers.mark_dirty([(site_activity.KIND, markers.SITE, markers.ALL_KEYS)], using="analytics")
    drain(courses=[])
    assert stored() == {**EXPECTED, ("Beta", W1): 3, ("", W1): 5}


def test_a_retired_learner_is_no_longer_counted():
    for batch in BATCHES:
        send(batch)
    retired = retire_learner(9)
    assert markers.SITE not in retired.courses
    drain(courses=sorted(retired.courses))
    assert stored() == AFTER_RETIREMENT
    assert site_activity.expected_rows("analytics") == AFTER_RETIREMENT


def weeks(rows) -> dict:
    return {row["interval_start"]: row["any"] for row in rows}


@pytest.mark.parametrize(("courses", "scope", "expected"), [
    ([A1, A2, B1, B2, X1], "", {W0: 1, W1: 4, W2: 3}),
    ([A1, A2], "Alpha", {W0: 1, W1: 2, W2: 1}),
    ([B1, B2], "Beta", {W1: 2, W2: 2}),
    ([X1], "Alph", {W1: 1}),
    # Sets no figure is kept for: counted now.
    ([A1, B1], None, {W1: 2, W2: 3}),
    ([A1, A2, B1, B2], None, {W0: 1, W1: 3, W2: 3}),  # every course but one
    ([B2, X1], None, {W1: 2}),
])
def test_the_precomputed_figures_equal_counting_now(courses, scope, expected):
    for batch in BATCHES:
        send(batch)
    assert api_site.precomputed_scope(courses) == scope
    assert weeks(api_site.weekly_active_learners(courses)) == expected
    assert weeks(api_site.counted_now(sorted(courses), None, None)) == expected
    with mock.patch.object(api_site, "IN_LIMIT", 1):  # the slices of a long set, joined in Python
        assert weeks(api_site.counted_now(sorted(courses), None, None)) == expected
    assert weeks(api_site.weekly_active_learners(courses, start=W1 + dt.timedelta(days=3), end=W2)) == {
        week: n for week, n in expected.items() if week == W1}


def test_a_pending_rebuild_means_counting_now():
    """Until the drain has built the figures (after the upgrade, a restore), the readers count."""
    for batch in BATCHES:
        send(batch)
    SiteActivityWeek.objects.using("analytics").all().delete()
    markers.mark_dirty([(site_activity.KIND, markers.SITE, markers.ALL_KEYS)], using="analytics")
    assert api_site.precomputed_scope([A1, A2, B1, B2, X1]) is None
    assert weeks(api_site.weekly_active_learners([A1, A2, B1, B2, X1])) == {W0: 1, W1: 4, W2: 3}


def test_site_week_keys():
    assert markers.site_week_key(W1, "Alpha") == "2026-11-16 Alpha"
    assert markers.site_week_key(W1, "") == "2026-11-16"
    assert markers.site_week_key(W1, "o" * 300) == "2026-11-16"
    assert markers.split_site_weeks({"2026-11-16 Alpha", "2026-11-16 Beta", "2026-11-23", "2026-11-23 Beta"}) == (
        False, {W2}, {W1: {"Alpha", "Beta"}})
    assert markers.split_site_weeks({"*"})[0] is True
    with pytest.raises(ValueError):
        markers.split_site_weeks({"soon Alpha"})


def test_the_cache_lifetime_is_a_setting(settings):
    for batch in BATCHES:
        send(batch)
    assert weeks(api_site.weekly_active_learners([A1]))[W1] == 2
    send([(A1, 7, W1)])
    assert weeks(api_site.weekly_active_learners([A1]))[W1] == 2  # kept for the default 300 s
    settings.OPENEDX_ANALYTICS_SITE_CACHE_SECONDS = 0
    assert weeks(api_site.weekly_active_learners([A2]))[W1] == 2  # learners 1 and 2
    send([(A2, 8, W1)])
    assert weeks(api_site.weekly_active_learners([A2]))[W1] == 3  # 0: read afresh every time
