"""Mapbox vector tiles of the unit layers (ST_AsMVT), with TileJSON.

Why: a wall or a web map that pans and zooms over 3,321 communes wants tiles, not a
10 MB GeoJSON. Tiles are cut from the stored simplified levels (the coarsest one made for
the tile's zoom), carry the lean figures, and are cached per data version like every
other response; an empty tile is a 204.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import text

from api.deps import LazyConnDep, StateDep, cached_response_async
from api.errors import BadParameter
from api.routers._common import base_url, cache_key, meta
from geo.features import band_for_zoom
from geo.progress import KH02_GROUPS
from geo.simplify import DEFAULT_LEVELS

router = APIRouter(prefix="/tiles", tags=["vector tiles"])
MVT = "application/vnd.mapbox-vector-tile"
LAYERS = {"provinces": "province", "communes": "commune"}
MAX_ZOOM = 16
# Lean tile properties per layer (the styled figures; details come from /api/v1 on click).
FIELDS = {
    "provinces": {
        "code": "String",
        "name": "String",
        "tasks_total": "Number",
        "tasks_completed": "Number",
        "tasks_overdue": "Number",
        "completion_pct": "Number",
        "communes": "Number",
        "communes_all_groups_done": "Number",
    },
    "communes": {
        "code": "String",
        "name": "String",
        "province_code": "String",
        "tasks_total": "Number",
        "tasks_completed": "Number",
        "tasks_overdue": "Number",
        "completion_pct": "Number",
        "groups_done": "Number",
    },
}

_TILE_SQL = """
with env as (select ST_TileEnvelope(:z, :x, :y) as e3857,
                    ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.015625), 4326) as e4326),
units as (
  select u.code, u.name, u.parent_code, coalesce(l.geom, u.geom) as geom
  from admin_unit u
  cross join env
  left join unit_geometry_level l on l.unit_code = u.code and l.band = cast(:band as text)
  where u.level = :level and u.geom && env.e4326
),
counts as (
  select unit_code,
         count(*) as total,
         count(*) filter (where s in ('completed', 'completed_late')) as done,
         count(*) filter (where s = 'overdue') as overdue,
         count(distinct group_no) filter (where s in ('completed', 'completed_late')) as groups
  from (select unit_code, group_no,
               task_status(deadline, completed_at, cast(:as_of as date)) as s
        from task where unit_code in (select code from units) and program = :program) t
  group by unit_code
),
rollup as (
  select c.parent_code as code, count(*) as communes,
         count(*) filter (where k.groups >= {groups}) as all_done
  from admin_unit c
  left join (select unit_code, count(distinct group_no) filter
               (where task_status(deadline, completed_at, cast(:as_of as date))
                      in ('completed', 'completed_late')) as groups
             from task where program = 'KH02' and cast(:level as text) = 'province'
               and unit_code in (select code from admin_unit
                                 where parent_code in (select code from units))
             group by unit_code) k on k.unit_code = c.code
  where cast(:level as text) = 'province' and c.parent_code in (select code from units)
  group by c.parent_code
),
mvt as (
  select u.code, u.name, u.parent_code as province_code,
         coalesce(c.total, 0) as tasks_total, coalesce(c.done, 0) as tasks_completed,
         coalesce(c.overdue, 0) as tasks_overdue,
         case when coalesce(c.total, 0) = 0 then null
              else round(100.0 * c.done / c.total, 2)::float8 end as completion_pct,
         coalesce(c.groups, 0) as groups_done,
         coalesce(r.communes, 0) as communes, coalesce(r.all_done, 0) as communes_all_groups_done,
         ST_AsMVTGeom(ST_Transform(u.geom, 3857), env.e3857, 4096, 64, true) as geom
  from units u cross join env
  left join counts c on c.unit_code = u.code
  left join rollup r on r.code = u.code
)
select ST_AsMVT(t, :layer, 4096, 'geom') from (
  select {columns}, geom from mvt where geom is not null
) t
"""


def _tile_sql(layer: str) -> str:
    return _TILE_SQL.format(groups=KH02_GROUPS, columns=", ".join(FIELDS[layer]))


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
    level = _layer_or_404(layer)
    if x >= 2**z or y >= 2**z:
        raise BadParameter("x", f"tile {z}/{x}/{y} is outside the {2**z}×{2**z} grid at zoom {z}")
    band = band_for_zoom(z, list(DEFAULT_LEVELS))
    day = state.default_as_of()

    def build() -> bytes:
        row = db.conn.execute(
            text(_tile_sql(layer)),
            {
                "z": z,
                "x": x,
                "y": y,
                "band": band,
                "level": level,
                "layer": layer,
                "as_of": day,
                "program": "NQ57" if level == "province" else "KH02",
            },
        ).scalar_one()
        return bytes(row or b"")

    response = await cached_response_async(request, state, build, MVT, key=cache_key(request))
    if response.status_code == 200 and not response.body:
        response.status_code = 204
        del response.headers["content-length"]
    return response


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
        b = db.conn.execute(
            text(
                "select ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
                " from (select ST_Extent(geom) e from admin_unit where level = :l) s"
            ),
            {"l": level},
        ).one()
        bounds = [round(v, 6) for v in b]
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

    return await cached_response_async(request, state, build, key=cache_key(request))
