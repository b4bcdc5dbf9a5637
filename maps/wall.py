"""The IOC wall display (``/wall``): KPIs, national choropleth, rankings, overdue alerts.

Why this split: the server renders a complete first frame (Folium map, KPI values,
rankings, one legend per measure with its class breaks), so the screen is right before
any script runs; ``maps/assets/js/ioc-wall.js`` then refreshes the figures in place from
the API with ``If-None-Match`` (a 304 redraws nothing), rotates the views of the
playlist, shows a stale badge when the API is unreachable and recovers by itself.

Class breaks stay those of the page load: on a screen that runs for days a colour change
then always means the unit's value changed, never that the classes moved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import folium

from maps import theme
from maps.assets_local import add_page_assets, figure_of, offline_map
from maps.choropleth import class_breaks, decimals_for, legend_html, palette_for, styled_layer
from maps.i18n import strings
from maps.measures import TASK_MEASURES, indicator_measures
from maps.render import HATCH_DEFS, InitScript, config_script, finish, render_template

REGIONS = {  # minlon, minlat, maxlon, maxlat
    "national": [102.1, 8.4, 114.6, 23.4],
    "north": [102.1, 19.6, 108.1, 23.4],
    "central": [104.6, 11.4, 109.5, 20.0],
    "south": [104.4, 8.5, 107.7, 12.0],
}
DEFAULT_PLAYLIST = ("national", "regions", "overdue", "service_index", "dti")
BASE_VIEWS = ("national", "north", "central", "south", "regions", "overdue")
OVERDUE_PROVINCES = 3


class PlaylistError(ValueError):
    """A view name the wall does not know (the router turns it into a 400)."""


@dataclass
class WallPage:
    """What the wall shows on its first frame and how it refreshes."""

    as_of: dt.date
    data_as_of: dt.date | None
    year: int
    lang: str
    provinces: dict  # lean FeatureCollection: properties {code, v = completion %}
    names: dict[str, str]
    summary: dict  # geo.read.progress.national_summary + "provinces": province_kpis
    indicator_defs: list[dict]
    indicator_values: dict[str, dict[str, float]]  # code → province code → value
    indicator_periods: dict[str, str]
    commune_completion: list[float | None]
    playlist: list[str]
    refresh_seconds: float
    dwell_seconds: float
    overdue: list[dict] = field(default_factory=list)  # provinces, any deadline year
    force: bool = False
    static: str = "/static/"
    api: str | None = "/api/v1"
    approximate: bool = True
    extra: dict = field(default_factory=dict)


def expand_playlist(views: list[str], indicator_codes: list[str]) -> list[str]:
    """Expand ``regions`` into north/central/south and check every name."""
    out: list[str] = []
    for v in views:
        if v == "regions":
            out += ["north", "central", "south"]
        elif v in BASE_VIEWS or v in indicator_codes:
            out.append(v)
        else:
            allowed = ", ".join([*BASE_VIEWS, *indicator_codes])
            raise PlaylistError(f"unknown view '{v}'; allowed: {allowed}")
    return out or ["national"]


def _legend(title, sub, values, method, decimals, unit, better, s) -> tuple[str, list, list]:
    breaks = class_breaks(values, method=method)
    palette = palette_for(len(breaks), better)
    lowest = min((v for v in values if v is not None), default=None)
    note = s[f"method_{method}"]
    html = legend_html(
        title, sub, breaks, palette, decimals, unit, note, s["no_data"], s["legend"], lowest
    )
    return html, breaks, palette


def render_wall(page: WallPage) -> str:
    """The wall's full HTML."""
    s = strings(page.lang)
    en = page.lang == "en"
    as_of_txt = f"{s['as_of']} {page.as_of:%d/%m/%Y}"
    completion = TASK_MEASURES[0]
    values = [f["properties"]["v"] for f in page.provinces["features"]]
    measures: dict[str, dict] = {}
    legends: list[str] = []

    def add_measure(key, label, sub, vals, method, decimals, unit, better):
        html, breaks, palette = _legend(label, sub, vals, method, decimals, unit, better, s)
        legends.append(f'<div class="legend-slot" data-measure="{key}" hidden>{html}</div>')
        measures[key] = {
            "label": label,
            "unit": unit,
            "decimals": decimals,
            "breaks": breaks,
            "palette": palette,
            "higherIsBetter": better,
        }

    add_measure(
        "completion",
        f"{completion.label(page.lang)} NQ57 · {page.year}",
        as_of_txt,
        values,
        "quantiles",
        1,
        "%",
        True,
    )
    add_measure(
        "communes",
        f"{completion.label(page.lang)} KH02",
        as_of_txt,
        page.commune_completion,
        "quantiles",
        1,
        "%",
        True,
    )
    for m in indicator_measures(page.indicator_defs):
        if m.code in page.playlist and "province" in m.levels:
            period = page.indicator_periods.get(m.code)
            add_measure(
                m.code,
                m.label(page.lang),
                f"{s['period']} {period}",
                list(page.indicator_values.get(m.code, {}).values()),
                "quantiles",
                decimals_for(list(page.indicator_values.get(m.code, {}).values())),
                "%" if m.unit == "%" else m.unit,
                m.higher_is_better,
            )
    views: list[dict[str, object]] = []
    for v in page.playlist:
        if v in REGIONS:
            views.append(
                {
                    "id": v,
                    "kind": "provinces",
                    "measure": "completion",
                    "bounds": REGIONS[v],
                    "label": s[f"view_{v}"],
                }
            )
        elif v == "overdue":
            views.append(
                {"id": v, "kind": "overdue", "measure": "communes", "label": s["view_overdue"]}
            )
        else:
            d = next(x for x in page.indicator_defs if x["code"] == v)
            views.append(
                {
                    "id": v,
                    "kind": "indicator",
                    "measure": v,
                    "indicator": v,
                    "period": page.indicator_periods.get(v),
                    "bounds": REGIONS["national"],
                    "label": d["name_en"] if en else d["name"],
                }
            )
    breaks = measures["completion"]["breaks"]
    palette = measures["completion"]["palette"]
    fmap = offline_map(
        static=page.static,
        location=[16.0, 106.0],
        zoom_start=6,
        min_zoom=4,
        max_zoom=12,
        zoom_control=False,
        zoom_snap=0.1,
        prefer_canvas=False,
    )
    add_page_assets(fmap, "wall", page.static)
    layer = styled_layer(page.provinces, breaks, palette, "provinces", weight=0.8)
    layer.add_to(fmap)
    summ = page.summary
    ranked = sorted(
        (p for p in summ["provinces"] if p["completion_pct"] is not None),
        key=lambda p: (-p["completion_pct"], p["code"]),
    )
    chrome = render_template(
        "wall_chrome.html",
        s=s,
        page=page,
        summ=summ,
        vn=theme.vn_number,
        top=ranked[:5],
        bottom=ranked[-5:][::-1],
        overdue=page.overdue[:6],
        overdue_total=sum(p["tasks_overdue"] for p in page.overdue),
        legends=legends,
        views=views,
        hatch_defs=HATCH_DEFS,
    )
    config = {
        "kind": "wall",
        "lang": page.lang,
        "api": page.api,
        "year": page.year,
        "asOf": page.as_of.isoformat(),
        "dataAsOf": page.data_as_of.isoformat() if page.data_as_of else None,
        "refreshMs": round(page.refresh_seconds * 1000),
        "dwellMs": round(page.dwell_seconds * 1000),
        "force": page.force,
        "views": views,
        "measures": measures,
        "names": page.names,
        "overdueProvinces": OVERDUE_PROVINCES,
        "summary": {"provinces": summ["provinces"]},
        "overdue": page.overdue,
        "status": {
            "colors": theme.STATUS,
            "labels": theme.STATUS_LABELS_EN if en else theme.STATUS_LABELS_VI,
            "icons": theme.STATUS_ICONS,
        },
        "strings": s,
        **page.extra,
    }
    root = figure_of(fmap)
    root.html.add_child(folium.Element(chrome + config_script(config)))
    fmap.add_child(InitScript("IOC.initWall", layer))
    return finish(root.render(), page.lang, f"IOC — {s['app_title']}")


def assemble_wall(
    conn,
    *,
    as_of: dt.date,
    data_as_of: dt.date | None,
    year: int,
    lang: str,
    views: list[str],
    refresh_seconds: float,
    dwell_seconds: float,
    force: bool = False,
) -> WallPage:
    """Read the wall's first frame from the database (raises PlaylistError)."""
    from geo.read import queries
    from geo.read.progress import national_summary, province_kpis
    from maps import data

    defs = queries.indicators(conn)
    codes = [d["code"] for d in defs if d["level"] in ("province", "both")]
    playlist = expand_playlist(views, codes)
    layer = data.layer(
        conn, "province", as_of, TASK_MEASURES[0], None, band="z6", precision=3, year=year
    )
    summary = {**national_summary(conn, as_of, year), "provinces": province_kpis(conn, as_of, year)}
    overdue = sorted(
        (
            {
                "code": p["code"],
                "full_name": f"{p['kind']} {p['name']}",
                "tasks_overdue": p["tasks_overdue"],
            }
            for p in province_kpis(conn, as_of, None)
            if p["tasks_overdue"]
        ),
        key=lambda p: (-p["tasks_overdue"], p["code"]),
    )
    ind_values, ind_periods = {}, {}
    for code in codes:
        if code in playlist:
            periods = queries.periods(conn, code)
            if periods:
                ind_periods[code] = periods[-1]
                ind_values[code] = queries.indicator_value_map(conn, code, periods[-1], "province")
    communes = [
        r.get("completion_pct")
        for r in data.unit_values(conn, "commune", as_of, ("completion_pct",))
    ]
    return WallPage(
        as_of=as_of,
        data_as_of=data_as_of,
        year=year,
        lang=lang,
        provinces=layer.collection,
        names=layer.names,
        summary=summary,
        indicator_defs=defs,
        indicator_values=ind_values,
        indicator_periods=ind_periods,
        commune_completion=communes,
        overdue=overdue,
        playlist=playlist,
        refresh_seconds=refresh_seconds,
        dwell_seconds=dwell_seconds,
        force=force,
        approximate=layer.approximate,
    )
