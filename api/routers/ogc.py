"""OGC API – Features at /ogc: Part 1 (Core, GeoJSON, OpenAPI 3.0), Part 2 (CRS), Part 3
(CQL2 ``filter``, see ``api/ogc_query.py``), ``sortby``, ``properties``.

Why a standard next to /api/v1: analysts open the layers in QGIS/ArcGIS/GDAL without code;
the same cached, one-statement layer builder serves both. Real clients shape the details:
GDAL's OAPIF driver follows ``next`` links and pushes ``-where`` as a filter; unknown
parameters are a 400 (/req/core/query-param-unknown); a ``limit`` over the cap is clamped.

Why one module (over 400 lines): the landing page, conformance, collections and items are
one OGC API whose documents link to each other; their shared rules (CRS parsing, the f=
encodings, the paging links) stay in ``api/ogc_docs``, ``api/ogc_query`` and ``api/item_formats``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.item_formats import ITEM_FORMATS
from api.models import OgcFeatureCollection, UnitFeature
from api.ogc_docs import (
    COLLECTIONS,
    CONFORMANCE,
    CRS84,
    DEFAULT_ITEMS,
    EPSG,
    GEOGRAPHIC,
    HTML,
    JSON,
    MAX_ITEMS,
    OAS30,
    bbox_in_wgs84,
    collection_doc,
    collection_or_404,
    crs_uri,
    flip_axes,
    openapi_doc,
    parse_crs,
    property_schemas,
    root_url,
)
from api.ogc_query import sort_keys, unit_filter, valid_interval
from api.ogc_respond import JSON_OR_HTML, F, ItemsF, respond
from api.params import (
    FILTER_MAX_CHARS,
    GEOJSON,
    AsOfDay,
    GeoJSONResponse,
    Period,
    Year,
    base_url,
    page_links,
    parse_list,
)
from api.routers._layers import suggested_crs_link
from geo.read import queries, tiles
from geo.read.features import (
    FULL,
    UnitQuery,
    feature_collection,
    indicator_codes,
    latest_period,
    split_fields,
    unit_page,
)

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])


@router.get("", response_class=Response, responses=JSON_OR_HTML, summary="Landing page")
async def landing(request: Request, state: StateDep, f: F = None):
    """Links to the API definition, the conformance declaration and the collections."""
    root = root_url(request)

    def build() -> bytes:
        return orjson.dumps(
            {
                "title": "iocmap — OGC API – Features",
                "description": "Ranh giới hành chính và tiến độ Nghị quyết 57 / Kế hoạch 02: "
                "provinces and communes of Vietnam with task progress.",
                "links": [
                    {"rel": "self", "type": JSON, "title": "This document", "href": root},
                    {
                        "rel": "alternate",
                        "type": "text/html",
                        "title": "As HTML",
                        "href": root + "?f=html",
                    },
                    {
                        "rel": "service-desc",
                        "type": OAS30,
                        "title": "API definition (OpenAPI 3.0)",
                        "href": root + "/api",
                    },
                    {
                        "rel": "service-doc",
                        "type": "text/html",
                        "title": "API documentation",
                        "href": base_url(request) + "/docs",
                    },
                    {
                        "rel": "conformance",
                        "type": JSON,
                        "title": "Conformance classes",
                        "href": root + "/conformance",
                    },
                    {
                        "rel": "data",
                        "type": JSON,
                        "title": "Collections",
                        "href": root + "/collections",
                    },
                    {
                        "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                        "type": JSON,
                        "title": "Tile matrix sets (OGC API – Tiles)",
                        "href": root + "/tileMatrixSets",
                    },
                ],
            }
        )

    return await respond(request, state, build, JSON, f)


@router.get(
    "/conformance",
    response_class=Response,
    responses=JSON_OR_HTML,
    summary="Conformance declaration",
)
async def conformance(request: Request, state: StateDep, f: F = None):
    """Core, GeoJSON, HTML, OpenAPI 3.0 and CRS by reference (Part 2)."""
    return await respond(request, state, lambda: orjson.dumps({"conformsTo": CONFORMANCE}), JSON, f)


@router.get(
    "/api",
    response_class=Response,
    responses={200: {"description": "OK", "content": {OAS30: {}}}},
    summary="OpenAPI 3.0 definition of the OGC endpoints",
)
async def api_definition(request: Request, state: StateDep, f: F = None):
    """What GDAL and other clients read to learn the paging limits."""
    return await respond(request, state, lambda: orjson.dumps(openapi_doc(request)), OAS30, None)


@router.get(
    "/collections",
    response_class=Response,
    responses=JSON_OR_HTML,
    summary="The feature collections",
)
async def collections(request: Request, db: LazyConnDep, state: StateDep, f: F = None):
    """provinces and communes, each with its extent and supported CRSs."""

    def build() -> bytes:
        ext = tiles.extents(db.conn)
        return orjson.dumps(
            {
                "links": [
                    {"rel": "self", "type": JSON, "href": root_url(request) + "/collections"}
                ],
                "collections": [
                    collection_doc(request, cid, ext.get(m["level"], [-180, -90, 180, 90]))
                    for cid, m in COLLECTIONS.items()
                ],
            }
        )

    return await respond(request, state, build, JSON, f)


@router.get(
    "/collections/{collectionId}",
    response_class=Response,
    responses=JSON_OR_HTML,
    summary="One collection",
)
async def collection(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    collection_id: Annotated[str, Path(alias="collectionId")],
    f: F = None,
):
    """Title, extent, CRSs and links of one collection."""
    meta = collection_or_404(collection_id)

    def build() -> bytes:
        ext = tiles.extents(db.conn).get(meta["level"], [-180, -90, 180, 90])
        return orjson.dumps(collection_doc(request, collection_id, ext))

    if f == "html":

        def page() -> bytes:
            from maps.ogc_pages import collection_page

            conn = db.conn
            codes = indicator_codes(conn, meta["level"])
            props = property_schemas(meta["level"], codes, latest_period(conn, meta["level"]))
            return collection_page(orjson.loads(build()), props, root_url(request))

        return await cached_response(request, state, page, "text/html; charset=utf-8")
    return await respond(request, state, build, JSON, f)


@router.get(
    "/collections/{collectionId}/items",
    response_class=GeoJSONResponse,
    responses={200: {"model": OgcFeatureCollection, "description": "OK", "content": {HTML: {}}}},
    summary="Features of a collection",
)
async def items(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    collection_id: Annotated[str, Path(alias="collectionId")],
    limit: Annotated[
        int, Query(ge=1, description=f"page size (default {DEFAULT_ITEMS}, max {MAX_ITEMS})")
    ] = DEFAULT_ITEMS,
    offset: Annotated[int, Query(ge=0)] = 0,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (in bbox-crs)")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[str | None, Query(description="output CRS URI (see the collection)")] = None,
    datetime: Annotated[
        str | None,
        Query(
            description="validity of the units: an instant or an interval a/b, ../b, a/..; "
            "units are valid from their valid_from on (1 July 2025 for the current units)"
        ),
    ] = None,
    filter_: Annotated[
        str | None,
        Query(
            alias="filter",
            max_length=FILTER_MAX_CHARS,
            description="CQL2 filter (Part 3), see queryables",
        ),
    ] = None,
    filter_lang: Annotated[
        str | None, Query(alias="filter-lang", description="cql2-text (default) | cql2-json")
    ] = None,
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description="CRS of filter geometries (CRS84)")
    ] = None,
    sortby: Annotated[str | None, Query(description="+prop,-prop (ties: code ascending)")] = None,
    properties: Annotated[
        str | None, Query(description="comma-separated property names to return")
    ] = None,
    year: Year = None,
    period: Period = None,
    code: Annotated[str | None, Query(max_length=5)] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    province_code: Annotated[str | None, Query(max_length=2)] = None,
    geometry_quality: Annotated[str | None, Query(max_length=20)] = None,
    f: ItemsF = None,
):
    """GeoJSON FeatureCollection with numberMatched/numberReturned and next/prev links."""
    meta = collection_or_404(collection_id)
    limit = min(limit, MAX_ITEMS)
    out_crs = parse_crs(crs, "crs")
    box = bbox_in_wgs84(bbox, bbox_crs)
    filters = tuple(
        (k, v)
        for k, v in (
            ("code", code),
            ("name", name),
            ("kind", kind),
            ("province_code", province_code),
            ("geometry_quality", geometry_quality),
        )
        if v is not None
    )
    if province_code is not None and meta["level"] != "commune":
        raise BadParameter("province_code", "province_code filters the communes collection only")
    valid_at = valid_interval(datetime)
    filter_srid = parse_crs(filter_crs, "filter-crs")
    flip = filter_srid in GEOGRAPHIC and filter_crs not in (None, CRS84)
    level = meta["level"]

    def build() -> bytes:
        conn = db.conn
        codes = indicator_codes(conn, level)
        where = unit_filter(filter_, filter_lang, level, codes, filter_srid, flip)
        sort = sort_keys(sortby, level, codes)
        # every queryable by default, indicators of the latest period included: GDAL and
        # QGIS build their field list from the items, and filter on what they saw
        fields, inds = FULL[level], tuple(codes)
        if properties is not None:
            fields, inds, unknown = split_fields(level, parse_list(properties) or (), codes)
            if unknown:
                raise BadParameter("properties", f"unknown properties: {', '.join(unknown)}")
        uses_ind = bool(inds) or bool(where and where.indicators)
        uses_ind = uses_ind or any(n.removesuffix("_rank") in codes for n, _ in sort)
        q = UnitQuery(
            level=level,
            as_of=day,
            year=year,
            limit=limit,
            offset=offset,
            bbox=box,
            filters=filters,
            fields=fields,
            indicators=inds,
            period=period or (latest_period(conn, level) if uses_ind else None),
            crs=out_crs,
            where=where,
            sort=sort,
            valid_at=valid_at,
        )
        page = unit_page(conn, q)
        features = page.features
        if out_crs in GEOGRAPHIC and crs is not None:
            features = flip_axes(page)
        links = page_links(
            request, offset, limit, page.number_returned, page.number_matched, GEOJSON
        )
        links.append(
            {
                "rel": "collection",
                "type": JSON,
                "href": f"{root_url(request)}/collections/{collection_id}",
            }
        )
        province = province_code or (code if level == "province" else None)
        zone = queries.suggested_crs(conn, province) if province else None
        if zone:  # a province's view: its own VN-2000 TM-3 zone
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "crs"]
            href = f"{root_url(request)}/collections/{collection_id}/items"
            href += "?" + urlencode(query) if query else ""
            links.append(suggested_crs_link(href, zone, EPSG + str(zone)))
        return feature_collection(
            type(page)(features, page.number_matched, page.number_returned),
            timeStamp=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            links=links,
            data_as_of=state.reporting_date.isoformat() if state.reporting_date else None,
        )

    headers = {"Content-Crs": f"<{crs_uri(out_crs, crs is None or crs == CRS84)}>"}
    if f == "html":

        def page() -> bytes:
            from maps.ogc_pages import items_page

            doc = orjson.loads(build())
            ext = tiles.extents(db.conn).get(level, [-180, -90, 180, 90])
            return items_page(
                doc, str(request.url), root_url(request), collection_id, meta["title"], ext
            )

        return await cached_response(request, state, page, "text/html; charset=utf-8")
    if f in ITEM_FORMATS:
        convert, media = ITEM_FORMATS[f]
        return await cached_response(request, state, lambda: convert(build()), media, headers)
    return await cached_response(request, state, build, GEOJSON, headers)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_class=GeoJSONResponse,
    responses={
        200: {"model": UnitFeature, "description": "OK", "content": {HTML: {}}},
        404: {"description": "unknown feature"},
    },
    summary="One feature",
)
async def item(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    collection_id: Annotated[str, Path(alias="collectionId")],
    feature_id: Annotated[str, Path(alias="featureId", max_length=10)],
    crs: Annotated[str | None, Query()] = None,
    f: F = None,
):
    """A unit by its official code."""
    meta = collection_or_404(collection_id)
    out_crs = parse_crs(crs, "crs")
    day = state.default_as_of()

    def build() -> bytes:
        conn = db.conn
        q = UnitQuery(
            level=meta["level"], as_of=day, code=feature_id, fields=FULL[meta["level"]], crs=out_crs
        )
        page = unit_page(conn, q)
        if page.number_returned == 0:
            raise BadParameter("featureId", f"no feature '{feature_id}' in {collection_id}", 404)
        features = page.features
        if out_crs in GEOGRAPHIC and crs is not None:
            features = flip_axes(page)
        feature = orjson.loads(features)
        root = root_url(request)
        feature["links"] = [
            {
                "rel": "self",
                "type": GEOJSON,
                "href": f"{root}/collections/{collection_id}/items/{feature_id}",
            },
            {"rel": "collection", "type": JSON, "href": f"{root}/collections/{collection_id}"},
        ]
        zone = queries.suggested_crs(conn, feature_id)
        if zone:  # the province's own VN-2000 TM-3 zone
            href = f"{root}/collections/{collection_id}/items/{feature_id}"
            feature["links"].append(suggested_crs_link(href, zone, EPSG + str(zone)))
        return orjson.dumps(feature)

    headers = {"Content-Crs": f"<{crs_uri(out_crs, crs is None or crs == CRS84)}>"}
    if f == "html":

        def page() -> bytes:
            from maps.ogc_pages import item_page

            ext = tiles.extents(db.conn).get(meta["level"], [-180, -90, 180, 90])
            return item_page(
                orjson.loads(build()), str(request.url), root_url(request), collection_id,
                meta["title"], ext,
            )  # fmt: skip

        return await cached_response(request, state, page, "text/html; charset=utf-8")
    return await cached_response(request, state, build, GEOJSON, headers)
