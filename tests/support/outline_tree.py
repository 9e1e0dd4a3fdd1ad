"""One small course outline, shared by the tests that read an outline through different seams.

Two sections, a subsection each, one unit each; a video that two units share (a block
reached twice) and a graded subsection. ``TREE`` gives each parent's children in course
order and ``NAMES`` the display names.
"""
from __future__ import annotations

COURSE = "course-v1:Org+Outline+2026"


def key(kind: str, name: str) -> str:
    """The usage key of block ``name`` of type ``kind`` in ``COURSE``."""
    return f"block-v1:Org+Outline+2026+type@{kind}+block@{name}"


TREE = {  # parent: children, in order
    key("course", "course"): [key("chapter", "c1"), key("chapter", "c2")],
    key("chapter", "c1"): [key("sequential", "s1")],
    key("sequential", "s1"): [key("vertical", "v1")],
    key("vertical", "v1"): [key("video", "intro"), key("problem", "p1")],
    key("chapter", "c2"): [key("sequential", "s2")],
    key("sequential", "s2"): [key("vertical", "v2")],
    key("vertical", "v2"): [key("problem", "p0"), key("video", "intro")],  # a block reached twice
}
NAMES = {
    key("chapter", "c1"): "Week 1", key("chapter", "c2"): "Week 2", key("sequential", "s1"): "Start",
    key("sequential", "s2"): "More", key("vertical", "v1"): "Unit 1", key("vertical", "v2"): "Unit 2",
    key("video", "intro"): "Welcome", key("problem", "p1"): "Quiz 1", key("problem", "p0"): "Quiz 0",
}
