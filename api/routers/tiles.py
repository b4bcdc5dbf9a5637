"""Mapbox vector tiles of the unit layers (ST_AsMVT), with TileJSON.

Why: a wall or a web map that pans and zooms over 3,321 communes wants tiles, not a
10 MB GeoJSON. Tiles are cut from the stored simplified levels (the coarsest one made for
the tile's zoom), carry the figures a style classes on plus the indicator values and
ranks of the latest period, and take ``filter`` (CQL2, as the OGC items) and
``properties`` (as the items; ``code`` always stays). They are cached per data version
and query like every other response; an empty tile is a 204.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.params import base_url
from api.tile_serving import (
    MAX_ZOOM,
    MVT,
    TileFilter,
    TileFilterLang,
    TileProperties,
    layer_or_404,
    tile_response,
    tilejson_response,
)

router = APIRouter(prefix="/tiles", tags=["vector tiles"])


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
    filter_: TileFilter = None,
    filter_lang: TileFilterLang = None,
    properties: TileProperties = None,
):
    """Lean figures (code, name, task counts, completion) and the indicator values and
    ranks of the latest period; geometry from the simplified level for z. ``filter``
    keeps the units matching a CQL2 filter, ``properties`` narrows the attributes."""
    return await tile_response(
        request, db, state, layer, z, x, y, filter_=filter_, filter_lang=filter_lang,
        properties=properties,
    )  # fmt: skip


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
    level = layer_or_404(layer)
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
    return await tilejson_response(request, db, state, layer)
