"""The documents of the OGC API – Features view and its CRS handling (Part 2).

Why apart from the routes (``api/routers/ogc.py``): these are the standard's fixed
content and rules — conformance classes, collection and queryables documents, the HTML
wrapper, the compact OpenAPI 3.0 document GDAL/QGIS read, CRS URIs, bbox-crs transforms
and latitude-first axis order. The routes only parse parameters, cache and respond.
"""

from __future__ import annotations

import html
from typing import Any

import orjson
from fastapi import Request

from api.errors import BadParameter
from api.params import GEOJSON, base_url, parse_bbox
from geo.crs_names import OUTPUT_CRS
from geo.read.features import Page

JSON = "application/json"
OAS30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
# Output CRSs: CRS84 (lon/lat) and every EPSG code of ``geo.crs.OUTPUT_CRS`` (the same list
# as /api/v1 and the downloads: WGS 84 lat/lon, VN-2000 geographic, UTM, TM-3 zones).
CRS_LIST = [CRS84, *(EPSG + str(code) for code in OUTPUT_CRS)]
GEOGRAPHIC = {4326, 4756}  # EPSG axis order: latitude first
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    # Part 3 (filtering) and CQL2: what geo.read.cql2 translates, nothing more
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    # Part 5 (schemas) and the sorting / property-selection extensions
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/properties",
    # OGC API – Tiles (vector tiles of both collections, WebMercatorQuad)
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
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


TITLES = {
    "tasks_total": "Số nhiệm vụ (tasks)",
    "tasks_completed": "Đã hoàn thành (completed, incl. late)",
    "tasks_completed_late": "Hoàn thành trễ hạn (completed late)",
    "tasks_on_time": "Đang thực hiện, trong hạn (on time)",
    "tasks_overdue": "Quá hạn (overdue)",
    "completion_pct": "Tỷ lệ hoàn thành % (completion)",
    "population": "Dân số (population)",
    "area_km2": "Diện tích km² (area)",
    "groups_done": "Nhóm nhiệm vụ KH02 đã xong (task groups done)",
    "communes": "Số xã (communes)",
    "valid_from": "Hiệu lực từ (valid from)",
}


def property_schemas(level: str, indicator_codes: list[str], period: str | None) -> dict:
    """JSON Schema of every served property (queryables and the Part 5 schema)."""
    from geo.read.features import property_names, property_sql

    out: dict[str, dict] = {}
    for name in property_names(level, indicator_codes):
        found = property_sql(name, level, indicator_codes)
        if found is None:
            continue
        kind = found[1]
        schema: dict[str, Any] = (
            {"type": "string", "format": "date"} if kind == "date" else {"type": kind}
        )
        title = TITLES.get(name) or QUERYABLES.get(name, (None, None))[1]
        if name in indicator_codes:
            title = f"Chỉ số {name} ({period or 'latest period'})"
        elif name.endswith("_rank") and name[:-5] in indicator_codes:
            title = f"Thứ hạng {name[:-5]} (rank, {period or 'latest period'})"
        if title:
            schema["title"] = title
        out[name] = schema
    return out


def root_url(request: Request) -> str:
    """Absolute URL of the OGC landing page as the client reached us."""
    return base_url(request) + "/ogc"


def html_page(doc: dict) -> bytes:
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


def collection_or_404(collection_id: str) -> dict:
    if collection_id not in COLLECTIONS:
        raise BadParameter(
            "collectionId",
            f"unknown collection '{collection_id}'; available: {', '.join(COLLECTIONS)}",
            404,
        )
    return COLLECTIONS[collection_id]


def parse_crs(raw: str | None, param: str) -> int:
    """EPSG code of a CRS URI from ``CRS_LIST`` (CRS84 → 4326 with lon/lat order)."""
    if raw is None or raw == CRS84:
        return 4326
    if raw.startswith("[") and raw.endswith("]"):  # safe-CURIE form [EPSG:3405]
        raw = raw[1:-1]
    code = raw.removeprefix(EPSG).removeprefix("EPSG:")
    if raw in CRS_LIST or (code.isdigit() and EPSG + code in CRS_LIST):
        return int(code)
    raise BadParameter(param, f"unsupported {param} '{raw}'; supported: {', '.join(CRS_LIST)}")


def crs_uri(epsg: int, lonlat: bool) -> str:
    return CRS84 if epsg == 4326 and lonlat else EPSG + str(epsg)


def collection_doc(request: Request, cid: str, extent: list[float]) -> dict:
    meta = COLLECTIONS[cid]
    root = root_url(request)
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
            {  # the draft's rel and plain JSON: what GDAL ≤ 3.6 follows to filter server-side
                "rel": "queryables",
                "type": JSON,
                "title": "Queryables (application/json)",
                "href": f"{root}/collections/{cid}/queryables?f=json",
            },
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/schema",
                "type": SCHEMA,
                "title": "Schema of the features",
                "href": f"{root}/collections/{cid}/schema",
            },
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                "type": JSON,
                "title": "Vector tiles",
                "href": f"{root}/collections/{cid}/tiles",
            },
            {
                "rel": "license",
                "type": "text/html",
                "title": LICENCE,
                "href": "https://creativecommons.org/licenses/by/4.0/",
            },
        ],
    }


def bbox_in_wgs84(
    raw: str | None, bbox_crs: str | None
) -> tuple[float, float, float, float] | None:
    """The bbox as lon/lat; a bbox given in another CRS is transformed (Part 2)."""
    epsg = parse_crs(bbox_crs, "bbox-crs")
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
    if epsg in GEOGRAPHIC:  # lat/lon order in EPSG geographic CRSs
        nums = [nums[1], nums[0], nums[3], nums[2]]
    from pyproj import Transformer

    t = Transformer.from_crs(epsg, 4326, always_xy=True)
    x0, y0, x1, y1 = t.transform_bounds(nums[0], nums[1], nums[2], nums[3])
    return parse_bbox(f"{x0},{y0},{x1},{y1}")


def flip_axes(page: Page) -> bytes:
    """Latitude-first coordinates for EPSG geographic CRSs (rebuilt with flipped geometry)."""
    flipped = orjson.loads(b"[" + page.features + b"]")
    for feat in flipped:
        if feat.get("geometry"):
            feat["geometry"]["coordinates"] = swap_axes(feat["geometry"]["coordinates"])
    return b",".join(orjson.dumps(x) for x in flipped)


def swap_axes(coords: Any) -> Any:
    if coords and isinstance(coords[0], (int, float)):
        return [coords[1], coords[0], *coords[2:]]
    return [swap_axes(c) for c in coords]


def openapi_doc(request: Request) -> dict:
    """A compact OpenAPI 3.0 document of the OGC endpoints."""
    root = root_url(request)

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
        param("filter", {"type": "string"}, desc="CQL2 filter (see the queryables)"),
        param(
            "filter-lang",
            {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"]},
            desc="cql-text: the CQL2 text as GDAL < 3.7 names it",
        ),
        param("filter-crs", {"type": "string", "format": "uri", "enum": CRS_LIST}),
        param("sortby", {"type": "string"}, desc="+prop,-prop"),
        param("properties", {"type": "string"}, desc="comma-separated property names"),
        param("as_of", {"type": "string", "format": "date"}),
        param("year", {"type": "integer"}),
        param("period", {"type": "string"}),
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
