"""Vector tiles and extents: the MVT query and the bounding boxes of each level.

Why here: tiles are a read of the same units and figures as the GeoJSON layers; the
router only picks the zoom band and caches the bytes. The tile's properties are the
expressions of ``geo.read.features.PROPERTIES`` over the same joins (``c`` counts, ``r``
rollup, ``p`` parent, ``iv`` indicator values), so a tile carries exactly the values the
items and the web map show, and a CQL2 ``filter`` compiled for the items
(``geo.read.cql2``) applies to a tile unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.read.features import (
    _GROUP,
    PROPERTIES,
    PROPERTY_TYPES,
    UnitFilter,
    _ivals_sql,
    _rollup_sql,
)
from geo.read.progress import unit_counts_sql

# The default tile properties per layer (the figures a style classes on; details come
# from /api/v1 on click), before the indicator values and ranks of the latest period.
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
NOT_IN_TILES = frozenset({"source_attributes"})  # an object: not an MVT value


def tile_fields(layer: str, fixed: Sequence[str], indicators: Sequence[str]) -> dict[str, str]:
    """TileJSON ``fields`` (name → String | Number) of the given tile properties."""
    out = {n: "Number" if PROPERTY_TYPES[n] in ("integer", "number") else "String" for n in fixed}
    for code in indicators:
        out[code] = "Number"
        out[f"{code}_rank"] = "Number"
    return out


@dataclass(frozen=True)
class TileQuery:
    """One tile of a layer: which cell, which geometry band, which properties and filter."""

    layer: str
    level: str  # province | commune
    z: int
    x: int
    y: int
    band: str | None  # simplified level; None = full resolution
    as_of: dt.date
    fields: tuple[str, ...]  # fixed properties (names of PROPERTIES)
    indicators: tuple[str, ...] = ()  # indicator codes: <code> and <code>_rank
    period: str | None = None  # of the indicator values
    where: UnitFilter | None = None  # a compiled CQL2 filter


def tile_sql(q: TileQuery, params: dict) -> str:
    """The MVT statement of a tile query; indicator codes go into ``params``."""
    cols = []
    for name in q.fields:
        expr = PROPERTIES[name][0]
        if PROPERTY_TYPES[name] == "date":
            expr = f"cast({expr} as text)"
        cols.append(f'{expr} as "{name}"')
    for i, code in enumerate(q.indicators):
        params[f"ind{i}"] = code
        cols.append(f'(iv.v -> cast(:ind{i} as text) ->> 0)::float8 as "{code}"')
        cols.append(f'(iv.v -> cast(:ind{i} as text) ->> 1)::int as "{code}_rank"')
    # the joins the chosen properties and the filter read (aliases of PROPERTIES)
    needs = set(q.where.groups) if q.where is not None else set()
    for name in q.fields:
        needs |= set(_GROUP.findall(PROPERTIES[name][0]))
    if q.indicators:
        needs.add("iv")
    restrict = "select code from units"
    ctes, joins = [], []
    if "c" in needs:
        ctes.append(f"counts as ({unit_counts_sql(restrict)})")
        joins.append("left join counts c on c.unit_code = u.code")
    if "iv" in needs:
        ctes.append(f"ivals as ({_ivals_sql(restrict)})")
        joins.append("left join ivals iv on iv.unit_code = u.code")
    if "r" in needs and q.level == "province":
        ctes.append(f"rollup as ({_rollup_sql(restrict)})")
        joins.append("left join rollup r on r.province_code = u.code")
    if "p" in needs:
        joins.append("left join admin_unit p on p.code = u.parent_code")
    where = "true"
    if q.where is not None:
        where = f"coalesce({q.where.sql}, false)"
        params.update(q.where.params)
    return f"""
with env as (select ST_TileEnvelope(:z, :x, :y) as e3857,
                    ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.015625), 4326) as e4326),
units as (
  select u.code from admin_unit u cross join env
  where u.level = :level and u.geom && env.e4326
),
{"".join(c + ", " for c in ctes)}mvt as (
  select {", ".join(cols)},
         ST_AsMVTGeom(ST_Transform(coalesce(l.geom, u.geom), 3857), env.e3857, 4096, 64, true)
           as geom
  from units s
  join admin_unit u on u.code = s.code
  cross join env
  {" ".join(joins)}
  left join unit_geometry_level l on l.unit_code = u.code and l.band = cast(:band as text)
  where {where}
)
select ST_AsMVT(t, :layer, 4096, 'geom') from (select * from mvt where geom is not null) t
"""


def render_tile(conn: Connection, q: TileQuery) -> bytes:
    """One Mapbox vector tile (empty bytes when no unit touches it)."""
    params = {
        "z": q.z,
        "x": q.x,
        "y": q.y,
        "band": q.band,
        "level": q.level,
        "layer": q.layer,
        "as_of": q.as_of,
        "program": "NQ57" if q.level == "province" else "KH02",
        "year": None,
        "period": q.period,
    }
    row = conn.execute(text(tile_sql(q, params)), params).scalar_one()
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
