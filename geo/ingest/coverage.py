"""A clean coverage from a real boundary layer: overlaps resolved, slivers closed, every
vertex on the stored grid.

Why: neighbouring communes in real files overlap (up to tens of thousands of m²) and leave
gaps — the union of a province's communes then carries thousands of sliver holes, and
rounding coordinates collapses them into rings with too few points (invalid GeoJSON). So
at import, in this order:

1. ``shapely.coverage_clean`` (GEOS CoverageCleaner) nodes the layer and gives each
   overlap to one side, deterministically (the neighbour with the longest shared border;
   ties by input order, which is sorted by code);
2. every geometry is snap-rounded to the stored grid (``GRID``: 6 decimals, the finest
   precision served by default) with ``shapely.set_precision``; parts that collapse are
   dropped. Shared edges have identical vertices, so they round identically and the layer
   stays a coverage — nearly: where a unit's own vertex a cell away bent its edge, those
   units and their neighbours are cleaned and snapped again (``renode``);
3. gaps — holes of the snapped layer's union — narrower than ``GAP_MAX_WIDTH_M`` (width
   estimated as 2·area/perimeter, exact for a long sliver) are given to the neighbour with
   the longest shared edge; wider ones are real holes, kept and reported with size and
   place. A coverage union keeps its input's vertices, so what a unit gains is on the grid
   too.

Why snap before closing gaps: the other way round, a gap narrower than the grid given to
a neighbour is a sliver of that neighbour, which snap-rounding then collapses — and the
gap is back (measured on a country-sized tiling of the real sample: 11 holes of 0–21 m²
reappeared in 8 provinces' unions; snapping first leaves none).

We clean the gaps ourselves rather than with ``coverage_clean(gap_width=…)`` because GEOS's
gap detection is ~5× slower than the rest of the cleaning on real layers (measured on the
464 real communes: 43 s vs 9 s on a loaded 2-core machine); the union + per-hole work here
costs about one second.

Steps 2 and 3 are cut into shares done in parallel by ``workers`` (``geo.ingest.parallel``:
helper processes); the result does not depend on how many there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from geo.ingest import coverage_split
from geo.ingest.parallel import INLINE, Workers, split
from geo.ingest.topology import GRID, M_PER_DEG, area_m2, as_multipolygon, floating, on_grid

STORED_DECIMALS = 6  # GeoJSON precision at which stored coordinates print exactly
GROUP_SIZE = 400  # units per group when finding the layer's holes (see layer_holes)
GAP_MAX_WIDTH_M = 100.0  # gaps narrower than this are closed (communes are drawn ~50 m)


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


def _length_m(geoms: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return shapely.length(geoms) * M_PER_DEG * np.sqrt((1 + np.cos(np.radians(lat)) ** 2) / 2)


def snap(
    geoms: np.ndarray, grid: float = GRID, workers: Workers = INLINE
) -> tuple[np.ndarray, int]:
    """Snap-round to ``grid`` keeping validity; collapsed parts dropped. (geoms, dropped)."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms, 0
    blocks = split(len(geoms), workers.shares)
    done = workers.map(_snap_block, [(geoms[b], grid) for b in blocks])
    out = np.concatenate([g for g, _ in done])
    return out, sum(d for _, d in done)


def _snap_block(geoms: np.ndarray, grid: float) -> tuple[np.ndarray, int]:
    before = shapely.get_num_geometries(geoms)
    snapped = shapely.set_precision(geoms, grid)
    out = np.array([as_multipolygon(g) for g in snapped], dtype=object)
    dropped = int(np.maximum(before - shapely.get_num_geometries(out), 0).sum())
    return floating(shapely.orient_polygons(out, exterior_cw=False)), dropped


def clean(
    codes: list[str],
    geoms: np.ndarray,
    *,
    gap_max_width_m: float = GAP_MAX_WIDTH_M,
    workers: Workers = INLINE,
):
    """The clean, snapped coverage of ``geoms`` (same order) and what changed."""
    stats = CleanStats()
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms, stats
    order = np.argsort(np.asarray(codes, dtype=object), kind="stable")
    work = geoms[order]
    if not shapely.coverage_is_valid(work):
        cleaned = coverage_split.clean_layer(work, workers)
    else:
        cleaned = np.array([as_multipolygon(g) for g in work], dtype=object)
    snapped, stats.collapsed_parts = snap(cleaned, workers=workers)
    snapped = renode(snapped)
    _close_gaps(snapped, [codes[i] for i in order], gap_max_width_m, stats, workers)
    out = np.empty(len(geoms), dtype=object)
    out[order] = snapped
    delta = area_m2(out) - area_m2(geoms)  # < 0: area given to a neighbour
    stats.overlaps_m2 = float(np.clip(-delta, 0, None).sum())
    biggest = np.argsort(-np.abs(delta))[:10]
    stats.moved = [(codes[i], float(delta[i])) for i in biggest if abs(delta[i]) >= 1.0]
    stats.emptied = [codes[i] for i in np.flatnonzero(shapely.is_empty(out))]
    return out, stats


def renode(geoms: np.ndarray, rounds: int = 2) -> np.ndarray:
    """The snapped layer's overlaps cleaned and snapped again, where there are any.

    Why: snap-rounding one unit alone also bends its edges through its own vertices a grid
    cell away, which its neighbour does not have: a clean coverage came out of ``snap``
    with two communes of the whole country overlapping by 4 m². Only the units with
    invalid edges and their neighbours are cleaned again (the whole layer takes a minute)."""
    for _ in range(rounds):
        edges = shapely.coverage_invalid_edges(geoms)
        bad = np.flatnonzero(~shapely.is_missing(edges) & ~shapely.is_empty(edges))
        if not len(bad):
            break
        near = np.unique(shapely.STRtree(geoms).query(geoms[bad])[1])
        cleaned = shapely.coverage_clean(geoms[near], merge_strategy="longest_border")
        geoms = geoms.copy()
        geoms[near], _ = snap(np.array([as_multipolygon(g) for g in cleaned], dtype=object))
    return geoms


def _close_gaps(
    cleaned: np.ndarray, codes: list[str], max_width_m: float, stats, workers: Workers = INLINE
) -> None:
    """Give each narrow hole of the layer's union to the neighbour with the longest shared
    edge (in place); wider holes go to ``stats.gaps_left``. Vectorised: real layers have
    thousands of holes."""
    holes = layer_holes(cleaned, workers=workers)
    if not len(holes):
        return
    areas = area_m2(holes)
    lat = shapely.get_y(shapely.centroid(holes))
    width = 2 * areas / np.maximum(_length_m(holes, lat), 1e-9)
    owner = shared_edge_owner(cleaned, holes)
    gifts: dict[int, list[int]] = {}
    tree = None
    for k in range(len(holes)):
        if width[k] > max_width_m or owner[k] < 0:
            c = shapely.point_on_surface(holes[k])
            tree = tree or shapely.STRtree(cleaned)
            near = sorted(codes[u] for u in tree.query(holes[k], predicate="intersects"))
            stats.gaps_left.append((float(areas[k]), c.x, c.y, near))
            continue
        gifts.setdefault(int(owner[k]), []).append(k)
        stats.gaps_closed += 1
        stats.gaps_closed_m2 += float(areas[k])
    takers = np.array(sorted(gifts), dtype=int)
    if len(takers):
        calls = []
        for block in split(len(takers), workers.shares):
            ks = [gifts[int(i)] for i in takers[block]]
            sizes = np.array([len(k) for k in ks])
            calls.append((cleaned[takers[block]], holes[np.concatenate(ks)], sizes))
        cleaned[takers] = np.concatenate(workers.map(_absorb, calls))
    stats.gaps_left.sort(key=lambda g: -g[0])


def _absorb(units: np.ndarray, holes: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each unit merged with its run of ``holes`` (``sizes`` holes per unit, in order)."""
    out = np.empty(len(units), dtype=object)
    ends = np.cumsum(sizes)
    for i, (unit, end, n) in enumerate(zip(units, ends, sizes, strict=True)):
        parts = np.array([unit, *holes[end - n : end]], dtype=object)
        merged = shapely.coverage_union_all(parts)
        if not merged.is_valid:  # the robust way may add crossings off the grid: snap it
            merged = floating(shapely.set_precision(shapely.union_all(parts), GRID))
        out[i] = as_multipolygon(merged)
    return shapely.orient_polygons(out, exterior_cw=False)


def shared_edge_owner(units: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """For each hole, the index of the unit sharing the longest edge with it (-1: none).

    Why by segments: a hole of a noded coverage is bounded by the units' own segments,
    vertex for vertex, so the shared length is the sum of the hole's segments that are
    also a unit's — found by sorting, for the ~30,000 holes of a country at once (GEOS
    intersections per (hole, unit) pair took seconds). Ties go to the unit listed first
    (the input is sorted by code). A hole whose ring matches no unit segment exactly (not
    produced by a coverage union) falls back to intersecting the linework."""
    owner = np.full(len(holes), -1, dtype=np.int64)
    if not len(holes) or not len(units):
        return owner
    u_seg, u_of = _segments(units)
    h_seg, h_of = _segments(holes)
    seg = np.concatenate([u_seg, h_seg])
    is_hole = np.concatenate([np.zeros(len(u_seg), bool), np.ones(len(h_seg), bool)])
    of = np.concatenate([u_of, h_of])
    order = np.lexsort((is_hole, seg[:, 3], seg[:, 2], seg[:, 1], seg[:, 0]))
    seg, is_hole, of = seg[order], is_hole[order], of[order]
    # a hole segment right after an identical unit segment is shared with that unit
    same = np.all(seg[1:] == seg[:-1], axis=1) & is_hole[1:] & ~is_hole[:-1]
    hole, unit = of[1:][same], of[:-1][same]
    length = np.hypot(seg[1:, 2] - seg[1:, 0], seg[1:, 3] - seg[1:, 1])[same]
    if len(hole):
        pair, inverse = np.unique(np.column_stack([hole, unit]), axis=0, return_inverse=True)
        total = np.bincount(inverse.ravel(), weights=length)
        best = np.lexsort((pair[:, 1], -total, pair[:, 0]))  # per hole: longest, then first
        first = np.ones(len(best), bool)
        first[1:] = pair[best[1:], 0] != pair[best[:-1], 0]
        owner[pair[best[first], 0]] = pair[best[first], 1]
    lost = np.flatnonzero(owner < 0)
    if len(lost):
        owner[lost] = _owner_by_intersection(units, holes[lost])
    return owner


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ring segment of polygonal ``geoms`` as (x0, y0, x1, y1), endpoints in a
    canonical order (both sides of a shared edge give the same row), and its geometry's
    index."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    inner = ring_of[1:] == ring_of[:-1]
    a, b = xy[:-1][inner], xy[1:][inner]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    lo, hi = np.where(swap[:, None], b, a), np.where(swap[:, None], a, b)
    return np.hstack([lo, hi]), part_of[ring_part[ring_of[:-1][inner]]]


def _owner_by_intersection(units: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """The slow, general way: the units' boundaries clipped to each hole's ring."""
    owner = np.full(len(holes), -1, dtype=np.int64)
    hole_idx, unit_idx = shapely.STRtree(units).query(holes, predicate="intersects")
    if not len(hole_idx):
        return owner
    box = shapely.bounds(holes)[hole_idx]
    pad = 1e-7
    boxes = shapely.box(box[:, 0] - pad, box[:, 1] - pad, box[:, 2] + pad, box[:, 3] + pad)
    edges = shapely.intersection(shapely.boundary(units)[unit_idx], boxes)
    shared = shapely.length(shapely.intersection(edges, shapely.get_exterior_ring(holes)[hole_idx]))
    best: dict[int, float] = {}
    for h, u, length in zip(hole_idx.tolist(), unit_idx.tolist(), shared.tolist(), strict=True):
        if length > 0 and (h not in best or length > best[h]):
            best[h], owner[h] = length, u
    return owner


def layer_holes(
    geoms: np.ndarray, group_size: int | None = None, workers: Workers = INLINE
) -> np.ndarray:
    """The holes of the union of a cleaned layer, as polygons (less any unit lying in one).

    Why in groups: the coverage union of a whole national layer with its ~29,000 sliver
    holes grows much faster than the layer (0.5 s for the 464 real communes of five
    provinces, 47 s for seven times as many), while unions of a few hundred neighbouring
    units stay linear. So the layer is cut into compact groups: the holes inside each
    group's union, then the holes between groups — those of the union of the groups'
    outer shells. A hole cannot cross a shell (the shell lies in the union), so every hole
    is found once."""
    groups = _compact_groups(geoms, GROUP_SIZE if group_size is None else group_size)
    calls = []
    for block in split(len(groups), workers.shares):
        members = [groups[i] for i in block]
        sizes = np.array([len(m) for m in members])
        calls.append((geoms[np.concatenate(members)], sizes))
    done = workers.map(_group_unions, calls)
    merged = np.concatenate([m for m, _ in done])
    found = [h for _, hs in done for h in hs]
    if len(groups) > 1:
        shells = shapely.polygons(
            shapely.get_exterior_ring(np.concatenate([shapely.get_parts(m) for m in merged]))
        )
        found += list(_holes(_union_any(_enclosing(shells))))
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


def _enclosing(shells: np.ndarray) -> np.ndarray:
    """The shells that can enclose a hole between groups: not those lying in another
    shell (an island in a lake, an enclave), nor those whose box meets no other shell's
    (an island far out). Box tests first: exact tests on all pairs of a country's 17,000
    shells took seconds."""
    a, b = shapely.STRtree(shells).query(shells)
    a, b = a[a != b], b[a != b]
    box = shapely.bounds(shells)
    inside = np.all(box[b, :2] >= box[a, :2], axis=1) & np.all(box[b, 2:] <= box[a, 2:], axis=1)
    shapely.prepare(shells[np.unique(a[inside])])
    nested = np.unique(b[inside][shapely.contains(shells[a[inside]], shells[b[inside]])])
    alone = np.setdiff1d(np.arange(len(shells)), a)
    return np.delete(shells, np.union1d(nested, alone))


def _group_unions(geoms: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of each run of ``geoms`` (``sizes`` per group) and all their holes."""
    merged = np.empty(len(sizes), dtype=object)
    holes: list = []
    for i, (end, n) in enumerate(zip(np.cumsum(sizes), sizes, strict=True)):
        merged[i] = _union_any(geoms[end - n : end])
        holes += list(_holes(merged[i]))
    found = np.empty(len(holes), dtype=object)
    found[:] = holes
    return merged, found


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


def level_union(geoms: np.ndarray) -> shapely.MultiPolygon:
    """A parent's display level from its children's: their union, cleaned like a level
    (``topology.on_grid``: on the grid, no sliver holes where children's levels of
    different runs or fallbacks do not quite meet)."""
    return on_grid(np.array([union(geoms)], dtype=object))[0]


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
