"""Vector tiles and extents: the MVT query and the bounding boxes of each level.

Why here: tiles are a read of the same units and figures as the GeoJSON layers; the
router only picks the zoom band and caches the bytes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from geo.read.progress import KH02_GROUPS

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

TILE_SQL = """
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


def tile_sql(layer: str) -> str:
    """The MVT query for a layer, its lean columns filled in from ``FIELDS``."""
    return TILE_SQL.format(groups=KH02_GROUPS, columns=", ".join(FIELDS[layer]))


def render_tile(
    conn: Connection,
    layer: str,
    level: str,
    z: int,
    x: int,
    y: int,
    band: str | None,
    as_of: dt.date,
) -> bytes:
    """One Mapbox vector tile (empty bytes when no unit touches it); ``band`` None =
    full-resolution geometry (zooms past the finest simplified level)."""
    row = conn.execute(
        text(tile_sql(layer)),
        {
            "z": z,
            "x": x,
            "y": y,
            "band": band,
            "level": level,
            "layer": layer,
            "as_of": as_of,
            "program": "NQ57" if level == "province" else "KH02",
        },
    ).scalar_one()
    return bytes(row or b"")


def extents(conn: Connection) -> dict[str, list[float]]:
    """level → [minlon, minlat, maxlon, maxlat] of its units (6 decimals)."""
    rows = conn.execute(
        text(
            "select level, ST_XMin(e) x0, ST_YMin(e) y0, ST_XMax(e) x1, ST_YMax(e) y1"
            " from (select level, ST_Extent(geom) e from admin_unit group by level) s"
        )
    ).all()
    return {r.level: [round(v, 6) for v in (r.x0, r.y0, r.x1, r.y1)] for r in rows}
