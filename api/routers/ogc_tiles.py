"""OGC API – Tiles at /ogc: the WebMercatorQuad tile matrix set, each collection's vector
tileset and its tiles, for clients that discover tiles the OGC way (QGIS, GDAL's OGCAPI
driver) instead of TileJSON.

Why a thin layer: the tiles are the ones /tiles serves — same query, same per-version
response cache, same bytes (``api.routers.tiles.tile_response``); only the URL template
(``{tileMatrix}/{tileRow}/{tileCol}``: zoom, then y, then x) and the metadata documents are
OGC's. The tile matrix set document comes from ``morecantile`` (the TMS library titiler and
tipg use) rather than hand-typed scale denominators.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.ogc_docs import COLLECTIONS, CRS84, JSON, collection_or_404, root_url
from api.params import base_url
from api.tile_serving import (
    MAX_ZOOM,
    MVT,
    TileFilter,
    TileFilterLang,
    TileProperties,
    tile_response,
    tilejson_response,
)
from geo.read import tiles
from geo.read.features import indicator_codes
from geo.read.tiles import FIELDS, tile_fields

router = APIRouter(prefix="/ogc", tags=["OGC API – Tiles"])
TMS_ID = "WebMercatorQuad"


@cache
def web_mercator():
    """The WebMercatorQuad TileMatrixSet (morecantile, which loads PROJ: on first use)."""
    import morecantile

    return morecantile.tms.get(TMS_ID)


TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"
CollectionId = Annotated[str, Path(alias="collectionId", description="provinces | communes")]


def _tms_or_404(tms: str) -> None:
    if tms != TMS_ID:
        raise BadParameter("tileMatrixSetId", f"unknown tile matrix set '{tms}'; use {TMS_ID}", 404)


@router.get("/tileMatrixSets", summary="Tile matrix sets")
async def tile_matrix_sets(request: Request, state: StateDep):
    """The one tiling scheme served: WebMercatorQuad."""
    href = f"{root_url(request)}/tileMatrixSets/{TMS_ID}"

    def build() -> bytes:
        return orjson.dumps(
            {
                "tileMatrixSets": [
                    {
                        "id": TMS_ID,
                        "title": web_mercator().title,
                        "uri": web_mercator().uri,
                        "links": [{"rel": "self", "type": JSON, "href": href}],
                    }
                ]
            }
        )

    return await cached_response(request, state, build)


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="One tile matrix set (TMS 2.0 JSON)")
async def tile_matrix_set(
    request: Request,
    state: StateDep,
    tms: Annotated[str, Path(alias="tileMatrixSetId")],
):
    """The TileMatrixSet 2.0 definition (scales, origin, matrix sizes per zoom)."""
    _tms_or_404(tms)

    def build() -> bytes:
        return orjson.dumps(web_mercator().model_dump(exclude_none=True, mode="json"))

    return await cached_response(request, state, build)


def _tileset_links(request: Request, cid: str) -> list[dict[str, Any]]:
    root = root_url(request)
    return [
        {"rel": "self", "type": JSON, "href": f"{root}/collections/{cid}/tiles/{TMS_ID}"},
        {"rel": TILING_SCHEME, "type": JSON, "href": f"{root}/tileMatrixSets/{TMS_ID}"},
        {
            "rel": "item",
            "type": MVT,
            "templated": True,
            "title": "Mapbox vector tile",
            "href": f"{root}/collections/{cid}/tiles/{TMS_ID}/{TEMPLATE}",
        },
        {
            "rel": "describedby",
            "type": "application/json",
            "title": "TileJSON",
            "href": f"{root}/collections/{cid}/tiles/{TMS_ID}/tilejson.json",
        },
        {
            "rel": "stylesheet",
            "type": "application/vnd.mapbox.style+json",
            "title": "MapLibre style (the web map's classes and colours)",
            "href": f"{base_url(request)}/tiles/{cid}/style.json",
        },
    ]


@router.get("/collections/{collectionId}/tiles", summary="Vector tilesets of a collection")
async def tilesets(request: Request, state: StateDep, collection_id: CollectionId):
    """The collection's tilesets (one: vector, WebMercatorQuad)."""
    collection_or_404(collection_id)

    def build() -> bytes:
        return orjson.dumps(
            {
                "tilesets": [
                    {
                        "title": COLLECTIONS[collection_id]["title"],
                        "dataType": "vector",
                        "crs": web_mercator().crs.srs,
                        "tileMatrixSetURI": web_mercator().uri,
                        "links": _tileset_links(request, collection_id),
                    }
                ],
                "links": [
                    {
                        "rel": "self",
                        "type": JSON,
                        "href": f"{root_url(request)}/collections/{collection_id}/tiles",
                    }
                ],
            }
        )

    return await cached_response(request, state, build)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    summary="Tileset metadata (OGC API – Tiles)",
)
async def tileset(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    collection_id: CollectionId,
    tms: Annotated[str, Path(alias="tileMatrixSetId")],
):
    """Tile matrix limits of the collection's extent per zoom, the vector layer and its
    fields, and the tile URL template."""
    meta = collection_or_404(collection_id)
    _tms_or_404(tms)

    def build() -> bytes:
        conn = db.conn
        x0, y0, x1, y1 = tiles.extents(conn).get(meta["level"], [-180.0, -85.0, 180.0, 85.0])
        limits = []
        for z in range(MAX_ZOOM + 1):
            ul, lr = web_mercator().tile(x0, y1, z), web_mercator().tile(x1, y0, z)
            limits.append(
                {"tileMatrix": str(z), "minTileRow": ul.y, "maxTileRow": lr.y,
                 "minTileCol": ul.x, "maxTileCol": lr.x}
            )  # fmt: skip
        fields = {
            name: {"type": "string" if kind == "String" else "number"}
            for name, kind in tile_fields(
                collection_id, tuple(FIELDS[collection_id]), indicator_codes(conn, meta["level"])
            ).items()
        }
        return orjson.dumps(
            {
                "title": meta["title"],
                "dataType": "vector",
                "crs": web_mercator().crs.srs,
                "tileMatrixSetURI": web_mercator().uri,
                "boundingBox": {"lowerLeft": [x0, y0], "upperRight": [x1, y1], "crs": CRS84},
                "tileMatrixSetLimits": limits,
                "layers": [
                    {
                        "id": collection_id,
                        "dataType": "vector",
                        "geometryDimension": 2,
                        "minTileMatrix": "0",
                        "maxTileMatrix": str(MAX_ZOOM),
                        "propertiesSchema": {"type": "object", "properties": fields},
                    }
                ],
                "links": _tileset_links(request, collection_id),
            }
        )

    return await cached_response(request, state, build)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json",
    summary="TileJSON 3.0 of a collection's vector tiles",
)
async def ogc_tilejson(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    collection_id: CollectionId,
    tms: Annotated[str, Path(alias="tileMatrixSetId")],
):
    """The same document as ``/tiles/{collectionId}.json`` (MapLibre, QGIS read it)."""
    collection_or_404(collection_id)
    _tms_or_404(tms)
    return await tilejson_response(request, db, state, collection_id)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}},
    summary="One vector tile (OGC API – Tiles: zoom / row (y) / column (x))",
)
async def ogc_tile(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    collection_id: CollectionId,
    tms: Annotated[str, Path(alias="tileMatrixSetId")],
    tile_matrix: Annotated[int, Path(alias="tileMatrix", ge=0)],
    tile_row: Annotated[int, Path(alias="tileRow", ge=0)],
    tile_col: Annotated[int, Path(alias="tileCol", ge=0)],
    filter_: TileFilter = None,
    filter_lang: TileFilterLang = None,
    properties: TileProperties = None,
):
    """The same bytes as ``/tiles/{collectionId}/{tileMatrix}/{tileCol}/{tileRow}.mvt``
    (``filter`` and ``properties`` as there)."""
    collection_or_404(collection_id)
    _tms_or_404(tms)
    return await tile_response(
        request, db, state, collection_id, tile_matrix, tile_col, tile_row, "tileRow", 404,
        filter_=filter_, filter_lang=filter_lang, properties=properties,
    )  # fmt: skip
