"""Mapbox vector tiles of the unit layers (ST_AsMVT), with TileJSON.

Why: a wall or a web map that pans and zooms over 3,321 communes wants tiles, not a
10 MB GeoJSON. Tiles are cut from the stored simplified levels (the coarsest one made for
the tile's zoom), carry the lean figures, and are cached per data version like every
other response; an empty tile is a 204.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import LazyConn, LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.params import base_url, meta
from geo.levels import DEFAULT_LEVELS
from geo.read import tiles
from geo.read.features import band_for_zoom
from geo.read.progress import DataState
from geo.read.tiles import FIELDS

router = APIRouter(prefix="/tiles", tags=["vector tiles"])
MVT = "application/vnd.mapbox-vector-tile"
LAYERS = {"provinces": "province", "communes": "commune"}
MAX_ZOOM = 16


def _layer_or_404(layer: str) -> str:
    if layer not in LAYERS:
        raise BadParameter("layer", f"unknown layer '{layer}'; available: {', '.join(LAYERS)}", 404)
    return LAYERS[layer]


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}},
    summary="One vector tile (Web Mercator, z/x/y)",
)
async def tile(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    layer: Annotated[str, Path(description="provinces | communes")],
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
):
    """Lean properties (code, name, figures); geometry from the simplified level for z."""
    return await tile_response(request, db, state, layer, z, x, y)


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
) -> Response:
    """One cached MVT of a layer: the /tiles route and OGC API – Tiles
    (``api/routers/ogc_tiles.py``) both answer through it; ``param`` names the
    out-of-grid parameter (``x`` here, ``tileRow`` there, where OGC asks for a 404)."""
    level = _layer_or_404(layer)
    if z > MAX_ZOOM:
        raise BadParameter("tileMatrix", f"zoom {z} is over the maximum of {MAX_ZOOM}", 404)
    if x >= 2**z or y >= 2**z:
        raise BadParameter(
            param, f"tile {z}/{x}/{y} is outside the {2**z}×{2**z} grid at zoom {z}", status
        )
    band = band_for_zoom(z, list(DEFAULT_LEVELS))
    day = state.default_as_of()

    def build() -> bytes:
        return tiles.render_tile(db.conn, layer, level, z, x, y, band, day)

    return await cached_response(request, state, build, MVT)  # an empty tile is a 204


@router.get("/{layer}/style.json", summary="A MapLibre style of a layer (the web map's classes)")
async def maplibre_style(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    layer: Annotated[str, Path(description="provinces | communes")],
    measure: Annotated[
        str, Query(description="completion_pct (default) | tasks_overdue | groups_done")
    ] = "completion_pct",
):
    """Source = this layer's TileJSON; the fill is classed and coloured as on iocmap's map
    (same method, breaks and palette); units without a value get the no-data colour."""
    level = _layer_or_404(layer)
    from maps.maplibre_style import measure_for, style

    chosen = measure_for(measure, level)
    if chosen is None:
        raise BadParameter("measure", f"unknown measure '{measure}' for {layer}")
    day = state.default_as_of()

    def build() -> bytes:
        doc = style(db.conn, layer, level, chosen, day, f"{base_url(request)}/tiles/{layer}.json")
        return orjson.dumps(doc)

    return await cached_response(request, state, build)


@router.get("/{layer}.json", summary="TileJSON 3.0 of a layer")
async def tilejson(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    layer: Annotated[str, Path(description="provinces | communes")],
):
    """Tile URL template, zoom range, bounds and the fields of the vector layer."""
    level = _layer_or_404(layer)

    def build() -> bytes:
        bounds = tiles.extents(db.conn).get(level, [-180.0, -90.0, 180.0, 90.0])
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
                    {"id": layer, "fields": FIELDS[layer], "minzoom": 0, "maxzoom": MAX_ZOOM}
                ],
                **meta(state),
            }
        )

    return await cached_response(request, state, build)
