"""Property-based tests: arbitrary JSON and bytes never crash the normalizer or the log reader,
and nothing rejected changes a fact, a marker or an aggregate.

Hypothesis draws events around the real shapes (registered names, every source, valid and
broken course and user ids, payload fields the normalizers may read and fields no door keeps,
with arbitrary values) as well as free-form JSON. A normalizer reads its payload only through
its registration's allow-list (reading any other field is a ``normalizer_error``), and the
doors keep the union of those lists, so what they drop can never change an outcome. The
number of cases each test ran is printed at the end of the module.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openedx_analytics.backfill.readers import BAD_JSON, BINARY, SKIP, TOO_DEEP, TRUNCATED, parse_line
from openedx_analytics.models import (
    ActivityFact,
    CertificateFact,
    DirtyScope,
    EnrollmentFact,
    GradeFact,
    PassingFact,
    ProblemSubmissionFact,
    VideoEventFact,
)
from openedx_analytics.pipeline.events.registry import DATA_FIELDS, REGISTRY
from openedx_analytics.pipeline.ingest import ingest
from openedx_analytics.pipeline.normalizer import normalize
from openedx_analytics.pipeline.redaction import redact

CASES: Counter = Counter()
FACT_MODELS = (ActivityFact, CertificateFact, DirtyScope, EnrollmentFact, GradeFact, PassingFact,
               ProblemSubmissionFact, VideoEventFact)
PROPERTY = settings(deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2 ** 62, max_value=2 ** 80)
           | st.floats() | st.text(max_size=40))
json_values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=12)
courses = st.sampled_from(["course-v1:Prop+Erty+2026", "Prop/Erty/2014", "nonsense", "", f"course-v1:P+{'x' * 300}+R"])
users = st.one_of(st.integers(min_value=-5, max_value=10), st.integers(min_value=2 ** 63 - 2, max_value=2 ** 70),
                  st.sampled_from(["7", "x", "", None]))
times = st.one_of(st.datetimes(timezones=st.just(dt.timezone.utc)).map(lambda t: t.isoformat()),
                  st.sampled_from(["2026-03-02T10:00:00Z", "2026-03-02 10:00:00+00:00", "9999-12-31T23:00:00-05:00",
                                   "yesterday", ""]))
names = st.sampled_from(sorted(REGISTRY) + ["seq_next", "/courses/course-v1:Prop+Erty+2026/progress", "x"])
sources = st.sampled_from(["server", "browser", "mobile", "task", "signal", "lms_table", "", "other"])
payload_values = st.one_of(json_values, st.floats(min_value=-10, max_value=1e7), st.sampled_from(["v1", "audit", "A"]))
#: Payload fields no registration lists (personal data, texts, fields the LMS sends that nothing reads).
UNLISTED_FIELDS = ["username", "email", "name", "ip", "code", "max_grade", "title", "body", "url", "question"]
payloads = st.dictionaries(st.sampled_from(sorted(DATA_FIELDS) + UNLISTED_FIELDS), payload_values, max_size=8)
contexts = st.fixed_dictionaries({"course_id": courses, "user_id": users}, optional={
    "event_source": sources, "username": st.text(max_size=8), "path": st.sampled_from(["/event", "/courses/x/y/z/a"]),
    "module": json_values})
events = st.one_of(
    st.fixed_dictionaries({"name": names, "timestamp": times, "context": contexts},
                          optional={"data": st.one_of(payloads, payloads.map(json.dumps), json_values)}),
    st.fixed_dictionaries({"event_type": names, "time": times, "context": contexts,
                           "event": st.one_of(payloads, payloads.map(json.dumps))},
                          optional={"event_source": sources, "page": st.text(max_size=30)}),
    json_values,
)


@pytest.fixture(scope="module", autouse=True)
def _report_cases(request):
    yield
    summary = ", ".join(f"{name}: {count}" for name, count in sorted(CASES.items()))
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nhypothesis cases run so far: {sum(CASES.values())} ({summary})")


@settings(PROPERTY, max_examples=300)
@given(events)
def test_normalize_never_raises_and_a_rejection_yields_no_record(event):
    CASES["normalize"] += 1
    outcome = normalize(event)
    assert (outcome.reason is None) or outcome.records == []
    assert outcome.reason != "normalizer_error", outcome.detail


@settings(PROPERTY, max_examples=300)
@given(events)
def test_the_allow_list_keeps_everything_the_normalizer_reads(event):
    CASES["redact"] += 1
    redacted = redact(event)
    before, after = normalize(event), normalize(redacted)
    assert after.records == before.records
    assert (after.reason is None) == (before.reason is None)
    if isinstance(redacted, dict) and isinstance(redacted.get("data"), dict):
        assert set(redacted["data"]) <= set(DATA_FIELDS)


@settings(PROPERTY, max_examples=300)
@given(st.binary(max_size=300) | events.map(lambda e: json.dumps(e).encode()) | st.sampled_from(
    [b"[" * 5000 + b"]" * 5000, b'{"a": ' + b"{" * 3000, b"\x00\x01\x02{}"]))
def test_the_log_reader_never_raises_on_any_bytes(line):
    CASES["parse_line"] += 1
    event, reason, detail = parse_line(line)
    assert reason in (None, SKIP, BAD_JSON, TRUNCATED, BINARY, TOO_DEEP)
    assert (event is None) == (reason is not None)
    assert isinstance(detail, str)


def _fact_counts() -> dict[str, int]:
    return {model.__name__: model.objects.using("analytics").count() for model in FACT_MODELS}


@pytest.mark.django_db(databases=["default", "analytics"])
@settings(PROPERTY, max_examples=60)
@given(events)
def test_a_rejected_event_changes_no_fact_and_marks_nothing_dirty(event):
    CASES["ingest"] += 1
    before = _fact_counts()
    result = ingest([event], source="live")
    if result.rejected:
        assert result.scopes == set()
        assert _fact_counts() == before


@pytest.mark.django_db(databases=["default", "analytics"])
@settings(PROPERTY, max_examples=15)
@given(st.lists(st.binary(max_size=200) | events.map(lambda e: json.dumps(e).encode()), min_size=1, max_size=8))
def test_backfill_of_arbitrary_lines_finishes_and_counts_every_line(tmp_path_factory, lines):
    CASES["backfill"] += 1
    path = tmp_path_factory.mktemp("log") / "tracking.log"
    path.write_bytes(b"\n".join(line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines) + b"\n")
    out = io.StringIO()
    call_command("backfill_analytics", "--tracking-logs", str(path), "--no-progress", "--restart", stdout=out)
    assert f"Lines read: {len(lines)} " in out.getvalue()
    assert DirtyScope.objects.using("analytics").count() == 0
