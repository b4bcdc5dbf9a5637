"""A MapLibre style for the vector tiles: the same classes and colours as the web map.

Why server-side: the classes (quantiles or Fisher–Jenks, rounded to the decimals the map
shows) come from ``maps.choropleth.classes``, the one place the pages and the wall class
with; a GIS client or a web page loading this style colours each unit exactly as iocmap's
own map does. Breaks are upper bounds (a value equal to a break is in that class), so each
``step`` stop sits just above its break.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from maps import theme
from maps.choropleth import classes
from maps.data import MEASURE_FIELDS, _value, unit_values
from maps.measures import TASK_MEASURES, Measure

TILE_MEASURES = ("completion_pct", "tasks_overdue", "groups_done")
STEP = 1e-9  # a stop just above its break: "value <= break" stays in the break's class


def measure_for(code: str, level: str) -> Measure | None:
    found = next((m for m in TASK_MEASURES if m.code == code), None)
    if found is None or code not in TILE_MEASURES or level not in found.levels:
        return None
    return found


def fill_colour(measure: Measure, breaks: list[float], palette: list[str]) -> Any:
    """A MapLibre expression: the class colour of the unit's value, no-data when missing."""
    if not breaks:
        return theme.NO_DATA
    step: list[Any] = ["step", ["to-number", ["get", measure.code]], palette[0]]
    for upper, colour in zip(breaks[:-1], palette[1:], strict=False):
        step += [upper + STEP, colour]
    return ["case", ["has", measure.code], step, theme.NO_DATA]


def style(
    conn: Connection, layer: str, level: str, measure: Measure, as_of: dt.date, tilejson: str
) -> dict:
    """The style document: a dark background, the classed fill, thin borders."""
    rows = unit_values(conn, level, as_of, MEASURE_FIELDS[measure.code])
    values = [_value(r, measure) for r in rows]
    values = [None if v is None else round(v, measure.decimals) for v in values]
    breaks, palette, _ = classes(values, measure.method, measure.decimals, measure.higher_is_better)
    return {
        "version": 8,
        "name": f"iocmap — {layer} — {measure.label_vi}",
        "metadata": {
            "iocmap:measure": measure.code,
            "iocmap:breaks": breaks,
            "iocmap:palette": palette,
            "iocmap:method": measure.method,
            "iocmap:as_of": as_of.isoformat(),
        },
        "sources": {"iocmap": {"type": "vector", "url": tilejson}},
        "layers": [
            {
                "id": "background",
                "type": "background",
                "paint": {"background-color": theme.BACKGROUND},
            },
            {
                "id": f"{layer}-fill",
                "type": "fill",
                "source": "iocmap",
                "source-layer": layer,
                "paint": {"fill-color": fill_colour(measure, breaks, palette), "fill-opacity": 0.9},
            },
            {
                "id": f"{layer}-line",
                "type": "line",
                "source": "iocmap",
                "source-layer": layer,
                "paint": {"line-color": theme.BORDER_LINE, "line-width": 0.6},
            },
        ],
    }
