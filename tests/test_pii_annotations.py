"""Every model carries an OEP-30 PII annotation, as code-annotations (the edx tool) reads them.

The same tool and configuration (``.pii_annotations.yml``, coverage target 100%) run in
``run-tests.sh``; these tests prove the check passes today and fails when a model loses
its annotation or carries an incomplete one.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from code_annotations.base import AnnotationConfig
from code_annotations.find_django import DjangoSearch

from openedx_analytics.models import EnrollmentDay, EnrollmentFact

CONFIG = str(Path(__file__).resolve().parent.parent / ".pii_annotations.yml")


def check(app_name: str) -> tuple[bool, bool, DjangoSearch]:
    """Run code-annotations' lint and coverage checks on one app: (lint passed, coverage met, searcher)."""
    search = DjangoSearch(AnnotationConfig(CONFIG, None, 0), app_name)
    results = search.search()
    lint = search.check_results(results)
    return lint, search.check_coverage(), search


@pytest.mark.parametrize("app_name", ["openedx_analytics", "lms_host.stub"])
def test_every_model_is_annotated_and_the_annotations_lint(app_name):
    lint, covered, search = check(app_name)
    assert lint, search.errors
    assert covered, sorted(search.uncovered_model_ids)
    assert search.model_counts["annotated"] == search.model_counts["annotation_eligible"] > 0


def test_a_model_without_an_annotation_fails_the_check(monkeypatch):
    monkeypatch.setattr(EnrollmentDay, "__doc__", "Enrollment figures of a course at the end of a UTC day.")
    lint, covered, search = check("openedx_analytics")
    assert not covered
    assert "openedx_analytics.EnrollmentDay" in search.uncovered_model_ids


def test_a_pii_annotation_without_its_types_and_retirement_fails_the_lint(monkeypatch):
    monkeypatch.setattr(EnrollmentFact, "__doc__", "An enrollment state.\n\n    .. pii: The LMS user id.\n")
    lint, _covered, search = check("openedx_analytics")
    assert not lint
    assert search.errors
