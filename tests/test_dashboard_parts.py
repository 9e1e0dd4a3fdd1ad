"""Pure parts of the dashboard: the course outline walk (stub; the LMS side in test_outline_seam), the SVG charts,
number formatting, and the shipped translation catalog."""
import re
from pathlib import Path

import pytest
from django.utils import translation
from opaque_keys.edx.keys import CourseKey

from lms_host.stub.models import CourseBlock
from openedx_analytics.dashboard import charts, tables
from openedx_analytics.lms import courses
from tests.support.outline_tree import COURSE, NAMES, TREE, key

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = [  # (block, display name, section, subsection), in course order
    (key("video", "intro"), "Welcome", "Week 1", "Start"),
    (key("problem", "p1"), "Quiz 1", "Week 1", "Start"),
    (key("problem", "p0"), "Quiz 0", "Week 2", "More"),
]


def leaves(outline):
    ordered = sorted(outline.items(), key=lambda item: item[1]["position"])
    return [(k, v["display_name"], v["section"], v["subsection"]) for k, v in ordered
            if v["block_type"] in ("video", "problem")]


@pytest.mark.django_db
def test_outline_from_the_stub_app():
    course = CourseKey.from_string(COURSE)
    position = 0
    for parent, children in TREE.items():
        for child in children:
            if not CourseBlock.objects.filter(usage_key=child).exists():
                position += 1
                CourseBlock.objects.create(course_id=course, usage_key=child, block_type=child.split("type@")[1]
                                           .split("+")[0], display_name=NAMES.get(child, ""), parent=parent,
                                           position=position)
    CourseBlock.objects.create(course_id=course, usage_key=key("course", "course"), block_type="course",
                               display_name="Outline", parent="")
    assert leaves(courses.course_outline(COURSE)) == EXPECTED


def test_nice_ceiling():
    assert [charts.nice_ceiling(v) for v in (0, 1, 3, 7, 11, 240, 100_000, 100_001)] == [
        1, 1, 5, 10, 20, 250, 100_000, 200_000]


def test_bar_chart_escapes_labels_and_marks_partial():
    svg = charts.bars("a <b>", charts.Axis(["<x>", "y"], [False, True]),
                      [charts.Series("s&s", [1, 2], 0), charts.Series("t", [3, 4], 1)])
    assert "<x>" not in svg and "&lt;x&gt;" in svg and "s&amp;s" in svg
    assert svg.count("<rect") == 4 and svg.count("oa-partial") == 2
    assert "style" not in svg and "<script" not in svg


def test_stacked_bar_heights_add_up():
    svg = charts.bars("t", charts.Axis(["a"]), [charts.Series("x", [30], 0), charts.Series("y", [70], 1)])
    heights = [float(h) for h in re.findall(r'height="([\d.]+)"', svg)]
    plot = charts.HEIGHT - charts.TOP - charts.BOTTOM
    assert sum(heights) == pytest.approx(plot)  # 100 of a 100 axis


def test_areas_for_long_series_one_shape_per_series():
    days = [f"d{i}" for i in range(365)]
    svg = charts.areas("t", charts.Axis(days, [False] * 364 + [True]),
                       [charts.Series("a", list(range(365)), 0), charts.Series("b", [5] * 365, 1)])
    assert svg.count("<polygon") == 2 and "oa-partial-zone" in svg


def test_numbers_follow_the_language():
    with translation.override("en"):
        assert tables.number_text(1234567) == "1,234,567"
        assert tables.share(2, 3).text == "66.7%"
    with translation.override("de"):
        assert tables.number_text(1234567.891, 2) == "1.234.567,89"


def test_shipped_catalog_has_every_string_the_dashboard_translates():
    catalog = (ROOT / "openedx_analytics/locale/en/LC_MESSAGES/django.po").read_text()
    msgids = {"".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block)).replace('\\"', '"')
              for block in re.findall(r'^msgid ((?:".*"\n)+)', catalog, flags=re.M)}
    sources = [*(ROOT / "openedx_analytics/dashboard").glob("*.py"), ROOT / "openedx_analytics/dashboard/filters.py"]
    wanted = {m for path in sources for m in re.findall(r'_\("((?:[^"\\]|\\.)+)"\)', path.read_text())}
    templates = (ROOT / "openedx_analytics/templates/openedx_analytics/dashboard").glob("*.html")
    wanted |= {m for path in templates for m in re.findall(r'{% translate "([^"]+)" %}', path.read_text())}
    assert wanted and wanted <= msgids, sorted(wanted - msgids)


def test_axis_tops_are_four_whole_round_steps():
    assert [charts.axis_top(v) for v in (0, 3, 7, 24, 25, 99, 240, 70_000)] == [4, 4, 8, 24, 32, 100, 240, 80_000]
    assert charts.axis_top(0.37, percent=True) == pytest.approx(0.4)
    for value in (1, 5, 13, 24, 1234):
        assert (charts.axis_top(value) / 4).is_integer()


def test_category_labels_stay_inside_the_chart():
    days = [f"2026-10-{d:02d}" for d in range(1, 32)]
    svg = charts.bars("t", charts.Axis(days), [charts.Series("a", [1] * 31, 0)])
    xs = [float(x) for x in re.findall(r'<text class="oa-tick" x="([\d.]+)" y="2\d\d"', svg)]
    half = len(days[0]) * 6.5 / 2  # an 11px label is about 6.5 units a character
    assert xs and min(xs) - half >= 0 and max(xs) + half <= charts.WIDTH
    assert all(b - a >= 2 * half for a, b in zip(xs, xs[1:], strict=False))


def test_long_category_names_are_shortened_not_overlapping():
    names = [f"A rather long video title number {i}" for i in range(8)]
    svg = charts.bars("t", charts.Axis(names), [charts.Series("a", [1] * 8, 0)])
    labels = re.findall(r'y="2\d\d" text-anchor="middle">([^<]+)<', svg)
    assert len(labels) == 8 and all(label.endswith("\u2026") for label in labels)
    assert all(len(label) * charts.CHAR_WIDTH < (charts.WIDTH - charts.LEFT - charts.RIGHT) / 8 for label in labels)
