"""Folium choropleths of progress: the national map of provinces (``/``).

Why the classing is explicit: a legend must say what a colour means, so class breaks are
computed with mapclassify (quantiles of the values shown, at most 5 classes) and drawn
with the same colours in the legend; units with no value get the hatched "no data" fill.
"""

from __future__ import annotations

import datetime as dt
import html

import folium
import mapclassify
import numpy as np

from maps import theme
from maps.assets_local import offline_map

VIETNAM_BOUNDS = [[8.2, 102.0], [23.5, 110.0]]


def class_breaks(values: list[float], k: int = 5) -> list[float]:
    """Upper bounds of up to k quantile classes (fewer when values repeat)."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return []
    k = max(1, min(k, len(np.unique(arr))))
    if k == 1:
        return [float(arr.max())]
    return [float(b) for b in mapclassify.Quantiles(arr, k=k).bins]


def colour_for(value: float | None, breaks: list[float]) -> str:
    """The class colour of value; the no-data grey when value is missing."""
    if value is None or not breaks:
        return theme.NO_DATA
    palette = theme.SEQUENTIAL[-len(breaks) :] if len(breaks) < 5 else theme.SEQUENTIAL
    for colour, upper in zip(palette, breaks, strict=False):
        if value <= upper:
            return colour
    return palette[-1]


def _legend_html(title: str, breaks: list[float], as_of: dt.date) -> str:
    palette = theme.SEQUENTIAL[-len(breaks) :] if len(breaks) < 5 else theme.SEQUENTIAL
    rows, lower = [], None
    for colour, upper in zip(palette, breaks, strict=False):
        label = (
            f"≤ {theme.vn_number(upper)}"
            if lower is None
            else f"{theme.vn_number(lower)} – {theme.vn_number(upper)}"
        )
        rows.append(f'<div><i style="background:{colour}"></i>{label}</div>')
        lower = upper
    rows.append('<div><i class="nodata"></i>Không có dữ liệu / No data</div>')
    return (
        '<div class="ioc-legend" role="region" aria-label="Chú giải">'
        f"<b>{html.escape(title)}</b>"
        f'<div class="sub">Số liệu đến ngày {as_of:%d/%m/%Y}</div>' + "".join(rows) + "</div>"
    )


PAGE_CSS = f"""
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<style>
html, body {{ background: {theme.BACKGROUND}; color: {theme.TEXT}; font-family: {theme.FONT}; }}
.leaflet-container.folium-map {{ background: {theme.BACKGROUND}; }}
.leaflet-control-scale {{ margin-bottom: 8px !important; }}
.ioc-legend {{ position: absolute; bottom: 64px; left: 16px; z-index: 1000; padding: 10px 14px;
  background: {theme.PANEL}; border: 1px solid {theme.BORDER}; border-radius: 6px;
  font-size: 14px; line-height: 20px; }}
.ioc-legend i {{ display: inline-block; width: 18px; height: 12px; margin-right: 8px;
  vertical-align: middle; border: 1px solid {theme.BORDER}; }}
.ioc-legend i.nodata {{ background: repeating-linear-gradient(45deg, {theme.NO_DATA} 0 3px,
  {theme.BACKGROUND} 3px 6px); }}
.ioc-legend .sub {{ color: {theme.MUTED}; font-size: 12px; margin-bottom: 4px; }}
.ioc-title {{ position: absolute; top: 12px; left: 56px; z-index: 1000; padding: 8px 14px;
  background: {theme.PANEL}; border: 1px solid {theme.BORDER}; border-radius: 6px; }}
.ioc-title h1 {{ font-size: 18px; margin: 0; }}
.ioc-title .sub {{ color: {theme.MUTED}; font-size: 13px; }}
.leaflet-tooltip {{ background: {theme.PANEL}; color: {theme.TEXT}; border-color: {theme.BORDER}; }}
</style>
"""


def national_map(
    provinces: dict, as_of: dt.date, summary: dict | None = None, approximate: bool = True
) -> folium.Map:
    """Provinces coloured by completion % of their Resolution 57 tasks."""
    features = provinces["features"]
    values = [f["properties"].get("completion_pct") for f in features]
    breaks = class_breaks(values)
    for f in features:
        p = f["properties"]
        p["fill"] = colour_for(p.get("completion_pct"), breaks)
        p["pct_vi"] = (
            theme.vn_number(p["completion_pct"], 2) + " %"
            if p.get("completion_pct") is not None
            else "—"
        )
    m = offline_map(location=[16.0, 106.0], zoom_start=6, min_zoom=4, control_scale=True)
    m.get_root().header.add_child(folium.Element(PAGE_CSS))
    folium.GeoJson(
        provinces,
        name="Tỷ lệ hoàn thành",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": theme.BORDER,
            "weight": 1,
            "fillOpacity": 0.85,
        },
        highlight_function=lambda f: {"weight": 3, "color": theme.TEXT},
        tooltip=folium.GeoJsonTooltip(
            fields=["full_name", "pct_vi", "tasks_completed", "tasks_total", "tasks_overdue"],
            aliases=["", "Tỷ lệ hoàn thành", "Đã hoàn thành", "Nhiệm vụ", "Quá hạn"],
        ),
    ).add_to(m)
    title = "Tỷ lệ hoàn thành nhiệm vụ NQ57 (%) · Completion rate"
    headline = ""
    if summary:
        headline = (
            f"Năm {summary['year']}: {theme.vn_number(summary['tasks_completed'], 0)}/"
            f"{theme.vn_number(summary['tasks_total'], 0)} nhiệm vụ hoàn thành "
            f"({theme.vn_number(summary['completion_pct'], 2)} %)"
        )
    note = " · Ranh giới gần đúng (demo)" if approximate else ""
    m.get_root().html.add_child(
        folium.Element(
            '<div class="ioc-title"><h1>Giám sát Nghị quyết 57 — Toàn quốc</h1>'
            f'<div class="sub">{html.escape(headline)}{note}</div></div>'
            + _legend_html(title, breaks, as_of)
        )
    )
    m.fit_bounds(VIETNAM_BOUNDS)
    return m
