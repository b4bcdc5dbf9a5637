"""The IOC wall display (``/wall``): KPIs, national choropleth, rankings, overdue alerts.

Why this split: the server renders a complete first frame (Folium map, KPI values,
rankings, one legend per measure with its class breaks), so the screen is right before
any script runs; ``maps/assets/js/ioc-wall.js`` then refreshes the figures in place from
the API with ``If-None-Match`` (a 304 redraws nothing), rotates the views of the
playlist, shows a stale badge when the API is unreachable and recovers by itself.

Class breaks stay those of the page load: on a screen that runs for days a colour change
then always means the unit's value changed, never that the classes moved.

Why one module: the view list, the legends, the islands' insets and the page config are one
assembly that the national wall and a province's wall (``maps/wall_province.py``, which
reads its own first frame) both render; split, each half would need the other's names. The
reads for the later views live in ``maps/wall_extras.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import urlencode

from branca.element import Element

from maps import theme
from maps.assets_local import add_page_assets, figure_of, offline_map, served_static
from maps.choropleth import classes, decimals_for, legend_html, styled_layer
from maps.i18n import strings
from maps.mappage import basis_text, display_unit
from maps.measures import TASK_MEASURES, indicator_measures
from maps.render import HATCH_DEFS, InitScript, config_script, finish, render_template
from maps.unit_names import short_name
from maps.wall_extras import (  # regions and ranking moved there to keep this one screen
    forecast_measure,
    rank_provinces,
    regions_of,
    reporting,
    wall_extra,
)

# Where each view looks (minlon, minlat, maxlon, maxlat). "national" is the mainland only:
# Hoàng Sa and Trường Sa are shown in a labelled inset, so the country fills the card.
REGIONS = {
    "national": [102.1, 8.4, 109.6, 23.4],
    "north": [102.1, 19.6, 108.1, 23.4],
    "central": [104.6, 11.4, 109.5, 20.0],
    "central_north": [103.9, 15.95, 108.3, 20.7],
    "central_south": [106.9, 10.95, 109.5, 16.25],
    "south": [104.4, 8.5, 107.7, 12.0],
}
ISLANDS_EAST_OF = 110.5  # polygon parts east of this are Hoàng Sa's or Trường Sa's islands
ISLAND_PAD = 0.08  # degrees of sea, at least, around an archipelago's islands in its inset
# ministries: agencies by overdue tasks; reporting: units silent past IOCMAP_STALE_REPORT_DAYS
# (map: days since the last report); targets: met / not met / at risk; will_miss: the
# provinces forecast to miss their deadline, worst first (maps/forecast_map.py);
# difficulties: open tasks with a difficulty by category (map: % of overdue blocked centrally)
WHOLE_VIEWS = ("ministries", "reporting", "targets", "will_miss", "difficulties")
DEFAULT_PLAYLIST = ("national", "regions", "overdue", "service_index", "dti", *WHOLE_VIEWS)
WHOLE_MEASURE = {"reporting": "days_since", "will_miss": "forecast", "difficulties": "blocked"}
BASE_VIEWS = (
    "national", "north", "central", "central_north", "central_south", "south", "regions",
    "overdue", *WHOLE_VIEWS,
)  # fmt: skip
OVERDUE_PROVINCES = 3
# A province's wall (/wall/{code}): its communes by completion (with its figures and trend),
# its communes by overdue tasks, its targets (and its communes'), its difficulties.
PROVINCE_VIEWS = ("province", "province_overdue", "targets", "difficulties")
# The side column, top to bottom: a layout, not a fixed set of boxes. Each name is a card
# in templates/wall_cards.html (server-rendered first frame) and ioc-wall.js (refresh);
# a new view's card (trend, follow-up) is one more entry and one more macro. The trend card:
# national view only; the difficulties card: its view only (ioc-wall.css).
SIDE_CARDS = ("rank_top", "rank_bottom", "difficulties", "alerts")


class PlaylistError(ValueError):
    """A view name the wall does not know (the router turns it into a 400)."""


@dataclass
class WallPage:
    """What the wall shows on its first frame and how it refreshes."""

    as_of: dt.date
    data_as_of: dt.date | None
    year: int  # the basis: programme tasks due in this year, status on ``as_of``
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
    overdue: list[dict] = field(default_factory=list)  # provinces by overdue tasks (basis)
    overdue_communes: list[dict] = field(default_factory=list)  # {code, province_code, n}
    query: dict[str, str] = field(default_factory=dict)  # the basis as API parameters
    force: bool = False
    static: str = field(default_factory=served_static)  # the static export passes its own
    api: str | None = "/api/v1"
    approximate: bool = True
    extra: dict = field(default_factory=dict)
    agencies: list[dict] = field(default_factory=list)  # agency_kpis, most overdue first
    central: dict = field(default_factory=dict)  # the central level's block of the summary
    health: list[dict] = field(default_factory=list)  # provinces' data health, stalest first
    stale_days: int = 7
    targets: list[dict] = field(default_factory=list)
    province: dict | None = None  # a province's wall: {code, name, kind, bounds}


def expand_playlist(
    views: list[str], indicator_codes: list[str], province: bool = False
) -> list[str]:
    """Expand ``regions`` into north/central/south and check every name (a province's
    wall: its own views, PROVINCE_VIEWS)."""
    out: list[str] = []
    if province:
        for v in views:
            if v not in PROVINCE_VIEWS:
                allowed = ", ".join(PROVINCE_VIEWS)
                raise PlaylistError(f"unknown view '{v}' on a province's wall; allowed: {allowed}")
            out.append(v)
        return out or ["province"]
    for v in views:
        if v == "regions":
            out += ["north", "central_north", "central_south", "south"]
        elif v in BASE_VIEWS or v in indicator_codes:
            out.append(v)
        else:
            allowed = ", ".join([*BASE_VIEWS, *indicator_codes])
            raise PlaylistError(f"unknown view '{v}'; allowed: {allowed}")
    return out or ["national"]


def _legend(title, sub, values, method, decimals, unit, better, s, lang):
    breaks, palette, single = classes(values, method, decimals, better)
    lowest = min((v for v in values if v is not None), default=None)
    note = s["method_single"] if single else s[f"method_{method}"]
    html = legend_html(
        title, sub, breaks, palette, decimals, unit, note, s["no_data"], s["legend"], lowest, lang
    )
    return html, breaks, palette


def overdue_by_province(provinces: list[dict], communes: list[dict]) -> list[dict]:
    """Provinces with overdue tasks on the basis: their own programme's (NQ57) plus their
    communes' (KH02), most first — what the alert rail and the overdue views show."""
    kh02: dict[str, int] = {}
    for c in communes:
        kh02[c["province_code"]] = kh02.get(c["province_code"], 0) + int(c["n"])
    out = []
    for p in provinces:
        own, com = int(p["tasks_overdue"] or 0), kh02.get(p["code"], 0)
        if own + com:
            out.append(
                {
                    "code": p["code"],
                    "full_name": f"{p['kind']} {p['name']}",
                    "tasks_overdue": own + com,
                    "nq57": own,
                    "kh02": com,
                }
            )
    return sorted(out, key=lambda p: (-p["tasks_overdue"], p["code"]))


def outer_rings(fc: dict) -> Iterator[tuple[str, list]]:
    """Each polygon part's outer ring (a list of [lon, lat]) of a GeoJSON layer, with its
    feature's code: what the island insets and a province wall's mainland box are cut from."""
    for f in fc.get("features", []):
        g = f.get("geometry") or {}
        polys = (
            g.get("coordinates", [])
            if g.get("type") == "MultiPolygon"
            else [g.get("coordinates", [])]
        )
        for poly in polys:
            if poly and poly[0]:
                yield f["properties"]["code"], poly[0]


def island_insets(provinces: dict) -> list[dict]:
    """One inset per archipelago, fitted to its islands as the layer draws them (the parts
    east of 110.5° E; north of 14° N Hoàng Sa, south of it Trường Sa), so the inset shows
    islands at a readable scale rather than sea; none when the layer has no islands."""
    found: dict[str, list[float]] = {}
    owner: dict[str, str] = {}
    for code, ring in outer_rings(provinces):
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        if min(xs) < ISLANDS_EAST_OF:
            continue
        key = "hoang_sa" if min(ys) > 14 else "truong_sa"
        b = found.setdefault(key, [180.0, 90.0, -180.0, -90.0])
        b[:] = [min(b[0], min(xs)), min(b[1], min(ys)), max(b[2], max(xs)), max(b[3], max(ys))]
        owner[key] = code
    out = []
    for key in ("hoang_sa", "truong_sa"):
        if key in found:
            x0, y0, x1, y1 = found[key]
            pad = max(ISLAND_PAD, 0.3 * max(x1 - x0, y1 - y0))
            out.append(
                {
                    "label": key,
                    "code": owner[key],
                    "bounds": [x0 - pad, y0 - pad, x1 + pad, y1 + pad],
                }
            )
    return out


def explain_hrefs(page: WallPage) -> dict[str, str]:
    """The KPIs' links to their rows (``/api/v1/explain?f=html``): the wall's basis —
    its unit (the nation's or the province's own NQ57 tasks), year and as-of day."""
    unit = page.province["code"] if page.province else "national"
    out = {}
    for key, measure in (("done", "tasks_completed"), ("overdue", "tasks_overdue")):
        q = {"measure": measure, "unit": unit, "year": str(page.year), "f": "html"}
        if "as_of" in page.query:
            q["as_of"] = page.query["as_of"]
        if page.lang == "en":
            q["lang"] = "en"
        out[key] = f"{page.api or '/api/v1'}/explain?{urlencode(q)}"
    return out


def render_wall(page: WallPage) -> str:
    """The wall's full HTML."""
    s = strings(page.lang)
    en = page.lang == "en"
    completion = TASK_MEASURES[0]
    values = [f["properties"]["v"] for f in page.provinces["features"]]
    measures: dict[str, dict] = {}
    legends: list[str] = []

    def add_measure(key, label, sub, vals, method, decimals, unit, better):
        html, breaks, palette = _legend(
            label, sub, vals, method, decimals, unit, better, s, page.lang
        )
        legends.append(f'<div class="legend-slot" data-measure="{key}" hidden>{html}</div>')
        measures[key] = {
            "label": label,
            "unit": unit,
            "decimals": decimals,
            "breaks": breaks,
            "palette": palette,
            "higherIsBetter": better,
        }

    add_measure("completion", completion.label(page.lang), "", values, "quantiles", 2, "%", True)
    add_measure(
        "communes",
        completion.label(page.lang),
        s["unit_kh02"],
        page.commune_completion,
        "quantiles",
        2,
        "%",
        True,
    )
    for m in indicator_measures(page.indicator_defs):
        if m.code in page.playlist and "province" in m.levels:
            period = page.indicator_periods.get(m.code)
            vals = list(page.indicator_values.get(m.code, {}).values())
            add_measure(
                m.code,
                m.label(page.lang),
                f"{s['period']} {period}",
                vals,
                "quantiles",
                decimals_for(vals),
                display_unit(m.unit, s),
                m.higher_is_better,
            )
    if "reporting" in page.playlist:
        days = [h["days_since_report"] for h in page.health]
        add_measure("days_since", s["days_since"], "", days, "natural_breaks", 0, s["days"], False)
    if "difficulties" in page.playlist:
        shares = (page.extra.get("difficulties") or {}).get("blocked_by_unit", {})
        sub = s["wall_blocked_sub_commune" if page.province else "wall_blocked_sub_province"]
        add_measure(
            "blocked", s["wall_blocked_map"], sub, list(shares.values()), "quantiles", 0, "%",
            False,
        )  # fmt: skip
    if "will_miss" in page.playlist:
        legends.append((fc := forecast_measure(s, page.as_of))[0])
        measures["forecast"] = fc[1]
    views: list[dict[str, object]] = []
    for v in page.playlist:
        if page.province is not None and v == "difficulties":
            views.append(
                {
                    "id": v,
                    "kind": v,
                    "measure": "blocked",
                    "bounds": page.province["bounds"],
                    "label": s["view_difficulties"],
                }
            )
            continue
        if page.province is not None:
            views.append(
                {
                    "id": v,
                    "kind": "targets" if v == "targets" else "communes",
                    "rank": "overdue" if v == "province_overdue" else "completion",
                    "measure": "completion",
                    "bounds": page.province["bounds"],
                    "main": v == "province",
                    "label": s[f"view_{v}"],
                }
            )
            continue
        if v in WHOLE_VIEWS:
            views.append(
                {
                    "id": v,
                    "kind": v,
                    "measure": WHOLE_MEASURE.get(v, "completion"),
                    "bounds": REGIONS["national"],
                    "label": s[f"view_{v}"],
                }
            )
            continue
        if v in REGIONS:
            views.append(
                {
                    "id": v,
                    "kind": "provinces",
                    "measure": "completion",
                    "region": None if v == "national" else v,
                    "main": v == "national",
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
    first = views[0]
    region = first.get("region")
    ranked = rank_provinces(summ["provinces"], region if isinstance(region, str) else None)
    num = partial(theme.fmt_number, lang=page.lang)
    chrome = render_template(
        "wall_chrome.html",
        s=s,
        page=page,
        summ=summ,
        vn=num,
        top=ranked[:5],
        bottom=ranked[-5:][::-1] if len(ranked) > 5 else [],
        overdue=page.overdue,
        legends=legends,
        views=views,
        cards=SIDE_CARDS,
        hatch_defs=HATCH_DEFS,
        basis=basis_text(s, page.year, page.as_of),
        central=page.central,
        short=short_name,
        title=(
            s["wall_title_province"].format(
                name=short_name(f"{page.province['kind']} {page.province['name']}")
            )
            if page.province
            else s["wall_title"]
        ),
        trend_title=s["trend_wall_scope"].format(year=page.year),
        explain=explain_hrefs(page),
        kpi={
            "done": s["kpi_done_scope"].format(year=page.year),
            "overdue": s["kpi_overdue_scope"].format(year=page.year),
            "kh02_overdue": s["kpi_kh02_overdue"],
            "green": s["kpi_green_scope"],
            "communes": s["kpi_communes"],
            "central": s["kpi_central_scope"].format(year=page.year),
        },
    )
    config = {
        "kind": "wall",
        "lang": page.lang,
        "api": page.api,
        "year": page.year,
        "asOf": page.as_of.isoformat(),
        "dataAsOf": page.data_as_of.isoformat() if page.data_as_of else None,
        "query": page.query,
        "refreshMs": round(page.refresh_seconds * 1000),
        "dwellMs": round(page.dwell_seconds * 1000),
        "force": page.force,
        "views": views,
        "measures": measures,
        "names": page.names,
        "regions": {p["code"]: regions_of(p["code"]) for p in summ["provinces"]},
        "insets": island_insets(page.provinces),
        "province": page.province,
        "provincesFc": page.provinces,
        "overdueProvinces": OVERDUE_PROVINCES,
        "summary": {"provinces": summ["provinces"]},
        "overdue": page.overdue,
        "status": {
            "colors": theme.STATUS,
            "labels": theme.STATUS_LABELS_EN if en else theme.STATUS_LABELS_VI,
            "icons": theme.STATUS_ICONS,
        },
        "strings": s,
        "agencies": page.agencies,
        "health": page.health,
        "staleDays": page.stale_days,
        "targets": page.targets,
        **page.extra,
    }
    root = figure_of(fmap)
    root.html.add_child(Element(chrome + config_script(config)))
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
    query: dict[str, str] | None = None,
    stale_days: int = 7,
) -> WallPage:
    """Read the wall's first frame from the database (raises PlaylistError).

    Every figure uses one basis — programme tasks due in ``year``, status on ``as_of`` —
    the same question ``/api/v1/summary?year=&as_of=`` answers."""
    from geo.read import queries
    from geo.read import targets as read_targets
    from geo.read.progress import agency_kpis, central_summary, national_summary, province_kpis
    from maps import data

    defs = queries.indicators(conn)
    codes = [d["code"] for d in defs if d["level"] in ("province", "both")]
    playlist = expand_playlist(views, codes)
    layer = data.layer(
        conn, "province", as_of, TASK_MEASURES[0], None, band="z6", precision=3, year=year
    )
    summary = {**national_summary(conn, as_of, year), "provinces": province_kpis(conn, as_of, year)}
    communes = data.unit_values(
        conn, "commune", as_of, ("province_code", "completion_pct", "tasks_overdue"), year=year
    )
    overdue_communes = [
        {"code": c["code"], "province_code": c["province_code"], "n": c["tasks_overdue"]}
        for c in communes
        if c.get("tasks_overdue")
    ]
    ind_values, ind_periods = {}, {}
    for code in codes:
        if code in playlist:
            periods = queries.periods(conn, code)
            if periods:
                ind_periods[code] = periods[-1]
                ind_values[code] = queries.indicator_value_map(conn, code, periods[-1], "province")
    agencies = agency_kpis(conn, as_of, year)
    return WallPage(
        extra=wall_extra(conn, as_of, year, playlist),
        agencies=agencies,
        central=central_summary(agencies),
        health=reporting(conn, as_of, stale_days),
        stale_days=stale_days,
        targets=read_targets.targets(conn, as_of),
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
        commune_completion=[c.get("completion_pct") for c in communes],
        overdue=overdue_by_province(summary["provinces"], overdue_communes),
        overdue_communes=overdue_communes,
        query=query or {},
        playlist=playlist,
        refresh_seconds=refresh_seconds,
        dwell_seconds=dwell_seconds,
        force=force,
        approximate=layer.approximate,
    )
