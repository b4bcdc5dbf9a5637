"""The deadline forecast on the map pages and the wall: a categorical measure.

Why a module of its own: the classes come from ``geo.read.forecast`` (the rule is written
once there), and the map page, the wall and their tests must encode them the same way.
A unit's value is the index of its class in ``CLASSES`` (0 on_track … 4 no_history), so
the existing classing path (breaks, ``colour_for``, the browser's ``IOC.classify``) colours
it with one break per class; the legend names each class and says what it means.

The class is the one ``GET /api/v1/forecast`` gives for the unit's default programme (NQ57
for provinces, KH02 for communes) against its own deadline (a target's due date on the
programme, else 31 December of the as-of year), as of the page's date.

"Worst first" (the wall's "sẽ trễ hạn" view, ``worst_first`` here and in ioc-wall.js):
the largest gap between the pace needed and the recent pace (a unit past its deadline
needs all its open tasks now: the gap is its open tasks), then the most open tasks due.
"""

from __future__ import annotations

import datetime as dt
import html

from sqlalchemy import Connection

from geo.read import forecast as fc
from maps import theme
from maps.choropleth import hatch_swatch

CLASSES = fc.CLASSES
BREAKS = [float(i) for i in range(len(CLASSES))]
PALETTE = [theme.FORECAST[c] for c in CLASSES]


def programme(level: str) -> str:
    return fc.DEFAULT_PROGRAMME[level]


def unit_forecasts(
    conn: Connection, level: str, as_of: dt.date, parent: str | None = None
) -> list[fc.Forecast]:
    """Every unit's forecast (of ``parent``'s communes only, when given), as
    ``/api/v1/forecast?level=`` (no deadline: the unit's own)."""
    return fc.forecasts(conn, level, programme(level), as_of, parent=parent)


def values(
    conn: Connection, level: str, as_of: dt.date, parent: str | None = None
) -> dict[str, float]:
    """code → the index of the unit's class in ``CLASSES`` (the map's value)."""
    return {r.code: float(CLASSES.index(r.cls)) for r in unit_forecasts(conn, level, as_of, parent)}


def class_of(value: float | None) -> str | None:
    return None if value is None else CLASSES[int(value)]


def labels(s: dict) -> list[str]:
    """The classes in words, in ``CLASSES`` order (tooltips, aria-labels, legend)."""
    return [s[f"fc_{c}"] for c in CLASSES]


def subtitle(s: dict, level: str, as_of: dt.date) -> str:
    """Programme and deadline the classes are about."""
    return f"{programme(level)} · " + s["fc_deadline"].format(date=f"{fc.year_end(as_of):%d/%m/%Y}")


def legend_html(title: str, sub: str, s: dict, with_no_data: bool = False) -> str:
    """One row per class: swatch, the class in words and what it means (never colour
    alone). ``data-class`` is the value index, as the numeric legends'."""
    rows = [
        f'<li data-class="{i}" data-forecast="{c}"><span class="swatch" style="background:'
        f'{theme.FORECAST[c]}"></span><span class="fc-label">{html.escape(s[f"fc_{c}"])}'
        f'<small class="fc-note">{html.escape(s[f"fc_{c}_note"])}</small></span></li>'
        for i, c in enumerate(CLASSES)
    ]
    if with_no_data:
        rows.append(f'<li data-class="nodata">{hatch_swatch()}{html.escape(s["no_data"])}</li>')
    return (
        f'<section class="ioc-legend fc-legend" aria-label="{html.escape(s["legend"])}">'
        f'<h2 class="legend-title">{html.escape(title)}</h2>'
        + (f'<div class="legend-sub">{html.escape(sub)}</div>' if sub else "")
        + f"<ul>{''.join(rows)}</ul>"
        f'<div class="legend-method">{html.escape(s["fc_method"])}</div></section>'
    )


def gap(unit: dict) -> float:
    """Needed minus recent pace (tasks a week); past the deadline, all open tasks."""
    needed = unit.get("needed_per_week")
    if needed is None:
        needed = float(unit.get("open_due") or 0)
    return needed - float(unit.get("pace_per_week") or 0.0)


def worst_first(units: list[dict]) -> list[dict]:
    """Units (``/api/v1/forecast`` rows) by the gap, then open tasks due, then code."""
    return sorted(units, key=lambda u: (-gap(u), -(u.get("open_due") or 0), u["code"]))


def wall_rows(conn: Connection, as_of: dt.date) -> list[dict]:
    """The provinces' forecasts as ``/api/v1/forecast?level=province`` lists them (the
    wall's first frame; it refreshes from that URL)."""
    names = fc.unit_names(conn, "province")
    return [
        {**r.body(), "name": names.get(r.code)} for r in unit_forecasts(conn, "province", as_of)
    ]
