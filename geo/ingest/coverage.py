"""A clean coverage from a real boundary layer: overlaps resolved, slivers closed, every
vertex on the stored grid.

Why: neighbouring communes in real files overlap (up to tens of thousands of m²) and leave
gaps — the union of a province's communes then carries thousands of sliver holes, and
rounding coordinates collapses them into rings with too few points (invalid GeoJSON). So
at import, in this order:

1. ``shapely.coverage_clean`` (GEOS CoverageCleaner) nodes the layer and gives each
   overlap to one side, deterministically (the neighbour with the longest shared border;
   ties by input order, which is sorted by code);
2. gaps — holes of the cleaned layer's union — narrower than ``GAP_MAX_WIDTH_M`` (width
   estimated as 2·area/perimeter, exact for a long sliver) are given to the neighbour with
   the longest shared edge; wider ones are real holes, kept and reported with size and
   place;
3. every geometry is snap-rounded to the stored grid (``GRID``: 6 decimals, the finest
   precision served by default) with ``shapely.set_precision``; parts that collapse are
   dropped. Shared edges have identical vertices, so they round identically and the layer
   stays a coverage.

We clean the gaps ourselves rather than with ``coverage_clean(gap_width=…)`` because GEOS's
gap detection is ~5× slower than the rest of the cleaning on real layers (measured on the
464 real communes: 43 s vs 9 s on a loaded 2-core machine); the union + per-hole work here
costs about one second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from geo.ingest.topology import as_multipolygon

GRID = 1e-6  # degrees (≈ 0.11 m): stored geometry is on this grid
STORED_DECIMALS = 6  # GeoJSON precision at which stored coordinates print exactly
GROUP_SIZE = 400  # units per group when finding the layer's holes (see layer_holes)
GAP_MAX_WIDTH_M = 100.0  # gaps narrower than this are closed (communes are drawn ~50 m)
M_PER_DEG = 111_320.0


@dataclass
class CleanStats:
    """What cleaning changed, for the report."""

    overlaps_m2: float = 0.0  # area moved from one unit to another
    moved: list[tuple[str, float]] = field(default_factory=list)  # (code, m² gained) largest
    gaps_closed: int = 0
    gaps_closed_m2: float = 0.0
    gaps_left: list[tuple[float, float, float, list[str]]] = field(default_factory=list)
    emptied: list[str] = field(default_factory=list)  # units nothing is left of
    collapsed_parts: int = 0  # parts dropped by snap-rounding


def area_m2(geoms: np.ndarray | shapely.Geometry) -> np.ndarray:
    """Approximate area in m² of lon/lat geometries (good enough for thresholds/reports)."""
    geoms = np.atleast_1d(np.asarray(geoms, dtype=object))
    bounds = shapely.bounds(geoms)
    lat = np.nan_to_num((bounds[:, 1] + bounds[:, 3]) / 2)
    return shapely.area(geoms) * (M_PER_DEG**2) * np.cos(np.radians(lat))


def _length_m(geoms: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return shapely.length(geoms) * M_PER_DEG * np.sqrt((1 + np.cos(np.radians(lat)) ** 2) / 2)


def snap(geoms: np.ndarray, grid: float = GRID) -> tuple[np.ndarray, int]:
    """Snap-round to ``grid`` keeping validity; collapsed parts dropped. (geoms, dropped)."""
    before = shapely.get_num_geometries(geoms)
    snapped = shapely.set_precision(np.asarray(geoms, dtype=object), grid)
    out = np.array([as_multipolygon(g) for g in snapped], dtype=object)
    dropped = int(np.maximum(before - shapely.get_num_geometries(out), 0).sum())
    return shapely.orient_polygons(out, exterior_cw=False), dropped


def clean(codes: list[str], geoms: np.ndarray, *, gap_max_width_m: float = GAP_MAX_WIDTH_M):
    """The clean, snapped coverage of ``geoms`` (same order) and what changed."""
    stats = CleanStats()
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms, stats
    order = np.argsort(np.asarray(codes, dtype=object), kind="stable")
    work = geoms[order]
    if not shapely.coverage_is_valid(work):
        cleaned = shapely.coverage_clean(work, merge_strategy="longest_border")
        cleaned = np.array([as_multipolygon(g) for g in cleaned], dtype=object)
    else:
        cleaned = np.array([as_multipolygon(g) for g in work], dtype=object)
    _close_gaps(cleaned, [codes[i] for i in order], gap_max_width_m, stats)
    snapped, stats.collapsed_parts = snap(cleaned)
    out = np.empty(len(geoms), dtype=object)
    out[order] = snapped
    delta = area_m2(out) - area_m2(geoms)  # < 0: area given to a neighbour
    stats.overlaps_m2 = float(np.clip(-delta, 0, None).sum())
    biggest = np.argsort(-np.abs(delta))[:10]
    stats.moved = [(codes[i], float(delta[i])) for i in biggest if abs(delta[i]) >= 1.0]
    stats.emptied = [codes[i] for i in np.flatnonzero(shapely.is_empty(out))]
    return out, stats


def _close_gaps(cleaned: np.ndarray, codes: list[str], max_width_m: float, stats) -> None:
    """Give each narrow hole of the layer's union to the neighbour with the longest shared
    edge (in place); wider holes go to ``stats.gaps_left``. Vectorised: real layers have
    thousands of holes."""
    holes = layer_holes(cleaned)
    if not len(holes):
        return
    areas = area_m2(holes)
    lat = shapely.get_y(shapely.centroid(holes))
    width = 2 * areas / np.maximum(_length_m(holes, lat), 1e-9)
    hole_idx, unit_idx = shapely.STRtree(cleaned).query(holes, predicate="intersects")
    # Shared edge length per (hole, unit): the unit's boundary clipped to the hole's box,
    # intersected with the hole's ring (both small, so this stays cheap).
    box = shapely.bounds(holes)[hole_idx]
    pad = 1e-7
    boxes = shapely.box(box[:, 0] - pad, box[:, 1] - pad, box[:, 2] + pad, box[:, 3] + pad)
    edges = shapely.intersection(shapely.boundary(cleaned)[unit_idx], boxes)
    shared = shapely.length(shapely.intersection(edges, shapely.get_exterior_ring(holes)[hole_idx]))
    best: dict[int, tuple[float, int]] = {}
    for h, u, length in zip(hole_idx.tolist(), unit_idx.tolist(), shared.tolist(), strict=True):
        if h not in best or length > best[h][0]:
            best[h] = (length, u)
    gifts: dict[int, list[int]] = {}
    for k in range(len(holes)):
        if width[k] > max_width_m or k not in best:
            c = shapely.point_on_surface(holes[k])
            near = sorted(codes[u] for u in unit_idx[hole_idx == k])
            stats.gaps_left.append((float(areas[k]), c.x, c.y, near))
            continue
        gifts.setdefault(best[k][1], []).append(k)
        stats.gaps_closed += 1
        stats.gaps_closed_m2 += float(areas[k])
    for i, ks in gifts.items():
        parts = np.array([cleaned[i], *holes[ks]], dtype=object)
        merged = shapely.coverage_union_all(parts)
        if not merged.is_valid:
            merged = shapely.union_all(parts)
        cleaned[i] = as_multipolygon(merged)
    stats.gaps_left.sort(key=lambda g: -g[0])


def layer_holes(geoms: np.ndarray, group_size: int = GROUP_SIZE) -> np.ndarray:
    """The holes of the union of a cleaned layer, as polygons (less any unit lying in one).

    Why in groups: the coverage union of a whole national layer with its ~29,000 sliver
    holes grows much faster than the layer (0.5 s for the 464 real communes of five
    provinces, 47 s for seven times as many), while unions of a few hundred neighbouring
    units stay linear. So the layer is cut into compact groups: the holes inside each
    group's union, then the holes between groups — those of the union of the groups'
    outer shells. A hole cannot cross a shell (the shell lies in the union), so every hole
    is found once."""
    groups = _compact_groups(geoms, group_size)
    merged = [_union_any(geoms[members]) for members in groups]
    found = [h for m in merged for h in _holes(m)]
    if len(groups) > 1:
        shells = shapely.polygons(
            shapely.get_exterior_ring(np.concatenate([shapely.get_parts(m) for m in merged]))
        )
        # (queries prepare the input: "contains" with the big shell as input is cheap)
        outer, inner = shapely.STRtree(shells).query(shells, predicate="contains")
        nested = np.unique(inner[inner != outer])  # an island in a lake, an enclave
        found += list(_holes(_union_any(np.delete(shells, nested))))
    holes = np.array(found, dtype=object)
    if not len(holes):
        return holes
    # What lies in a hole (an island in a lake) is not part of it. In a coverage a part is
    # wholly inside a hole or outside it.
    parts = shapely.get_parts(geoms)
    hole_idx, part_idx = shapely.STRtree(parts).query(holes, predicate="contains")
    for k in np.unique(hole_idx):
        holes[k] = shapely.difference(holes[k], shapely.union_all(parts[part_idx[hole_idx == k]]))
    parts = shapely.get_parts(holes)
    return parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]


def _compact_groups(geoms: np.ndarray, size: int) -> list[np.ndarray]:
    """Indices of ``geoms`` in compact groups of about ``size`` (strips by x, cut by y);
    deterministic for a given input order."""
    n = len(geoms)
    if n <= size:
        return [np.arange(n)]
    bounds = shapely.bounds(geoms)
    x = (bounds[:, 0] + bounds[:, 2]) / 2
    y = (bounds[:, 1] + bounds[:, 3]) / 2
    k = int(np.ceil(n / size))
    groups: list[np.ndarray] = []
    for strip in np.array_split(np.argsort(x, kind="stable"), int(np.ceil(np.sqrt(k)))):
        strip = strip[np.argsort(y[strip], kind="stable")]
        groups += np.array_split(strip, int(np.ceil(len(strip) / size)))
    return [g for g in groups if len(g)]


def _union_any(geoms: np.ndarray) -> shapely.Geometry:
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms)


def _holes(merged: shapely.Geometry) -> np.ndarray:
    rings = [r for p in shapely.get_parts(merged) if p.geom_type == "Polygon" for r in p.interiors]
    return shapely.polygons(np.array(rings, dtype=object)) if rings else np.array([], dtype=object)


def union(geoms: np.ndarray) -> shapely.MultiPolygon:
    """Union of a clean coverage (fast path) or of anything (robust path), RFC 7946 rings."""
    try:
        merged = shapely.coverage_union_all(geoms)
        if merged.is_valid:
            return shapely.orient_polygons(as_multipolygon(merged), exterior_cw=False)
    except shapely.errors.GEOSException:
        pass
    return shapely.orient_polygons(as_multipolygon(shapely.union_all(geoms)), exterior_cw=False)


def outline_difference(outline: shapely.Geometry, merged: shapely.Geometry) -> float:
    """How far a province file's outline is from the union of its communes: the area of
    their symmetric difference as a share of the union's area."""
    if outline.is_empty or merged.is_empty:
        return 1.0
    diff = shapely.symmetric_difference(outline, merged)
    return float(area_m2(diff)[0] / max(area_m2(merged)[0], 1e-9))


def matches(a: shapely.Geometry | None, b: shapely.Geometry | None, rel: float = 1e-3) -> bool:
    """Whether a province is (up to ``rel``) the union of its communes: same area and same
    boundary length. Cheap, and decisive in practice: an outline from another source
    differs in length by far more than 0.1 % (the detail of a border is in its length)."""
    if a is None or b is None or a.is_empty or b.is_empty:
        return False

    def close(x: float, y: float) -> bool:
        return abs(x - y) <= rel * max(abs(x), 1e-12)

    return close(a.area, b.area) and close(a.length, b.length)
