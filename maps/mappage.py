"""The interactive map pages: ``/`` (34 provinces) and ``/p/{code}`` (a province's communes).

Folium draws the map and the classed polygons; ``maps/assets/js/ioc-map.js`` adds the
behaviour (hover, focusable polygons, click panel fed by the API, search, URL state).
The same function renders the served pages and the standalone export
(``iocmap maps build``): only the static prefix, the links and the API base differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import partial
from urllib.parse import urlencode

from maps import forecast_map, theme
from maps.assets_local import add_page_assets, figure_of, offline_map, served_static
from maps.choropleth import classes, decimals_for, legend_html, styled_layer
from maps.data import LayerData
from maps.i18n import strings
from maps.measures import Measure
from maps.render import HATCH_DEFS, InitScript, config_script, finish, render_template

VIETNAM_BOUNDS = [102.0, 8.2, 110.0, 23.5]  # minlon, minlat, maxlon, maxlat (mainland)
# The same measure one level down/up (drill-down keeps the user's question).
COUNTERPART: dict[str, dict[str, str | None]] = {
    "commune": {"all_groups_pct": "groups_done", "service_index": None, "dti": None, "pii": None},
    "province": {"groups_done": "all_groups_pct"},
}


@dataclass
class MapPage:
    """Everything one map page shows."""

    level: str  # province (national page) | commune (province page)
    measure: Measure
    measures: list[Measure]
    period: str | None
    periods: list[str]
    as_of: dt.date
    lang: str
    layer: LayerData
    band: str | None
    province: dict | None = None  # {code, name, full_name} on a province page
    headline: str | None = None
    headline_href: str | None = None  # the tasks behind the headline's count (explain)
    explain_basis: str = ""  # the page's basis as explain's query (year, as_of, lang)
    year: int | None = None  # the ``year`` the user asked for (None: the reporting year)
    basis_year: int = 0  # the deadline year every figure on the page is about
    as_of_given: bool = False
    static: str = field(default_factory=served_static)  # the static export passes its own
    api: str | None = "/api/v1"  # None in a standalone export
    standalone: bool = False
    embedded: dict = field(default_factory=dict)  # standalone: API url → JSON
    link_national: str = "/"
    link_province: str = "/p/{code}"  # {code} is replaced
    linked_provinces: list[str] | None = None  # export: provinces with a page (None: all)
    refine_path: str | None = None  # API path + "…&zoom=" for geometry that fits the zoom
    agencies: list[dict] = field(default_factory=list)  # national page: the central level
    central: dict = field(default_factory=dict)
    # national page: the figures that belong to no province (laws, decrees, …; the digital
    # economy's share of GDP), as /api/v1/summary's ``national_indicators``
    national: list[dict] = field(default_factory=list)


def _query(page: MapPage, level: str, lang: str | None = None) -> str:
    """Query string that keeps the user's state when moving to a page of ``level``."""
    measure: str | None = page.measure.code
    if level != page.level and measure is not None:
        measure = COUNTERPART[level].get(measure, measure)
    params: dict[str, str] = {}
    if measure and measure != "completion_pct":
        params["measure"] = measure
    if measure and page.period and page.measure.indicator and measure == page.measure.code:
        params["period"] = page.period
    if page.as_of_given:
        params["as_of"] = page.as_of.isoformat()
    if page.year:
        params["year"] = str(page.year)
    if (lang or page.lang) != "vi":
        params["lang"] = lang or page.lang
    return ("?" + urlencode(params)) if params else ""


def _subtitle(page: MapPage, s: dict) -> str:
    """What the legend adds to the page's basis: the period of an indicator, the
    programme of a task measure when it is not the basis's (communes: Plan 02)."""
    if page.measure.indicator and page.period:
        return f"{s['period']} {page.period}"
    note = page.measure.notes.get(page.level)
    return s["unit_kh02"] if note == "KH02" else ""


def basis_text(s: dict, year: int, as_of: dt.date) -> str:
    """The one sentence that says what every figure on a page is about."""
    return s["basis"].format(year=year, date=f"{as_of:%d/%m/%Y}")


def display_unit(unit: str, s: dict) -> str:
    """A measure's unit in the page's language ("điểm" → "points")."""
    return s["points"] if unit == "điểm" else unit


def render_map_page(page: MapPage) -> str:
    """The page's full HTML."""
    s = strings(page.lang)
    m = page.measure
    if m.indicator:  # indicators arrive as stored: round them once, here, as shown
        m = replace(m, decimals=decimals_for(list(page.layer.values.values())))
        page = replace(page, layer=page.layer.rounded(m.decimals))
    values = list(page.layer.values.values())
    categorical = m.method == "categorical"
    if categorical:  # the deadline forecast: one colour per class (maps/forecast_map.py)
        breaks, palette, single = list(forecast_map.BREAKS), list(forecast_map.PALETTE), False
    else:
        breaks, palette, single = classes(values, m.method, m.decimals, m.higher_is_better)
    place = page.province["full_name"] if page.province else s["national"]
    title = f"{s['app_title']} — {place}"
    fmap = offline_map(
        static=page.static,
        location=[16.0, 106.0],
        zoom_start=6,
        min_zoom=4,
        max_zoom=14,
        zoom_snap=0.25,
    )  # the scale bar is added by ioc-map.js: metric only (Leaflet's default adds miles)
    add_page_assets(fmap, "map", page.static)
    layer = styled_layer(page.layer.collection, breaks, palette, m.label(page.lang))
    layer.add_to(fmap)
    unit = display_unit(m.unit, s)
    legend = (
        forecast_map.legend_html(
            m.label(page.lang),
            forecast_map.subtitle(s, page.level, page.as_of),
            s,
            with_no_data=any(v is None for v in values),
        )
        if categorical
        else legend_html(
            m.label(page.lang),
            _subtitle(page, s),
            breaks,
            palette,
            m.decimals,
            unit,
            s["method_single"] if single else s[f"method_{m.method}"],
            s["no_data"],
            s["legend"],
            min((v for v in values if v is not None), default=None),
            page.lang,
        )
    )
    national_href = page.link_national + ("" if page.standalone else _query(page, "province"))
    province_href = page.link_province + ("" if page.standalone else _query(page, "commune"))
    other_lang = "en" if page.lang == "vi" else "vi"
    chrome = render_template(
        "map_chrome.html",
        s=s,
        page=page,
        title=title,
        place=place,
        legend=legend,
        national_href=national_href,
        lang_href="" if page.standalone else _query(page, page.level, other_lang) or "?",
        measures=page.measures,
        hatch_defs=HATCH_DEFS,
        basis=basis_text(s, page.basis_year, page.as_of),
        vn=partial(theme.fmt_number, lang=page.lang),
    )
    config = {
        "kind": "map",
        "lang": page.lang,
        "level": page.level,
        "province": page.province,
        "measure": {
            "code": m.code,
            "label": m.label(page.lang),
            "unit": unit,
            "decimals": m.decimals,
            "indicator": m.indicator,
            "higherIsBetter": m.higher_is_better,
            # categorical (forecast): the class in words per value index; the panel asks
            # the forecast of this programme
            "categories": forecast_map.labels(s) if categorical else None,
            "programme": forecast_map.programme(page.level),
        },
        "period": page.period,
        "asOf": page.as_of.isoformat(),
        "basisYear": page.basis_year,
        "breaks": breaks,
        "palette": palette,
        "names": page.layer.names,
        "bounds": page.layer.bbox or VIETNAM_BOUNDS,
        "band": page.band,
        "refinePath": page.refine_path,
        "api": page.api,
        "standalone": page.standalone,
        "embedded": page.embedded,
        "links": {
            "national": national_href,
            "province": province_href,
            "provinces": page.linked_provinces,
        },
        # the panel asks the API the page's own question: same year, as-of and period
        "query": {
            k: v
            for k, v in {
                "year": str(page.basis_year),
                "as_of": page.as_of.isoformat() if page.as_of_given else None,
                "period": page.period if m.indicator else None,
            }.items()
            if v
        },
        "status": {
            "colors": theme.STATUS,
            "labels": theme.STATUS_LABELS_EN if page.lang == "en" else theme.STATUS_LABELS_VI,
            "icons": theme.STATUS_ICONS,
        },
        "strings": s,
        "forecastColours": theme.FORECAST,
    }
    root = figure_of(fmap)
    root.html.add_child(_element(chrome + config_script(config)))
    fmap.add_child(InitScript("IOC.initMap", layer))
    return finish(root.render(), page.lang, title)


def _element(markup: str):
    import folium

    return folium.Element(markup)


class PageParamError(ValueError):
    """A page parameter that names nothing (the router turns it into a 400)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def period_label(period: str, lang: str) -> str:
    """``2025-Q3`` as an office writes it: "quý III/2025" ("Q3 2025" in English)."""
    year, _, quarter = period.partition("-Q")
    if not quarter.isdigit() or not 1 <= int(quarter) <= 4:
        return period
    roman = ("I", "II", "III", "IV")[int(quarter) - 1]
    return f"Q{quarter} {year}" if lang == "en" else f"quý {roman}/{year}"


def assemble(
    conn,
    *,
    as_of: dt.date,
    reporting_year: int,
    province_code: str | None = None,
    measure_code: str | None = None,
    period: str | None = None,
    lang: str = "vi",
    year: int | None = None,
    as_of_given: bool = False,
) -> MapPage:
    """Read what a page shows from the database (raises PageParamError for bad input)."""
    from geo.read import queries
    from geo.read.progress import agency_kpis, central_summary, national_summary, province_kpis
    from geo.read.summary import national_indicators
    from maps import data, measures

    level = "commune" if province_code else "province"
    agencies: list[dict] = []
    national: list[dict] = []
    defs = queries.indicators(conn)
    code = measure_code or measures.DEFAULT_MEASURE
    measure = measures.find(code, level, defs)
    if measure is None:
        allowed = ", ".join(x.code for x in measures.available(level, defs))
        raise PageParamError("measure", f"unknown measure '{code}' here; allowed: {allowed}")
    periods: list[str] = []
    if measure.indicator:
        periods = queries.periods(conn, measure.code)
        if period is None and periods:
            period = periods[-1]
        elif period not in periods:
            raise PageParamError(
                "period",
                f"no values of '{measure.code}' for period '{period}'; "
                f"available: {', '.join(periods)}",
            )
    elif period is not None:
        raise PageParamError("period", f"'{measure.code}' has no periods; drop 'period'")
    s = strings(lang)
    province = None
    basis_year = year or reporting_year

    def num(v: float | None, decimals: int) -> str:
        return theme.fmt_number(v, decimals, lang)

    if province_code:
        row = queries.unit(conn, province_code)
        if row is None or row["level"] != "province":
            raise LookupError(f"unknown province code '{province_code}'")
        province = {"code": row["code"], "name": row["name"], "full_name": row["full_name"]}
        k = next(x for x in province_kpis(conn, as_of, basis_year) if x["code"] == province_code)
        headline = s["headline_province"].format(
            done=num(k["tasks_completed"], 0),
            total=num(k["tasks_total"], 0),
            pct=num(k["completion_pct"], 2),
            green=num(k["communes_all_groups_done"], 0),
            communes=num(k["communes"], 0),
        )
        band = "z9"
        refine = f"/provinces/{province_code}/communes?precision=5&zoom="
    else:
        summ = national_summary(conn, as_of, basis_year)
        headline = s["headline_national"].format(
            done=num(summ["tasks_completed"], 0),
            total=num(summ["tasks_total"], 0),
            pct=num(summ["completion_pct"], 2),
        )
        band = "z6"
        refine = "/provinces?precision=5&zoom="
        agencies = agency_kpis(conn, as_of, basis_year)
        national = [
            {**i, "period_label": period_label(i["period"], lang)}
            for i in national_indicators(conn, as_of)
        ]
    explain = {"measure": "tasks_completed", "unit": province_code or "national",
               "year": basis_year, "f": "html"}  # fmt: skip
    if as_of_given:
        explain["as_of"] = as_of.isoformat()
    if lang == "en":
        explain["lang"] = "en"
    headline_href = "/api/v1/explain?" + urlencode(explain)
    basis_q = {k: v for k, v in explain.items() if k in ("year", "as_of", "lang")}
    refine = refine.replace("?", f"?year={basis_year}&", 1)
    if as_of_given:
        refine = refine.replace("?", f"?as_of={as_of.isoformat()}&", 1)
    layer = data.layer(
        conn, level, as_of, measure, period, parent=province_code, band=band, year=basis_year
    )
    return MapPage(
        level=level,
        measure=measure,
        measures=measures.available(level, defs),
        period=period,
        periods=periods,
        as_of=as_of,
        lang=lang,
        layer=layer,
        band=band,
        province=province,
        headline=headline,
        headline_href=headline_href,
        explain_basis=urlencode(basis_q),
        year=year,
        basis_year=basis_year,
        as_of_given=as_of_given,
        refine_path=refine,
        agencies=agencies,
        central=central_summary(agencies) if agencies else {},
        national=national,
    )
