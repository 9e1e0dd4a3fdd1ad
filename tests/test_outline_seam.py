"""The course outline seam (``lms.courses.course_outline``/``course_grading``) inside an LMS simulated by fakes,
and on the stand-in app: no block structure is built in a request, a failure is one WARNING per course."""
from __future__ import annotations

import logging
import sys
import types
from decimal import Decimal

import pytest
from django.core.cache import cache
from opaque_keys.edx.keys import CourseKey, UsageKey

from lms_host.stub import models as lms
from openedx_analytics.lms import courses, host, outline
from tests.support.outline_tree import COURSE, NAMES, TREE, key

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])

BROKEN = "course-v1:Org+Unpublished+2026"
FIELDS = {block: {"display_name": name} for block, name in NAMES.items()}
FIELDS[key("sequential", "s1")].update({"graded": True, "format": "Homework"})
POLICY = {"GRADER": [{"type": "Homework", "min_count": 2, "drop_count": 0, "short_label": "HW", "weight": 0.6},
                     {"type": "Final Exam", "min_count": 1, "drop_count": 0, "short_label": "Final", "weight": 0.4}],
          "GRADE_CUTOFFS": {"Pass": 0.5}}


class FakeBlockStructure:
    """The few methods of edx-platform's BlockStructureBlockData that the outline build reads."""

    def __init__(self) -> None:
        self.root_block_usage_key = UsageKey.from_string(key("course", "course"))

    def topological_traversal(self):
        seen: list[str] = []
        for parent, children in TREE.items():
            seen += [b for b in [parent, *children] if b not in seen]
        return [UsageKey.from_string(b) for b in seen]

    def get_children(self, block):
        return [UsageKey.from_string(c) for c in TREE.get(str(block), [])]

    def get_xblock_field(self, block, name, default=None):
        return FIELDS.get(str(block), {}).get(name, default)


def fake_module(monkeypatch, name: str, **attrs) -> None:
    parts = name.split(".")
    for i in range(1, len(parts)):
        monkeypatch.setitem(sys.modules, ".".join(parts[:i]), sys.modules.get(".".join(parts[:i]))
                            or types.ModuleType(".".join(parts[:i])))
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    monkeypatch.setitem(sys.modules, name, module)


@pytest.fixture
def fake_lms(monkeypatch):
    """An LMS whose block-structure API, modulestore and overviews answer for ``COURSE`` (``BROKEN`` fails).

    Returns the calls: which courses had their block structure read (``built``) and which
    builds were queued to Celery (``queued``; not run, as a broker would hold them).
    """
    calls: dict[str, list[str]] = {"built": [], "queued": []}

    def get_course_in_cache(course_key):
        calls["built"].append(str(course_key))
        if str(course_key) != COURSE:
            raise RuntimeError("no block structure collected yet")
        return FakeBlockStructure()

    class Store:
        def get_course(self, course_key, depth=None):
            return types.SimpleNamespace(grading_policy=POLICY)

    fake_module(monkeypatch, "openedx.core.djangoapps.content.block_structure.api",
                get_course_in_cache=get_course_in_cache)
    fake_module(monkeypatch, "xmodule.modulestore.django", modulestore=Store)
    monkeypatch.setattr(outline, "lms_available", lambda: True)
    monkeypatch.setattr(outline, "lms_models", lambda: host.stand_in_models("CourseOverview"))
    monkeypatch.setattr(outline.build_course_outline, "apply_async",
                        lambda kwargs, queue, **_options: calls["queued"].append(kwargs["course_id"]))
    for course_id in (COURSE, BROKEN):
        lms.CourseOverview.objects.create(id=CourseKey.from_string(course_id), org="Org",
                                          lowest_passing_grade=Decimal("0.55"))
    cache.clear()
    outline.forget_warnings()
    yield calls
    cache.clear()
    outline.forget_warnings()


def test_a_page_request_never_builds_the_block_structure(fake_lms):
    """On a miss the request queues one build and shows ids; the worker's build makes the names appear."""
    assert courses.course_outline(COURSE) == {}
    assert courses.course_outline(COURSE) == {}
    assert fake_lms["built"] == [] and fake_lms["queued"] == [COURSE]  # queued once, built nowhere yet

    assert outline.build_course_outline(COURSE) is True  # what the worker runs
    blocks = courses.course_outline(COURSE)
    assert fake_lms["built"] == [COURSE]
    leaves = [(b, v["display_name"], v["section"], v["subsection"], v["unit"], v["graded"], v["format"])
              for b, v in sorted(blocks.items(), key=lambda item: item[1]["position"])
              if v["block_type"] in ("video", "problem")]
    assert leaves == [
        (key("video", "intro"), "Welcome", "Week 1", "Start", "Unit 1", True, "Homework"),
        (key("problem", "p1"), "Quiz 1", "Week 1", "Start", "Unit 1", True, "Homework"),
        (key("problem", "p0"), "Quiz 0", "Week 2", "More", "Unit 2", False, ""),
    ]
    assert blocks[key("problem", "p1")]["parent"] == key("vertical", "v1")
    assert blocks[key("problem", "p1")]["subsection_id"] == key("sequential", "s1")
    grading = courses.course_grading(COURSE)
    assert grading["passing_grade"] == 0.55  # the overview's lowest passing grade
    assert [(t["type"], t["weight"]) for t in grading["assignment_types"]] == [("Homework", 0.6), ("Final Exam", 0.4)]
    assert fake_lms["built"] == [COURSE]  # reading again built nothing more


def test_a_new_publish_keeps_the_last_outline_until_its_own_is_built(fake_lms):
    outline.build_course_outline(COURSE)
    lms.CourseOverview.objects.get(id=CourseKey.from_string(COURSE)).save()  # a publish rewrites the overview
    assert courses.course_outline(COURSE)  # the previous publish's names meanwhile
    assert fake_lms["queued"] == [COURSE] and fake_lms["built"] == [COURSE]


def test_an_unreadable_outline_is_one_warning_per_course_not_an_error_per_page(fake_lms, caplog):
    caplog.set_level(logging.DEBUG, logger="openedx_analytics")
    assert outline.build_course_outline(BROKEN) is False
    assert outline.build_course_outline(BROKEN) is False
    assert courses.course_outline(BROKEN) == {}
    records = [r for r in caplog.records if r.name.startswith("openedx_analytics.lms")]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert records[0].exc_info is None and BROKEN in records[0].getMessage()


def test_a_failing_read_in_a_request_is_quiet_too(fake_lms, monkeypatch, caplog):
    def broken():
        raise RuntimeError("database gone")

    monkeypatch.setattr(outline, "lms_models", broken)
    caplog.set_level(logging.DEBUG, logger="openedx_analytics")
    for _ in range(3):
        assert courses.course_outline(COURSE) == {} and courses.course_grading(COURSE)["assignment_types"] == []
    records = [r for r in caplog.records if r.name.startswith("openedx_analytics.lms")]
    assert [r.levelno for r in records] == [logging.WARNING] and records[0].exc_info is None


def test_the_stand_in_app_serves_grading_and_tags():
    course = CourseKey.from_string(COURSE)
    lms.CourseOverview.objects.create(id=course, org="Org", lowest_passing_grade=Decimal("0.6"))
    lms.CourseGradingPolicy.objects.create(course_id=course, grader=POLICY["GRADER"], grade_cutoffs={"Pass": 0.6})
    rows = [("course", "course", "", ""), ("chapter", "c1", key("course", "course"), ""),
            ("sequential", "s1", key("chapter", "c1"), ""), ("vertical", "v1", key("sequential", "s1"), ""),
            ("problem", "p1", key("vertical", "v1"), "Loops | Functions")]
    for position, (kind, name, parent, tags) in enumerate(rows):
        lms.CourseBlock.objects.create(course_id=course, usage_key=key(kind, name), block_type=kind,
                                       display_name=name.upper(), parent=parent, position=position, tags=tags,
                                       graded=kind == "sequential", format="Homework" if kind == "sequential" else "")
    blocks = courses.course_outline(COURSE)
    assert blocks[key("problem", "p1")]["tags"] == ["Loops", "Functions"]
    assert blocks[key("problem", "p1")]["format"] == "Homework" and blocks[key("problem", "p1")]["unit"] == "V1"
    grading = courses.course_grading(COURSE)
    assert grading["passing_grade"] == 0.6 and grading["grade_cutoffs"] == {"Pass": 0.6}
    assert grading["assignment_types"][0] == {"type": "Homework", "short_label": "HW", "weight": 0.6,
                                              "min_count": 2, "drop_count": 0}
