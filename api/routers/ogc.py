"""OGC API – Features (Part 1 Core, GeoJSON, OpenAPI 3.0; Part 2 CRS) at /ogc.

Why a standard next to /api/v1: analysts open the layers in QGIS/ArcGIS/GDAL without
writing code. The same cached, one-statement layer builder serves both, so the OGC
view costs nothing extra. Real clients shape the details: GDAL's OAPIF driver reads the
collections, fetches ``items?limit=N`` and follows ``next`` links; unknown query
parameters are a 400 (Part 1, /req/core/query-param-unknown); a ``limit`` over the cap is
clamped, as Part 1 asks, not refused.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.routers._common import GEOJSON, base_url, page_links, parse_bbox
from geo.read import tiles
from geo.read.features import FULL, UnitQuery, feature_collection, unit_page

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])

JSON = "application/json"
OAS30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
# Output CRSs: WGS84 (CRS84 lon/lat, EPSG:4326 lat/lon) and VN-2000 (geographic and UTM 48N/49N).
CRS_LIST = [CRS84, EPSG + "4326", EPSG + "4756", EPSG + "3405", EPSG + "3406"]
_GEOGRAPHIC = {4326, 4756}  # EPSG axis order: latitude first
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
COLLECTIONS = {
    "provinces": {
        "level": "province",
        "title": "Tỉnh, thành phố (34)",
        "description": "Provinces and centrally governed cities since 1 July 2025, with the "
        "progress of their Resolution 57 programme tasks and the Plan 02 commune rollup.",
    },
    "communes": {
        "level": "commune",
        "title": "Xã, phường, đặc khu (3.321)",
        "description": "Communes, wards and special zones since 1 July 2025, with the "
        "progress of their 16 Plan 02 task groups.",
    },
}
QUERYABLES = {
    "code": ("string", "Mã đơn vị (official code)"),
    "name": ("string", "Tên (name, with diacritics)"),
    "kind": ("string", "Loại (Tỉnh, Thành phố, Xã, Phường, Đặc khu)"),
    "province_code": ("string", "Mã tỉnh (communes only)"),
    "geometry_quality": ("string", "approximate | official"),
}
LICENCE = "CC BY 4.0 (figures); geometry: see 'source' and 'geometry_quality'"
MAX_ITEMS = 10000
DEFAULT_ITEMS = 100

HTML = "text/html"
_JSON_OR_HTML = {200: {"description": "OK", "content": {JSON: {}, HTML: {}}}}
_SCHEMA_OR_HTML = {200: {"description": "OK", "content": {SCHEMA: {}, HTML: {}}}}
_GEO_OR_HTML = {200: {"description": "OK", "content": {GEOJSON: {}, HTML: {}}}}
F = Annotated[
    str | None,
    Query(pattern="^(json|geojson|html)$", description="output format (default json)"),
]
CollectionId = Annotated[str, Path(description="provinces | communes")]


def _root(request: Request) -> str:
    return base_url(request) + "/ogc"


def _respond(request: Request, state, build, media: str, f: str | None) -> Response:
    """JSON (or GeoJSON) by default; ``f=html`` wraps the same document in a page."""
    if f == "html":
        return cached_response(
            request,
            state,
            lambda: _html(orjson.loads(build())),
            "text/html; charset=utf-8",
        )
    return cached_response(request, state, build, media)


def _html(doc: dict) -> bytes:
    """A plain page: title, links, and the document itself (for people with a browser)."""
    title = html.escape(str(doc.get("title") or doc.get("id") or "iocmap OGC API"))
    links = "".join(
        f'<li><a href="{html.escape(link["href"])}">{html.escape(link.get("title") or link["rel"])}'
        f"</a> <small>{html.escape(link.get('type', ''))}</small></li>"
        for link in doc.get("links", [])
    )
    body = html.escape(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()[:200_000])
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><h1>{title}</h1><ul>{links}</ul><pre>{body}</pre></body></html>"
    ).encode()


def _collection_or_404(collection_id: str) -> dict:
    if collection_id not in COLLECTIONS:
        raise BadParameter(
            "collectionId",
            f"unknown collection '{collection_id}'; available: {', '.join(COLLECTIONS)}",
            404,
        )
    return COLLECTIONS[collection_id]


def _parse_crs(raw: str | None, param: str) -> int:
    """EPSG code of a CRS URI from ``CRS_LIST`` (CRS84 → 4326 with lon/lat order)."""
    if raw is None or raw == CRS84:
        return 4326
    if raw.startswith("[") and raw.endswith("]"):  # safe-CURIE form [EPSG:3405]
        raw = raw[1:-1]
    code = raw.removeprefix(EPSG).removeprefix("EPSG:")
    if raw in CRS_LIST or (code.isdigit() and EPSG + code in CRS_LIST):
        return int(code)
    raise BadParameter(param, f"unsupported {param} '{raw}'; supported: {', '.join(CRS_LIST)}")


def _crs_uri(epsg: int, lonlat: bool) -> str:
    return CRS84 if epsg == 4326 and lonlat else EPSG + str(epsg)


def _collection_doc(request: Request, cid: str, extent: list[float]) -> dict:
    meta = COLLECTIONS[cid]
    root = _root(request)
    return {
        "id": cid,
        "title": meta["title"],
        "description": meta["description"],
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [extent], "crs": CRS84}},
        "crs": CRS_LIST,
        "storageCrs": CRS84,
        "links": [
            {"rel": "self", "type": JSON, "href": f"{root}/collections/{cid}"},
            {
                "rel": "items",
                "type": GEOJSON,
                "title": "Features",
                "href": f"{root}/collections/{cid}/items",
            },
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": SCHEMA,
                "title": "Queryables",
                "href": f"{root}/collections/{cid}/queryables",
            },
            {
                "rel": "license",
                "type": "text/html",
                "title": LICENCE,
                "href": "https://creativecommons.org/licenses/by/4.0/",
            },
        ],
    }


@router.get("", response_class=Response, responses=_JSON_OR_HTML, summary="Landing page")
async def landing(request: Request, state: StateDep, f: F = None):
    """Links to the API definition, the conformance declaration and the collections."""
    root = _root(request)

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
                ],
            }
        )

    return await _respond(request, state, build, JSON, f)


@router.get(
    "/conformance",
    response_class=Response,
    responses=_JSON_OR_HTML,
    summary="Conformance declaration",
)
async def conformance(request: Request, state: StateDep, f: F = None):
    """Core, GeoJSON, HTML, OpenAPI 3.0 and CRS by reference (Part 2)."""
    return await _respond(
        request, state, lambda: orjson.dumps({"conformsTo": CONFORMANCE}), JSON, f
    )


@router.get(
    "/api",
    response_class=Response,
    responses={200: {"description": "OK", "content": {OAS30: {}}}},
    summary="OpenAPI 3.0 definition of the OGC endpoints",
)
async def api_definition(request: Request, state: StateDep, f: F = None):
    """What GDAL and other clients read to learn the paging limits."""
    return await _respond(request, state, lambda: orjson.dumps(_openapi(request)), OAS30, None)


@router.get(
    "/collections",
    response_class=Response,
    responses=_JSON_OR_HTML,
    summary="The feature collections",
)
async def collections(request: Request, db: LazyConnDep, state: StateDep, f: F = None):
    """provinces and communes, each with its extent and supported CRSs."""

    def build() -> bytes:
        ext = tiles.extents(db.conn)
        return orjson.dumps(
            {
                "links": [{"rel": "self", "type": JSON, "href": _root(request) + "/collections"}],
                "collections": [
                    _collection_doc(request, cid, ext.get(m["level"], [-180, -90, 180, 90]))
                    for cid, m in COLLECTIONS.items()
                ],
            }
        )

    return await _respond(request, state, build, JSON, f)


@router.get(
    "/collections/{collectionId}",
    response_class=Response,
    responses=_JSON_OR_HTML,
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
    meta = _collection_or_404(collection_id)

    def build() -> bytes:
        ext = tiles.extents(db.conn).get(meta["level"], [-180, -90, 180, 90])
        return orjson.dumps(_collection_doc(request, collection_id, ext))

    return await _respond(request, state, build, JSON, f)


@router.get(
    "/collections/{collectionId}/queryables",
    response_class=Response,
    responses=_SCHEMA_OR_HTML,
    summary="Queryable properties",
)
async def queryables(
    request: Request,
    state: StateDep,
    collection_id: Annotated[str, Path(alias="collectionId")],
    f: F = None,
):
    """Properties usable as ``name=value`` filters on items (JSON Schema)."""
    meta = _collection_or_404(collection_id)
    names = [n for n in QUERYABLES if n != "province_code" or meta["level"] == "commune"]

    def build() -> bytes:
        return orjson.dumps(
            {
                "$schema": "https://json-schema.org/draft/2019-09/schema",
                "$id": f"{_root(request)}/collections/{collection_id}/queryables",
                "type": "object",
                "title": meta["title"],
                "properties": {
                    **{n: {"type": QUERYABLES[n][0], "title": QUERYABLES[n][1]} for n in names},
                    "geometry": {"$ref": "https://geojson.org/schema/MultiPolygon.json"},
                },
                "additionalProperties": False,
            }
        )

    return await _respond(request, state, build, SCHEMA, f)


@router.get(
    "/collections/{collectionId}/items",
    response_class=Response,
    responses=_GEO_OR_HTML,
    summary="Features of a collection",
)
async def items(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    collection_id: Annotated[str, Path(alias="collectionId")],
    limit: Annotated[
        int, Query(ge=1, description=f"page size (default {DEFAULT_ITEMS}, max {MAX_ITEMS})")
    ] = DEFAULT_ITEMS,
    offset: Annotated[int, Query(ge=0)] = 0,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (in bbox-crs)")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[str | None, Query(description="output CRS URI (see the collection)")] = None,
    datetime: Annotated[
        str | None, Query(description="accepted; units have no time dimension")
    ] = None,
    code: Annotated[str | None, Query(max_length=5)] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    province_code: Annotated[str | None, Query(max_length=2)] = None,
    geometry_quality: Annotated[str | None, Query(max_length=20)] = None,
    f: F = None,
):
    """GeoJSON FeatureCollection with numberMatched/numberReturned and next/prev links."""
    meta = _collection_or_404(collection_id)
    limit = min(limit, MAX_ITEMS)
    out_crs = _parse_crs(crs, "crs")
    box = _bbox_in_wgs84(bbox, bbox_crs)
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
    day = state.default_as_of()

    def build() -> bytes:
        conn = db.conn
        q = UnitQuery(
            level=meta["level"],
            as_of=day,
            limit=limit,
            offset=offset,
            bbox=box,
            filters=filters,
            fields=FULL[meta["level"]],
            crs=out_crs,
        )
        page = unit_page(conn, q)
        features = page.features
        if out_crs in _GEOGRAPHIC and crs is not None:
            features = _flip_axes(conn, page, q)
        links = page_links(
            request, offset, limit, page.number_returned, page.number_matched, GEOJSON
        )
        links.append(
            {
                "rel": "collection",
                "type": JSON,
                "href": f"{_root(request)}/collections/{collection_id}",
            }
        )
        return feature_collection(
            type(page)(features, page.number_matched, page.number_returned),
            timeStamp=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            links=links,
            data_as_of=state.reporting_date.isoformat() if state.reporting_date else None,
        )

    headers = {"Content-Crs": f"<{_crs_uri(out_crs, crs is None or crs == CRS84)}>"}
    if f == "html":
        return await _respond(request, state, build, GEOJSON, f)
    return await cached_response(request, state, build, GEOJSON, headers)


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    response_class=Response,
    responses={**_GEO_OR_HTML, 404: {"description": "unknown feature"}},
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
    meta = _collection_or_404(collection_id)
    out_crs = _parse_crs(crs, "crs")
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
        if out_crs in _GEOGRAPHIC and crs is not None:
            features = _flip_axes(conn, page, q)
        feature = orjson.loads(features)
        root = _root(request)
        feature["links"] = [
            {
                "rel": "self",
                "type": GEOJSON,
                "href": f"{root}/collections/{collection_id}/items/{feature_id}",
            },
            {"rel": "collection", "type": JSON, "href": f"{root}/collections/{collection_id}"},
        ]
        return orjson.dumps(feature)

    headers = {"Content-Crs": f"<{_crs_uri(out_crs, crs is None or crs == CRS84)}>"}
    if f == "html":
        return await _respond(request, state, build, GEOJSON, f)
    return await cached_response(request, state, build, GEOJSON, headers)


def _bbox_in_wgs84(raw: str | None, bbox_crs: str | None):
    """The bbox as lon/lat; a bbox given in another CRS is transformed (Part 2)."""
    epsg = _parse_crs(bbox_crs, "bbox-crs")
    if raw is None:
        return None
    if epsg == 4326 and (bbox_crs is None or bbox_crs == CRS84):
        return parse_bbox(raw)
    try:
        nums = [float(v) for v in raw.split(",")]
    except ValueError:
        raise BadParameter("bbox", "bbox must be 4 numbers") from None
    if len(nums) != 4 or nums[0] > nums[2] or nums[1] > nums[3]:
        raise BadParameter("bbox", "bbox needs 4 numbers with min ≤ max")
    if epsg in _GEOGRAPHIC:  # lat/lon order in EPSG geographic CRSs
        nums = [nums[1], nums[0], nums[3], nums[2]]
    from pyproj import Transformer

    t = Transformer.from_crs(epsg, 4326, always_xy=True)
    x0, y0, x1, y1 = t.transform_bounds(*nums)
    return parse_bbox(f"{x0},{y0},{x1},{y1}")


def _flip_axes(conn, page, q: UnitQuery) -> bytes:
    """Latitude-first coordinates for EPSG geographic CRSs (rebuilt with flipped geometry)."""
    flipped = orjson.loads(b"[" + page.features + b"]")
    for feat in flipped:
        if feat.get("geometry"):
            feat["geometry"]["coordinates"] = _swap(feat["geometry"]["coordinates"])
    return b",".join(orjson.dumps(x) for x in flipped)


def _swap(coords):
    if coords and isinstance(coords[0], (int, float)):
        return [coords[1], coords[0], *coords[2:]]
    return [_swap(c) for c in coords]


def _openapi(request: Request) -> dict:
    """A compact OpenAPI 3.0 document of the OGC endpoints."""
    root = _root(request)

    def param(name, schema, where="query", required=False, desc=""):
        return {
            "name": name,
            "in": where,
            "required": required,
            "schema": schema,
            "description": desc,
        }

    coll = param("collectionId", {"type": "string", "enum": list(COLLECTIONS)}, "path", True)
    ok_json = {"200": {"description": "OK", "content": {JSON: {}}}}
    ok_geo = {
        "200": {"description": "OK", "content": {GEOJSON: {}}},
        "400": {"description": "bad parameter"},
        "404": {"description": "not found"},
    }
    items_params = [
        coll,
        param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_ITEMS, "default": DEFAULT_ITEMS},
        ),
        param("offset", {"type": "integer", "minimum": 0, "default": 0}),
        param("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}),
        param("bbox-crs", {"type": "string", "format": "uri", "enum": CRS_LIST}),
        param("crs", {"type": "string", "format": "uri", "enum": CRS_LIST}),
        param("datetime", {"type": "string"}),
        *[param(n, {"type": "string"}) for n in QUERYABLES],
        param("f", {"type": "string", "enum": ["json", "geojson", "html"]}),
    ]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "iocmap — OGC API – Features",
            "version": "1.0.0",
            "description": "Provinces and communes of Vietnam with Resolution 57 progress.",
        },
        "servers": [{"url": root}],
        "paths": {
            "/": {"get": {"summary": "Landing page", "responses": ok_json}},
            "/conformance": {"get": {"summary": "Conformance", "responses": ok_json}},
            "/collections": {"get": {"summary": "Collections", "responses": ok_json}},
            "/collections/{collectionId}": {
                "get": {"summary": "Collection", "parameters": [coll], "responses": ok_json}
            },
            "/collections/{collectionId}/queryables": {
                "get": {"summary": "Queryables", "parameters": [coll], "responses": ok_json}
            },
            "/collections/{collectionId}/items": {
                "get": {"summary": "Features", "parameters": items_params, "responses": ok_geo}
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": {
                    "summary": "Feature",
                    "parameters": [
                        coll,
                        param("featureId", {"type": "string"}, "path", True),
                        param("crs", {"type": "string", "enum": CRS_LIST}),
                    ],
                    "responses": ok_geo,
                }
            },
        },
    }
