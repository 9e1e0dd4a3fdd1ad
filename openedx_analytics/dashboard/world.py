"""A world map drawn by us: the countries of Natural Earth's 1:110m admin-0 map as inline SVG paths.

``world_map.json`` holds one SVG path per ISO 3166 alpha-2 code, made once from Natural
Earth's public-domain "Admin 0 - Countries" at 1:110m (as geopandas 0.14 ships it,
``naturalearth_lowres``): longitude and latitude drawn equirectangular (x = lon + 180,
y = 84 - lat, one unit a degree), rounded to 0.1 degree, points closer than 0.6 degree
dropped, Antarctica left out; Northern Cyprus drawn with Cyprus, Somaliland with Somalia,
Kosovo as ``XK``. No tile, script or request leaves the page: the strict
Content-Security-Policy of the page stays as it is. Natural Earth is in the public domain
(naturalearthdata.com/about/terms-of-use).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from html import escape
from pathlib import Path

from django.utils.safestring import SafeString, mark_safe

#: Shades of the countries with learners: share of the largest country, in steps.
SHADES = 5


@cache
def outlines() -> dict[str, str]:
    """The SVG path of each country, by alpha-2 code (read once a process)."""
    return json.loads((Path(__file__).with_name("world_map.json")).read_text(encoding="utf-8"))


def world_map(label: str, learners: Mapping[str, int], hidden: Mapping[str, str]) -> SafeString:
    """The world with each country shaded by its learners (darker: more); ``hidden`` countries (their
    text, e.g. "fewer than 5") in a shade of their own, so no hidden count shows as a colour."""
    top = max(learners.values(), default=0)
    parts = [f'<svg class="oa-chart oa-map" viewBox="0 0 360 142" role="img" aria-label="{escape(label)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>']
    for code, path in sorted(outlines().items()):
        if code in hidden:
            css, text = "oa-map-hidden", hidden[code]
        elif learners.get(code):
            step = min(SHADES, 1 + int(SHADES * learners[code] / top - 1e-9)) if top else 1
            css, text = f"oa-map{step}", str(learners[code])
        else:
            css, text = "oa-map0", "0"
        parts.append(f'<path class="{css}" d="{path}"><title>{escape(code)}: {escape(text)}</title></path>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - paths are our own data, every text escaped
