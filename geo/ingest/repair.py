"""Make every feature's geometry a valid MultiPolygon, or reject that one feature with why.

Why a chain: GEOS's repair can itself fail on real rings — on one real province
``make_valid(method="structure")`` raises ``TopologyException: side location conflict``. An
import must never die of one feature, so each invalid geometry tries, in order:

1. ``shapely.make_valid(method="structure")`` — shells bound area, holes remove it (what a
   digitiser meant for a ring that touches itself);
2. ``shapely.make_valid(method="linework")`` — GEOS's classic repair (keeps every enclosed
   area, different noding, does not raise where 1 does);
3. snap-rounding to a 1 mm grid (``shapely.set_precision``), then 1 and 2 again — removes
   the nearly coincident segments that make the overlay fail;
4. PostGIS ``ST_MakeValid`` (another GEOS build, another chance);
5. reject the feature, naming the reason of every step.

Only polygonal parts are kept; a result without area is a rejection too.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from sqlalchemy import Engine, text

from geo.ingest.parallel import INLINE, Workers, split
from geo.ingest.topology import as_multipolygon

SNAP_GRID = 1e-8  # degrees ≈ 1 mm: far below any surveyed detail
Step = Callable[[shapely.Geometry], shapely.Geometry]


def _structure(g: shapely.Geometry) -> shapely.Geometry:
    return shapely.make_valid(g, method="structure", keep_collapsed=False)


def _linework(g: shapely.Geometry) -> shapely.Geometry:
    return shapely.make_valid(g, method="linework")


def _snapped(g: shapely.Geometry) -> shapely.Geometry:
    snapped = shapely.set_precision(g, SNAP_GRID, mode="pointwise")
    try:
        return _structure(snapped)
    except shapely.errors.GEOSException:
        return _linework(snapped)


STEPS: tuple[tuple[str, Step], ...] = (
    ("make_valid structure", _structure),
    ("make_valid linework", _linework),
    ("snap to 1 mm + make_valid", _snapped),
)


def _usable(g: shapely.Geometry | None) -> shapely.MultiPolygon | None:
    """The polygonal parts when they are valid and have area, else None."""
    if g is None:
        return None
    mp = as_multipolygon(g)
    if mp.is_empty or mp.area <= 0 or not mp.is_valid:
        return None
    return mp


def repair_one(g: shapely.Geometry) -> tuple[shapely.MultiPolygon | None, str, list[str]]:
    """(fixed geometry or None, the step that worked, why the others failed)."""
    failures: list[str] = []
    for label, step in STEPS:
        try:
            fixed = _usable(step(g))
        except (shapely.errors.GEOSException, ValueError) as exc:
            failures.append(f"{label}: {str(exc).splitlines()[0][:120]}")
            continue
        if fixed is not None:
            return fixed, label, failures
        failures.append(f"{label}: no area left")
    return None, "", failures


def postgis_make_valid(engine: Engine | None, g: shapely.Geometry) -> shapely.Geometry | None:
    """PostGIS's ``ST_MakeValid`` of one geometry (None when it fails or no engine)."""
    if engine is None:
        return None
    try:
        with engine.connect() as conn:
            wkb = conn.execute(
                text(
                    "select ST_AsBinary(ST_CollectionExtract(ST_MakeValid("
                    "ST_GeomFromWKB(:g, 4326)), 3))"
                ),
                {"g": shapely.to_wkb(g)},
            ).scalar()
    except Exception:  # any database refusal is just one failed step of the chain
        return None
    return shapely.from_wkb(bytes(wkb)) if wkb is not None else None


def _repair_many(geoms: np.ndarray) -> tuple[np.ndarray, list[str], list[list[str]]]:
    """``repair_one`` of each geometry (a share of the work, maybe in a helper process)."""
    done = [repair_one(g) for g in geoms]
    fixed = np.empty(len(done), dtype=object)
    fixed[:] = [f for f, _, _ in done]
    return fixed, [h for _, h, _ in done], [f for _, _, f in done]


def repair(
    geoms: np.ndarray, engine: Engine | None = None, workers: Workers = INLINE
) -> tuple[np.ndarray, int, list[str | None], list[str]]:
    """Valid MultiPolygons with RFC 7946 rings.

    Returns (geometries, how many were repaired, a rejection reason per geometry or None,
    notes on which fallback repaired what)."""
    out = np.empty(len(geoms), dtype=object)
    problems: list[str | None] = [None] * len(geoms)
    notes: list[str] = []
    repaired = 0
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(np.where(missing, shapely.Point(), geoms))
    valid = np.zeros(len(geoms), dtype=bool)
    valid[~empty] = shapely.is_valid(geoms[~empty])
    fallbacks: dict[str, int] = {}
    types = np.full(len(geoms), -1)
    types[~empty] = shapely.get_type_id(geoms[~empty])
    polygonal = np.isin(types, (3, 6, 7))
    todo = np.flatnonzero(~empty & ~valid & polygonal)
    chained: dict[int, tuple] = {}
    if len(todo):
        shares = workers.map(
            _repair_many, [(geoms[todo[b]],) for b in split(len(todo), workers.shares)]
        )
        results = [r for f, h, why in shares for r in zip(f, h, why, strict=True)]
        chained = dict(zip(todo.tolist(), results, strict=True))
    for i, g in enumerate(geoms):
        out[i] = shapely.MultiPolygon()
        if empty[i]:
            problems[i] = "empty geometry (dropped)"
            continue
        if g.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            problems[i] = f"{g.geom_type} is not a polygon (dropped)"
            continue
        if valid[i]:
            mp = as_multipolygon(g)
            repaired += g.geom_type == "GeometryCollection" and len(mp.geoms) != len(g.geoms)
            if mp.is_empty or mp.area <= 0:
                problems[i] = "geometry has no area (dropped)"
            out[i] = mp
            continue
        fixed, how, failures = chained[i]
        if fixed is None:
            fixed = _usable(postgis_make_valid(engine, g))
            how = "PostGIS ST_MakeValid" if fixed is not None else ""
            if fixed is None:
                failures.append("PostGIS ST_MakeValid: failed or no area left")
        if fixed is None:
            problems[i] = "invalid geometry that no repair could fix: " + "; ".join(failures)
            continue
        repaired += 1
        if how != STEPS[0][0]:
            fallbacks[how] = fallbacks.get(how, 0) + 1
        out[i] = fixed
    for how, n in fallbacks.items():
        notes.append(f"{n} geometr{'y' if n == 1 else 'ies'} repaired by the fallback '{how}'")
    return shapely.orient_polygons(out, exterior_cw=False), repaired, problems, notes
