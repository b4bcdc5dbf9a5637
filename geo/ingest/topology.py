"""Topology-preserving display levels for polygon layers (communes, provinces).

Why: simplifying each polygon on its own (``ST_Simplify``/``shapely.simplify`` per feature)
moves a shared border differently on its two sides, which opens gaps and slivers between
neighbours on the map. Coverage simplification (``shapely.coverage_simplify``, GEOS >= 3.12;
our PostGIS lacks ``ST_CoverageSimplify``) simplifies every shared edge once, so neighbours keep
identical borders at every level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.ingest.parallel import INLINE, Workers

GRID = 1e-6  # degrees (≈ 0.11 m): stored geometry and its display levels are on this grid
SLIVER_M2 = 1.0  # holes and parts smaller than this are dropped from display levels
M_PER_DEG = 111_320.0
# Tolerances in degrees (EPSG:4326), keyed by the web-map zoom they are meant for. Roughly the
# side of the smallest triangle Visvalingam-Whyatt may drop: ~1.1 km, ~220 m, ~22 m.


def coverage_levels(
    geoms: Sequence[BaseGeometry] | np.ndarray,
    tolerances: Mapping[str, float],
    *,
    checked: bool = False,
    workers: Workers = INLINE,
) -> dict[str, np.ndarray]:
    """Simplify a polygonal coverage once per level, keeping shared borders gap-free.

    ``checked``: the caller already knows the input is a valid coverage (the check costs
    about as much as one simplification on a real layer)."""
    return start_levels(geoms, tolerances, checked=checked, workers=workers).result()


class PendingLevels:
    """Levels being simplified: the coarser ones in helper processes (each in its own
    process: ``coverage_simplify`` from two threads on the same geometries crashed the
    process, a segfault inside GEOS), the finest here when ``result()`` is asked — so the
    caller can do other work in between."""

    def __init__(self, source: np.ndarray, tolerances: Mapping[str, float], workers: Workers):
        self.source, self.tolerances = source, tolerances
        order = sorted(tolerances.items(), key=lambda kv: kv[1])
        self.order = order
        self.jobs = {name: workers.submit(_simplify, source, float(tol)) for name, tol in order[1:]}

    def result(self) -> dict[str, np.ndarray]:
        raw = {name: _simplify(self.source, float(tol)) for name, tol in self.order[:1]}
        raw |= {name: job.result() for name, job in self.jobs.items()}
        levels: dict[str, np.ndarray] = {}
        finer = self.source
        for name, _ in self.order:
            got = raw[name]
            level = None if got is None else on_grid(got)
            finer = levels[name] = _fill_degenerate(level, self.source, finer)
        return {name: levels[name] for name in self.tolerances}


def start_levels(
    geoms: Sequence[BaseGeometry] | np.ndarray,
    tolerances: Mapping[str, float],
    *,
    checked: bool = False,
    workers: Workers = INLINE,
) -> PendingLevels:
    """``coverage_levels`` begun: helpers start on the coarser levels at once."""
    source = np.array([as_multipolygon(g) for g in np.asarray(geoms, dtype=object)])
    if len(source) and not checked and not shapely.coverage_is_valid(source):
        raise ValueError("input is not a valid polygonal coverage (overlaps or unmatched edges)")
    return PendingLevels(source, tolerances, workers)


def _simplify(source: np.ndarray, tolerance: float) -> np.ndarray | None:
    """One level's coverage simplification (None: no simplification at this tolerance)."""
    if tolerance <= 0 or not len(source):
        return None
    return shapely.coverage_simplify(source, tolerance, simplify_boundary=True)


def _fill_degenerate(
    simplified: np.ndarray | None, source: np.ndarray, finer: np.ndarray
) -> np.ndarray:
    """Normalise one level and replace collapsed results by ``finer``."""
    if simplified is None:
        return source.copy()
    out = np.array([as_multipolygon(g) for g in simplified], dtype=object)
    bad = _degenerate(out) & ~shapely.is_empty(source)
    out[bad] = finer[bad]
    return shapely.orient_polygons(out)


def area_m2(geoms: np.ndarray | shapely.Geometry) -> np.ndarray:
    """Approximate area in m² of lon/lat geometries (good enough for thresholds/reports)."""
    geoms = np.atleast_1d(np.asarray(geoms, dtype=object))
    bounds = shapely.bounds(geoms)
    lat = np.nan_to_num((bounds[:, 1] + bounds[:, 3]) / 2)
    return shapely.area(geoms) * (M_PER_DEG**2) * np.cos(np.radians(lat))


def floating(geoms: Any) -> Any:
    """The same coordinates without GEOS's precision model (through WKB).

    Why: ``set_precision`` leaves its grid on the geometry, and every later overlay of it
    (a union, a difference) then snap-rounds to that grid: a 0.24 m² triangle between two
    communes vanished from the layer's union while finding gaps, so it was never closed,
    and stayed a hole of its province at every level. On the grid, coordinates are exact
    anyway; a helper process's result (pickled as WKB) had none either, so the output no
    longer depends on where a step ran."""
    return shapely.from_wkb(shapely.to_wkb(geoms))


def on_grid(geoms: np.ndarray, min_m2: float = SLIVER_M2) -> np.ndarray:
    """Display-level geometries cleaned like the stored ones: snap-rounded to ``GRID`` (a
    valid result; rings that collapse, such as a hole ``[A,B,B,A]`` once rounded to 6
    decimals, are dropped) and holes and parts under ``min_m2`` dropped (a 0.24 m² sliver
    hole between communes is noise at any zoom). RFC 7946 rings.

    Why: the levels are what ``zoom=`` serves; at 6 decimals and more they print as stored,
    so a level off the grid or carrying a 1e-5 m² sliver was served invalid ("Too few
    points") though PostGIS called the stored geometry valid."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = floating(geoms)  # snapped the same whether from a helper or not
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        try:
            snapped = shapely.set_precision(g, GRID)
        except shapely.errors.GEOSException:
            snapped = shapely.set_precision(shapely.make_valid(g), GRID)
        out[i] = _drop_slivers(as_multipolygon(snapped), min_m2)
    return floating(shapely.orient_polygons(out, exterior_cw=False)) if len(out) else out


def _drop_slivers(geom: shapely.MultiPolygon, min_m2: float) -> shapely.MultiPolygon:
    if geom.is_empty:
        return geom
    parts = list(geom.geoms)
    sizes = area_m2(np.array(parts, dtype=object))
    kept = []
    for part, size in zip(parts, sizes, strict=True):
        if size < min_m2:
            continue
        if len(part.interiors):
            holes = shapely.polygons(np.array(list(part.interiors), dtype=object))
            big = area_m2(holes) >= min_m2
            if not big.all():
                part = shapely.Polygon(
                    part.exterior, [h for h, b in zip(part.interiors, big, strict=True) if b]
                )
        kept.append(part)
    if len(kept) == len(parts) and all(k is p for k, p in zip(kept, parts, strict=True)):
        return geom
    return shapely.MultiPolygon(kept)


def _degenerate(geoms: np.ndarray) -> np.ndarray:
    """Results a map cannot use: empty, zero-area or invalid."""
    return shapely.is_empty(geoms) | (shapely.area(geoms) <= 0) | ~shapely.is_valid(geoms)


def as_multipolygon(geom: BaseGeometry | None) -> shapely.MultiPolygon:
    """Polygonal parts of ``geom`` as one MultiPolygon (GeoJSON consumers expect one type)."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    parts = shapely.get_parts(shapely.get_parts(geom))  # collections may nest multi-parts
    return shapely.MultiPolygon([p for p in parts if isinstance(p, shapely.Polygon)])


def dissolved_levels(
    levels: Mapping[str, np.ndarray], groups: Sequence[str]
) -> dict[str, dict[str, shapely.MultiPolygon]]:
    """Parent geometries per level as the union of their simplified children.

    Why: simplifying provinces on their own keeps provinces edge-matched to each other
    but not to their communes; dissolving the simplified communes keeps both layers'
    borders identical at every level.
    """
    keys = np.asarray(groups)
    out: dict[str, dict[str, shapely.MultiPolygon]] = {}
    for band, geoms in levels.items():
        names = [str(key) for key in np.unique(keys)]
        merged = [as_multipolygon(shapely.coverage_union_all(geoms[keys == k])) for k in names]
        out[band] = dict(zip(names, on_grid(np.array(merged, dtype=object)), strict=True))
    return out
