"""Serving vector tiles: the layers, the tile and TileJSON responses and their query
parameters, shared by ``/tiles`` (``api/routers/tiles.py``) and OGC API – Tiles
(``api/routers/ogc_tiles.py``).

Why outside ``api/routers``: both routers answer through it, and routers do not import
each other.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Query, Request, Response

from api.deps import LazyConn, cached_response
from api.errors import BadParameter
from api.ogc_query import FILTER_LANGS, unit_filter
from api.params import FILTER_MAX_CHARS, base_url, meta, parse_list
from geo.levels import DEFAULT_LEVELS
from geo.read import tiles
from geo.read.features import band_for_zoom, indicator_codes, latest_period, split_fields
from geo.read.progress import DataState
from geo.read.tiles import FIELDS, NOT_IN_TILES, TileQuery, tile_fields

MVT = "application/vnd.mapbox-vector-tile"
LAYERS = {"provinces": "province", "communes": "commune"}
MAX_ZOOM = 16
TileFilter = Annotated[
    str | None,
    Query(
        alias="filter",
        max_length=FILTER_MAX_CHARS,
        description="CQL2 filter, as on the OGC items (see /ogc/collections/{id}/queryables)",
    ),
]
TileFilterLang = Annotated[
    str | None,
    Query(alias="filter-lang", description=f"{' | '.join(FILTER_LANGS[:2])} (default text)"),
]
TileProperties = Annotated[
    str | None,
    Query(
        max_length=4000,
        description="comma-separated properties to carry (any queryable but"
        " source_attributes; code always stays); default: the lean figures and every"
        " indicator value and rank of the latest period",
    ),
]


def layer_or_404(layer: str) -> str:
    if layer not in LAYERS:
        raise BadParameter("layer", f"unknown layer '{layer}'; available: {', '.join(LAYERS)}", 404)
    return LAYERS[layer]


def tile_properties(
    level: str, layer: str, properties: str | None, codes: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(fixed properties, indicator codes) a tile carries; unknown names are a 400."""
    if properties is None:
        return tuple(FIELDS[layer]), tuple(codes)
    names = parse_list(properties) or ()
    if not names:
        raise BadParameter("properties", "properties is empty")
    fixed, inds, unknown = split_fields(level, names, codes)
    unknown += [n for n in fixed if n in NOT_IN_TILES]
    if unknown:
        raise BadParameter("properties", f"unknown or not in tiles: {', '.join(unknown)}")
    return ("code", *(n for n in fixed if n != "code")), inds


async def tile_response(
    request: Request,
    db: LazyConn,
    state: DataState,
    layer: str,
    z: int,
    x: int,
    y: int,
    param: str = "x",
    status: int = 400,
    *,
    filter_: str | None = None,
    filter_lang: str | None = None,
    properties: str | None = None,
) -> Response:
    """One cached MVT of a layer: the /tiles route and OGC API – Tiles
    (``api/routers/ogc_tiles.py``) both answer through it; ``param`` names the
    out-of-grid parameter (``x`` here, ``tileRow`` there, where OGC asks for a 404)."""
    level = layer_or_404(layer)
    if z > MAX_ZOOM:
        raise BadParameter("tileMatrix", f"zoom {z} is over the maximum of {MAX_ZOOM}", 404)
    if x >= 2**z or y >= 2**z:
        raise BadParameter(
            param, f"tile {z}/{x}/{y} is outside the {2**z}×{2**z} grid at zoom {z}", status
        )
    band = band_for_zoom(z, list(DEFAULT_LEVELS))
    day = state.default_as_of()

    def build() -> bytes:
        conn = db.conn
        codes = indicator_codes(conn, level)
        where = unit_filter(filter_, filter_lang, level, codes)
        fixed, inds = tile_properties(level, layer, properties, codes)
        period = latest_period(conn, level) if inds or (where and where.indicators) else None
        q = TileQuery(layer, level, z, x, y, band, day, fixed, inds, period, where)
        return tiles.render_tile(conn, q)

    return await cached_response(request, state, build, MVT)  # an empty tile is a 204


async def tilejson_response(request: Request, db: LazyConn, state: DataState, layer: str):
    """Tile URL template, zoom range, bounds and the fields of the vector layer."""
    level = layer_or_404(layer)

    def build() -> bytes:
        conn = db.conn
        bounds = tiles.extents(conn).get(level, [-180.0, -90.0, 180.0, 90.0])
        fields = tile_fields(layer, tuple(FIELDS[layer]), indicator_codes(conn, level))
        return orjson.dumps(
            {
                "tilejson": "3.0.0",
                "name": layer,
                "version": str(state.version),
                "scheme": "xyz",
                "tiles": [f"{base_url(request)}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"],
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
                "bounds": bounds,
                "center": [round((bounds[0] + bounds[2]) / 2, 4), 16.0, 5],
                "attribution": "iocmap — Nghị quyết 57",
                "vector_layers": [
                    {"id": layer, "fields": fields, "minzoom": 0, "maxzoom": MAX_ZOOM}
                ],
                **meta(state),
            }
        )

    return await cached_response(request, state, build)
