"""A real-sized copy of the demo data for the benchmark: 3,321 communes, ≈450k vertices.

Why: the demo geometry is light (~9 vertices per commune); official boundaries have
~135. Performance targets only mean something on real-sized geometry, so the bench
database gets the demo coverage densified (shared edges split identically on both
sides) and bent by a smooth, deterministic displacement field (a small diffeomorphism:
the coverage stays valid, borders get realistic wiggles that simplification must work
on). Display levels are recomputed with geo.ingest.topology, figures come from the demo
generator, and everything is written through geo.ingest.store — the same path as the demo.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from geo.demo import figures as demo_figures
from geo.demo import loader as demo
from geo.ingest import store
from geo.ingest.topology import coverage_levels
from geo.levels import DEFAULT_LEVELS

TARGET_VERTICES = 450_000
AMPLITUDE = 0.0012  # degrees (~130 m)
WAVELENGTHS = (0.021, 0.013)  # degrees; amplitude × 2π/λ summed stays < 1 (no folds)
MARKER = f"iocmap bench v1: demo densified to ~{TARGET_VERTICES} vertices"


def _displace(xy: np.ndarray) -> np.ndarray:
    """A smooth displacement field, a function of position only (neighbours agree)."""
    x, y = xy[:, 0], xy[:, 1]
    dx = np.zeros_like(x)
    dy = np.zeros_like(y)
    for i, lam in enumerate(WAVELENGTHS):
        k = 2 * math.pi / lam
        a = AMPLITUDE / len(WAVELENGTHS)
        dx += a * np.sin(k * (0.8 * x + 0.6 * y) + 1.3 * i)
        dy += a * np.sin(k * (-0.6 * x + 0.8 * y) + 0.7 * i)
    return np.column_stack([x + dx, y + dy])


def _densify_ring(coords: np.ndarray, spacing: float) -> np.ndarray:
    """Split each segment into equal parts computed from its lexicographically smaller end,
    so the two polygons sharing an edge get bit-identical new vertices."""
    out = [coords[:1]]
    for a, b in zip(coords[:-1], coords[1:], strict=True):
        n = max(1, math.ceil(math.hypot(b[0] - a[0], b[1] - a[1]) / spacing))
        if n > 1:
            start, end, rev = (a, b, False) if tuple(a) <= tuple(b) else (b, a, True)
            t = np.arange(1, n)[:, None] / n
            pts = start + (end - start) * t
            out.append(pts[::-1] if rev else pts)
        out.append(b[None, :])
    return np.concatenate(out)


def _rebuild(geom, spacing: float):
    polys = []
    for poly in shapely.get_parts(geom):
        rings = [poly.exterior, *poly.interiors]
        new = [_displace(_densify_ring(np.asarray(r.coords), spacing)) for r in rings]
        polys.append(shapely.Polygon(new[0], new[1:]))
    return shapely.MultiPolygon(polys)


def densify(geoms: np.ndarray, target: int = TARGET_VERTICES) -> np.ndarray:
    """The coverage with about ``target`` vertices in total, still a valid coverage."""
    perimeter = float(shapely.length(shapely.boundary(geoms)).sum())
    spacing = perimeter / target
    out = np.array([_rebuild(g, spacing) for g in geoms], dtype=object)
    out = shapely.orient_polygons(out)
    if not shapely.coverage_is_valid(out):
        raise RuntimeError("densified coverage is not valid")
    return out


def _multi(geom) -> shapely.MultiPolygon:
    return geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])


def build_layers() -> dict[str, gpd.GeoDataFrame]:
    """Demo layers with densified communes, provinces dissolved from them, and levels."""
    base = demo.demo_layers()
    communes = base["communes"].copy()
    communes["geometry"] = densify(communes.geometry.values)
    groups = communes.province_code.values
    provinces = gpd.GeoDataFrame(
        {"province_code": sorted(set(groups))},
        geometry=[
            _multi(shapely.coverage_union_all(communes.geometry.values[groups == p]))
            for p in sorted(set(groups))
        ],
        crs=4326,
    )
    layers = {"communes": communes, "provinces": provinces}
    levels = coverage_levels(communes.geometry.values, DEFAULT_LEVELS)
    for band, geoms in levels.items():
        layers[f"communes_{band}"] = gpd.GeoDataFrame(
            {"code": communes.code.values}, geometry=list(geoms), crs=4326
        )
        layers[f"provinces_{band}"] = gpd.GeoDataFrame(
            {"code": provinces.province_code.values},
            geometry=[
                _multi(shapely.coverage_union_all(geoms[groups == p]))
                for p in provinces.province_code
            ],
            crs=4326,
        )
    return layers


def ensure_database(url: str) -> None:
    """Create the bench database if missing and migrate it."""
    from geo.migrate import upgrade

    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("select 1 from pg_database where datname = :n"), {"n": u.database}
        ).first():
            conn.execute(text(f'create database "{u.database}"'))
    admin.dispose()
    upgrade(url)


def is_loaded(engine: Engine) -> bool:
    with engine.connect() as conn:
        row = conn.execute(text("select source from data_state where id = 1")).first()
    return bool(row and row.source == MARKER)


def load(engine: Engine) -> dict[str, int]:
    """Replace the bench database's data with the real-sized set (one transaction)."""
    layers = build_layers()
    units, levels = demo.demo_units(layers)
    figures = demo_figures.generate(
        units[units.level == "commune"].rename(columns={"parent_code": "province_code"})
    )
    with engine.begin() as conn:
        store.clear_all(conn)
        n_units = store.insert_units(conn, units, levels)
        store.insert_tasks(conn, figures.tasks, actor="bench", source="iocmap bench")
        store.insert_indicators(conn, figures.indicators, figures.indicator_values)
        store.bump_version(conn, figures.reporting_date, MARKER)
        conn.execute(text("analyze"))
    return {"units": n_units}


TIPG_TABLE_SQL = """
drop schema if exists tipg cascade;
create schema tipg;
create table tipg.communes as
select u.code, u.name, u.kind, u.kind || ' ' || u.name as full_name,
       coalesce(c.total, 0)::int as tasks_total,
       (coalesce(c.completed, 0) + coalesce(c.completed_late, 0))::int as tasks_completed,
       coalesce(c.completed_late, 0)::int as tasks_completed_late,
       coalesce(c.on_time, 0)::int as tasks_on_time,
       coalesce(c.overdue, 0)::int as tasks_overdue,
       case when coalesce(c.total, 0) = 0 then null
            else round(100.0 * (c.completed + c.completed_late) / c.total, 2)::float8 end
         as completion_pct,
       u.geometry_quality, u.parent_code as province_code, p.name as province_name,
       coalesce(c.groups_done, 0)::int as groups_done, 16 as groups_total,
       u.geom
from admin_unit u
join admin_unit p on p.code = u.parent_code
left join ({counts}) c on c.unit_code = u.code
where u.level = 'commune';
alter table tipg.communes add primary key (code);
create index on tipg.communes using gist (geom);
create index on tipg.communes (province_code);
analyze tipg.communes;
"""


def make_tipg_table(engine: Engine, as_of: dt.date) -> None:
    """The same lean figures, precomputed into a plain table for tipg (its best case)."""
    from geo.read.progress import UNIT_COUNTS_SQL

    sql = TIPG_TABLE_SQL.format(counts=UNIT_COUNTS_SQL)
    with engine.begin() as conn:
        for stmt in filter(str.strip, sql.split(";")):
            conn.execute(text(stmt), {"as_of": as_of, "program": "KH02", "year": None})


def vertex_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("select sum(ST_NPoints(geom)) from admin_unit where level = 'commune'")
            ).scalar_one()
        )
