"""The registry of record kinds and the marker keys: one statement per kind, read the same by every part.

What each kind of record writes, marks and dates is read from ``pipeline.kinds``; every
table naming a learner is deleted by retirement and de-identified by retention, which the
models themselves say (any model with a ``user_id`` column), not a hand-kept list.
"""
from __future__ import annotations

import datetime as dt
import typing

import pytest
from django.apps import apps
from django.db import models

from openedx_analytics import conf
from openedx_analytics.models import DirtyScope
from openedx_analytics.pipeline import markers
from openedx_analytics.pipeline.kinds import ENGINE_LEARNER_TABLES, KINDS, LEARNER_TABLES
from openedx_analytics.pipeline.records import (
    Activity,
    CertificateChange,
    ContentVisit,
    EnrollmentChange,
    GradeChange,
    PartAnswer,
    PartQuestion,
    PassingChange,
    ProblemSubmission,
    Record,
    VideoEvent,
)
from openedx_analytics.privacy import retention, retirement

COURSE = "course-v1:Kinds+K1+2026"
NOW = dt.datetime(2026, 3, 4, 10, 30, tzinfo=dt.timezone.utc)
LEARNER = 5

SAMPLES: dict[type, Record] = {
    EnrollmentChange: EnrollmentChange(COURSE, LEARNER, NOW, "audit", True),
    GradeChange: GradeChange(COURSE, LEARNER, NOW, 0.5),
    PassingChange: PassingChange(COURSE, LEARNER, NOW, True),
    CertificateChange: CertificateChange(COURSE, LEARNER, NOW, "verified", "downloadable"),
    ProblemSubmission: ProblemSubmission(COURSE, "p1", LEARNER, NOW, 1, True, (PartAnswer("p1_2_1", "A", True),)),
    PartQuestion: PartQuestion(COURSE, "p1", "p1_2_1", NOW, "Capital of France?"),
    VideoEvent: VideoEvent(COURSE, "v1", LEARNER, NOW, "play", 0.0),
    Activity: Activity(COURSE, LEARNER, NOW.date(), ("any", "video")),
    ContentVisit: ContentVisit(COURSE, LEARNER, NOW.date(), "v1", ("any", "video"), ("section", "subsection", "unit")),
}


def columns_of(model: type[models.Model]) -> set[str]:
    """The model's concrete columns, its own primary key left out."""
    return {field.name for field in model._meta.concrete_fields if not field.primary_key}


def learner_models() -> list[type[models.Model]]:
    """Every analytics model of the app with a learner column, found by introspection (the LMS default
    database's models point at ``auth.User``: staff and service accounts, deleted with their user)."""
    return [model for model in apps.get_app_config("openedx_analytics").get_models()
            if "user_id" in {field.attname for field in model._meta.concrete_fields}
            and not getattr(model, "ANALYTICS_DEFAULT_DB", False)]


def test_every_record_type_has_one_kind_whose_rows_fill_its_fact_table():
    assert set(KINDS) == set(typing.get_args(Record)) == set(SAMPLES)
    assert len({kind.label for kind in KINDS.values()}) == len({kind.model for kind in KINDS.values()}) == len(KINDS)
    for record_type, kind in KINDS.items():
        assert kind.model.__name__ == record_type.fact_model
        assert set(kind.stored_columns) == columns_of(kind.model), kind.label
        assert kind.fingerprinted == ("fingerprint" in columns_of(kind.model))
        assert isinstance(kind.model._meta.get_field(kind.dated_by), models.DateField)
        rows = kind.rows(SAMPLES[record_type])
        assert rows and all(len(row) == len(kind.columns) for row in rows)
        if kind.fingerprinted:
            assert rows == ((*rows[0][:-1], SAMPLES[record_type].fingerprint()),)


def test_a_kinds_scopes_are_of_the_kinds_it_says_it_feeds():
    for record_type, kind in KINDS.items():
        scopes = kind.scopes(SAMPLES[record_type])
        assert tuple(scope[0] for scope in scopes) == kind.scope_kinds
        assert all(scope[1] == COURSE for scope in scopes)
        assert kind.whole_course_scopes(COURSE) == [(scope_kind, COURSE, markers.ALL_KEYS)
                                                    for scope_kind in kind.scope_kinds]
        assert set(kind.scope_kinds) <= set(DirtyScope.ORDER)
    assert {kind for kinds in LEARNER_TABLES.values() for kind in kinds} == set(DirtyScope.ORDER)


def test_the_learner_tables_are_the_fact_tables_and_the_engines_learner_rows():
    """Every fact table naming a learner; the question texts (course content, no ``user_id``) are none of them."""
    assert list(LEARNER_TABLES) == [kind.model for kind in KINDS.values() if kind.names_learner] + list(
        ENGINE_LEARNER_TABLES)
    assert [kind.model.__name__ for kind in KINDS.values() if not kind.names_learner] == ["ProblemQuestionFact"]
    assert set(retention.DATED) == {kind.model for kind in KINDS.values() if kind.names_learner}


def sample_row(model: type[models.Model], user_id: int) -> models.Model:
    """A row of ``model`` naming ``user_id`` in ``COURSE``, dated long ago, every other column filled by its type."""
    long_ago = NOW - dt.timedelta(days=400)
    by_type = {
        "CharField": "x", "TextField": "", "BooleanField": True, "FloatField": 1.0, "JSONField": [],
        "IntegerField": 1, "BigIntegerField": 1, "PositiveIntegerField": 1, "PositiveSmallIntegerField": 1,
        "DateTimeField": long_ago, "DateField": long_ago.date(),
    }
    values = {field.attname: by_type[field.get_internal_type()]
              for field in model._meta.concrete_fields if not field.primary_key}
    return model(**{**values, "course_id": COURSE, "user_id": user_id})


@pytest.mark.django_db(databases=["default", "analytics"])
def test_every_model_naming_a_learner_is_covered_by_retirement_and_by_retention():
    """Add a model with a ``user_id`` and leave it out of ``kinds.LEARNER_TABLES``: this fails."""
    using = conf.analytics_db()
    found = learner_models()
    assert len(found) >= len(LEARNER_TABLES)

    def store_rows() -> None:
        for model in found:
            sample_row(model, LEARNER).save(using=using)

    def naming_the_learner() -> list[str]:
        return [model.__name__ for model in found if model.objects.using(using).filter(user_id=LEARNER).exists()]

    store_rows()
    retired = retirement.retire_learner(LEARNER)
    assert naming_the_learner() == [], "retirement left rows naming the learner"
    assert {model.__name__ for model in found} <= {name for name, count in retired.deleted.items() if count}
    assert set(DirtyScope.objects.using(using).values_list("kind", "course_id", "key")) == {
        (kind, COURSE, markers.ALL_KEYS) for kind in DirtyScope.ORDER}

    store_rows()
    assert retention.stale_learners(COURSE, NOW, using) == {LEARNER}
    counts = retention.deidentify(COURSE, [LEARNER], using)
    assert naming_the_learner() == [], "retention left rows naming the learner"
    assert all(counts.get(model.__name__) == 1 for model in found), counts
    for model in found:
        assert model.objects.using(using).get(course_id=COURSE).user_id < 0
