"""The two unit layers (provinces, communes) as collections and as single features.

Why shared: /provinces and /communes differ only in level, default properties and a few
parameters; one builder keeps their behaviour (filters, paging, caching) identical.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import Query, Request, Response
from sqlalchemy import Connection

from api.deps import LazyConn, cached_response
from api.errors import BadParameter
from api.ogc_query import sort_keys
from api.params import (
    GEOJSON,
    AsOfDay,
    Bbox,
    Fields,
    Offset,
    Period,
    Precision,
    Q,
    Resolution,
    Status,
    Year,
    Zoom,
    base_url,
    check_limit,
    meta,
    meta_headers,
    page_links,
    parse_bbox,
    parse_list,
    pick_band,
)
from api.routers._out_crs import CRS_DESCRIPTION, content_crs, parse_output_crs
from geo.read import followup, health, queries
from geo.read import targets as read_targets
from geo.read.features import (
    FULL,
    UnitQuery,
    feature_collection,
    indicator_codes,
    latest_period,
    split_fields,
    unit_page,
)
from geo.read.progress import DataState
from geo.read.series import changes
from geo.text import search_key

PLURAL = {"province": "provinces", "commune": "communes"}


@dataclass(frozen=True)
class LayerParams:
    """The query parameters of a collection request, each parsed once (``parse``): the
    bounding box, the geometry band and the output CRS arrive here as values, so nothing
    downstream parses them again."""

    as_of: dt.date  # resolved once per request (``api.params.AsOfDay``)
    province: str | None = None
    status: str | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    year: int | None = None
    period: str | None = None
    fields: str | None = None
    precision: int = 6
    band: str | None = None  # from zoom or resolution (``api.params.pick_band``)
    limit: int | None = None
    offset: int = 0
    epsg: int = 4326  # output CRS (``_out_crs.parse_output_crs``)
    name: str | None = None  # an alias of q: the same matcher (geo.read.search)
    sortby: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        bbox: str | None = None,
        zoom: int | None = None,
        resolution: str | None = None,
        crs: str | None = None,
        **values: Any,
    ) -> LayerParams:
        """Parse the raw bbox, zoom/resolution and crs (a bad one is a 400 naming it)."""
        return cls(
            bbox=parse_bbox(bbox),
            band=pick_band(zoom, resolution),
            epsg=parse_output_crs(crs),
            **values,
        )


SortBy = Annotated[
    str | None,
    Query(
        description="Sort keys: +prop,-prop (any property or indicator code; ties by code)",
        openapi_examples={"5 highest": {"value": "-completion_pct"}},
    ),
]
Properties = Annotated[
    str | None,
    Query(description="Same as fields (the OGC API name); give one of the two"),
]


async def layer_query(
    as_of: AsOfDay,
    status: Status = None,
    q: Q = None,
    bbox: Bbox = None,
    year: Year = None,
    period: Period = None,
    fields: Fields = None,
    precision: Precision = 6,
    zoom: Zoom = None,
    resolution: Resolution = None,
    limit: Annotated[
        int, Query(ge=1, description="page size (default and cap 5000: all 3,321 fit)")
    ] = 5000,
    offset: Offset = 0,
    crs: Annotated[str | None, Query(max_length=100, description=CRS_DESCRIPTION)] = None,
    name: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Units whose name contains this, without diacritics, spaces or "
            "apostrophes mattering ('ba dinh', 'cu mgar'), abbreviations resolved ('HCM'), "
            "typos tolerated when nothing contains it (pg_trgm); like q",
        ),
    ] = None,
    sortby: SortBy = None,
    properties: Properties = None,
) -> LayerParams:
    """The query parameters every collection route shares, declared once (a dependency,
    so OpenAPI and the strict unknown-parameter check still see each of them); async, so
    it costs no worker thread per request."""
    if properties is not None and fields is not None:
        raise BadParameter("properties", "give fields or properties, not both")
    return LayerParams.parse(
        status=status, q=q, bbox=bbox, as_of=as_of, year=year, period=period,
        fields=fields or properties, precision=precision, zoom=zoom, resolution=resolution,
        limit=limit, offset=offset, crs=crs, name=name, sortby=sortby,
    )  # fmt: skip


def ensure_province(conn: Connection, code: str, param: str = "province") -> None:
    """404 naming the parameter when a province code does not exist."""
    if not queries.is_province(conn, code):
        raise BadParameter(param, f"{param}: unknown province code '{code}'", 404)


def resolve_fields(
    conn: Connection, level: str, fields: tuple[str, ...] | None, period: str | None
) -> tuple[tuple[str, ...] | None, tuple[str, ...], str | None]:
    """(fixed fields or None for lean, indicator codes, period) with unknown names → 400."""
    codes = indicator_codes(conn, level)
    if fields is None:
        inds: tuple[str, ...] = tuple(codes) if period else ()
        return None, inds, period
    fixed, inds, unknown = split_fields(level, fields, codes)
    if unknown:
        raise BadParameter("fields", f"unknown field(s): {', '.join(unknown)}")
    if inds and period is None:
        period = latest_period(conn, level)
    return fixed, inds, period


def _name_key(p: LayerParams) -> str | None:
    """The search key of ``q`` or ``name`` (one of them: both at once is a 400)."""
    if p.q and p.name:
        raise BadParameter("name", "give q or name, not both")
    raw = p.q or p.name
    if not raw:
        return None
    # taken literally: only punctuation (``%``, ``_``) is a key no name contains, so it
    # matches nothing, never everything (issue 21); "" is that key
    return search_key(raw)


def unit_query(
    conn: Connection, level: str, p: LayerParams, as_of: dt.date, **overrides: Any
) -> UnitQuery:
    """A UnitQuery from request parameters (validated; bad ones raise 400/404)."""
    fixed, inds, period = resolve_fields(conn, level, parse_list(p.fields), p.period)
    codes = indicator_codes(conn, level)
    sort = sort_keys(p.sortby, level, codes)
    if period is None and any(n.removesuffix("_rank") in codes for n, _ in sort):
        period = latest_period(conn, level)
    q = UnitQuery(
        level=level,
        as_of=as_of,
        year=p.year,
        parent=p.province if level == "commune" else None,
        code=p.province if level == "province" else None,
        band=p.band,
        precision=p.precision,
        limit=p.limit,
        offset=p.offset,
        status=p.status,
        q=_name_key(p),
        bbox=p.bbox,
        fields=fixed,
        period=period,
        indicators=inds,
        crs=p.epsg,
        sort=sort,
    )
    return dataclasses.replace(q, **overrides) if overrides else q


async def collection(
    request: Request,
    db: LazyConn,
    state: DataState,
    level: str,
    p: LayerParams,
    max_limit: int,
) -> Response:
    """A FeatureCollection page of a layer, cached per data version."""
    if p.limit is not None:
        check_limit(p.limit, max_limit)
    day = p.as_of

    def build() -> bytes:
        conn = db.conn
        if p.province:
            ensure_province(conn, p.province)
        q = unit_query(conn, level, p, day)
        page = unit_page(conn, q)
        links = page_links(
            request, p.offset, p.limit, page.number_returned, page.number_matched, GEOJSON
        )
        return feature_collection(
            page,
            **meta(state, day),
            period=q.period,
            links=links,
        )

    headers = {**meta_headers(day), "Content-Crs": content_crs(p.epsg)}
    return await cached_response(request, state, build, GEOJSON, headers)


async def detail(
    request: Request,
    db: LazyConn,
    state: DataState,
    level: str,
    code: str,
    day: dt.date,
    year: int | None,
    period: str | None,
    precision: int,
    zoom: int | None,
    resolution: str | None,
    crs: str | None = None,
) -> Response:
    """One unit as a Feature with every property, its indicators and links."""
    band = pick_band(zoom, resolution)
    epsg = parse_output_crs(crs)

    def build() -> bytes:
        conn = db.conn
        q = UnitQuery(
            level=level,
            as_of=day,
            year=year,
            code=code,
            band=band,
            precision=precision,
            fields=FULL[level],
            crs=epsg,
        )
        page = unit_page(conn, q)
        if page.number_returned == 0:
            raise BadParameter("code", f"unknown {level} code '{code}'", 404)
        feature = orjson.loads(page.features)
        props = feature["properties"]
        if level == "commune":
            props["province"] = {"code": props["province_code"], "name": props["province_name"]}
        props["indicators"] = queries.unit_indicators(conn, code, period)
        stale_days = request.app.state.settings.stale_report_days
        props["data_health"] = next(
            iter(health.data_health(conn, level, day, stale_days, code)), None
        )
        if level == "province":
            props["targets"] = read_targets.targets(conn, day, code)
        program = "NQ57" if level == "province" else "KH02"
        props["change"] = changes(conn, day, program, year, code)
        props["tasks_overdue_without_reason"] = followup.overdue_without_reason(
            conn, day, program, year, code
        )
        zone = queries.suggested_crs(conn, code)
        props["suggested_crs"] = f"EPSG:{zone}" if zone else None
        root = base_url(request) + "/api/v1"
        feature["links"] = [
            {"rel": "self", "type": GEOJSON, "href": f"{root}/{PLURAL[level]}/{code}"},
            {"rel": "tasks", "type": "application/json", "href": f"{root}/units/{code}/tasks"},
            {"rel": "history", "type": "application/json", "href": f"{root}/units/{code}/history"},
            {"rel": "series", "type": "application/json", "href": f"{root}/units/{code}/series"},
            {
                "rel": "download",
                "type": GEOJSON,
                "href": f"{root}/download/{PLURAL[level]}.geojson?code={quote(code)}",
            },
        ]
        if level == "commune":
            feature["links"].append(
                {"rel": "up", "type": GEOJSON, "href": f"{root}/provinces/{props['province_code']}"}
            )
        if zone:
            feature["links"].append(suggested_crs_link(f"{root}/{PLURAL[level]}/{code}", zone))
        feature.update(meta(state, day))
        return orjson.dumps(feature)

    headers = {**meta_headers(day), "Content-Crs": content_crs(epsg)}
    return await cached_response(request, state, build, GEOJSON, headers)


def suggested_crs_link(href: str, zone: int, crs_value: str | None = None) -> dict:
    """A link to the same document in the province's own VN-2000 TM-3 zone."""
    from geo.crs_names import OUTPUT_CRS

    sep = "&" if "?" in href else "?"
    return {
        "rel": "alternate",
        "type": GEOJSON,
        "title": f"Hệ tọa độ gợi ý của tỉnh (suggested CRS): {OUTPUT_CRS[zone]} (EPSG:{zone})",
        "href": f"{href}{sep}crs={quote(crs_value or f'EPSG:{zone}', safe='')}",
    }
