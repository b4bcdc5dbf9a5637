"""Classing and drawing of choropleths with Folium (shared by the map pages and the wall).

Why the classing is explicit: a legend must say what a colour means, so class breaks are
computed here with mapclassify (method per measure, see ``maps.measures``) and the
legend, the polygons and the wall's in-place restyling all use the same breaks. Units
with no value get the hatched "no data" SVG pattern, never the lowest class colour.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from maps import theme

if TYPE_CHECKING:  # imported where used: a worker that serves no page never loads them
    import folium

HATCH_FILL = "url(#ioc-hatch)"
MAX_CLASSES = 5


def class_breaks(
    values: list[float | None],
    k: int = MAX_CLASSES,
    method: str = "quantiles",
    decimals: int | None = None,
) -> list[float]:
    """Upper bounds of up to k classes (fewer when values repeat).

    ``quantiles``: equal-count classes. ``natural_breaks``: Fisher–Jenks, with zero as a
    class of its own when present (counts: "no overdue task" is a state, not a range).
    ``decimals``: breaks are rounded once, here, to the decimals the page shows, so the
    legend text, the server's colours and the browser's restyling use the same numbers.
    """
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return []
    if method == "natural_breaks" and arr.min() == 0 and arr.max() > 0:
        rest = class_breaks([v for v in arr if v > 0], k - 1, method, decimals)
        return [0.0, *[b for b in rest if b > 0]]
    k = max(1, min(k, len(np.unique(arr))))
    if k == 1:
        return [_round(float(arr.max()), decimals)]
    import mapclassify  # scipy + sklearn: ~2 s and ~100 MB, only for a worker building pages

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mapclassify warns when values repeat
        cls = (
            mapclassify.FisherJenks(arr, k=k)
            if method == "natural_breaks"
            else mapclassify.Quantiles(arr, k=k)
        )
    breaks = sorted({_round(float(b), decimals) for b in cls.bins})
    # rounding may leave the top break below the largest value: it must hold every unit
    if breaks[-1] < arr.max():
        breaks[-1] = float(arr.max())
    return breaks


def classes(
    values: list[float | None], method: str, decimals: int, higher_is_better: bool = True
) -> tuple[list[float], list[str], bool]:
    """Breaks, their colours, and whether all units share one class (the legend says so).

    The one entry point for pages and the wall, so both class and colour alike."""
    breaks = class_breaks(values, method=method, decimals=decimals)
    single = len(breaks) == 1
    only = breaks[0] if single else None
    return breaks, palette_for(len(breaks), higher_is_better, only), single


def _round(value: float, decimals: int | None) -> float:
    return value if decimals is None else round(value, decimals)


def palette_for(
    n: int, higher_is_better: bool = True, only_value: float | None = None
) -> list[str]:
    """n colours spread over the full ramp (dark → bright) so few classes still contrast.

    One class is not a ranking: every unit has the same value, so the top colour would
    claim "best" for what may be 0 % done. A single class of 0 gets the ramp's bottom
    colour, any other single class its middle colour (the legend says it is one value).
    """
    ramp = theme.SEQUENTIAL if higher_is_better else theme.SEQUENTIAL_BAD
    if n <= 0:
        return []
    if n == 1:
        return [ramp[0] if only_value is None or only_value <= 0 else ramp[len(ramp) // 2]]
    return [ramp[round(i * (len(ramp) - 1) / (n - 1))] for i in range(n)]


def colour_for(value: float | None, breaks: list[float], palette: list[str]) -> str:
    """The class colour of value; the hatched no-data fill when value is missing."""
    if value is None or not breaks:
        return HATCH_FILL
    for colour, upper in zip(palette, breaks, strict=False):
        if value <= upper:
            return colour
    return palette[-1]


def class_labels(
    breaks: list[float],
    decimals: int,
    unit: str = "",
    lowest: float | None = None,
    lang: str = "vi",
) -> list[str]:
    """Legend text per class: "33,10 – 46,30 %", … (in the reader's number format);
    a class holding one value shows just that value."""
    suffix = f"\u00a0{unit}" if unit else ""
    labels: list[str] = []

    def num(v: float) -> str:
        return theme.fmt_number(v, decimals, lang)

    for i, upper in enumerate(breaks):
        step = 1 if decimals == 0 else 0  # integer classes: the next class starts at +1
        low = lowest if i == 0 else breaks[i - 1] + step
        if low is None and upper != 0:
            text = f"≤ {num(upper)}"
        elif low is None or low >= upper:
            text = num(upper)
        else:
            text = f"{num(low)} – {num(upper)}"
        labels.append(text + suffix)
    return labels


def hatch_swatch() -> str:
    """The legend's no-data swatch: the same SVG hatch the polygons use."""
    return (
        '<svg class="swatch" width="22" height="14" aria-hidden="true" focusable="false">'
        f'<rect width="100%" height="100%" fill="{theme.BACKGROUND}"/>'
        f'<rect width="100%" height="100%" fill="{HATCH_FILL}"/></svg>'
    )


def legend_html(
    title: str,
    subtitle: str,
    breaks: list[float],
    palette: list[str],
    decimals: int,
    unit: str,
    method_note: str,
    no_data_label: str,
    legend_label: str,
    lowest: float | None = None,
    lang: str = "vi",
) -> str:
    """The legend: measure (and period), one row per class, and "no data"."""
    rows = [
        f'<li data-class="{i}"><span class="swatch" style="background:{c}"></span>'
        f"{html.escape(label)}</li>"
        for i, (c, label) in enumerate(
            zip(palette, class_labels(breaks, decimals, unit, lowest, lang), strict=False)
        )
    ]
    rows.append(f'<li data-class="nodata">{hatch_swatch()}{html.escape(no_data_label)}</li>')
    return (
        f'<section class="ioc-legend" aria-label="{html.escape(legend_label)}">'
        f'<h2 class="legend-title">{html.escape(title)}</h2>'
        + (f'<div class="legend-sub">{html.escape(subtitle)}</div>' if subtitle else "")
        + f"<ul>{''.join(rows)}</ul>"
        f'<div class="legend-method">{html.escape(method_note)}</div></section>'
    )


def styled_layer(
    collection: dict, breaks: list[float], palette: list[str], name: str, weight: float = 0.6
) -> folium.GeoJson:
    """The Folium layer: fill by class of ``properties.v``; behaviour is added by our JS."""
    import folium

    return folium.GeoJson(
        collection,
        name=name,
        style_function=lambda f: {
            "fillColor": colour_for(f["properties"].get("v"), breaks, palette),
            "color": theme.BORDER_LINE,
            "weight": weight,
            "fillOpacity": 0.9,
        },
        smooth_factor=0.5,
    )


def decimals_for(values: Sequence[float | None], default: int = 1) -> int:
    """Decimals that tell classes apart: indices on a 0–1 scale need 3, not 1."""
    top = max((abs(v) for v in values if v is not None), default=0.0)
    if 0 < top <= 1.5:
        return 3
    if 0 < top <= 15:
        return 2
    return default
