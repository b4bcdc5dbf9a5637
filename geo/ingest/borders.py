"""A file's units fitted to the stored units they border: one province's file imported
after the whole country.

Why: every real edit of one province overlaps its neighbours and leaves slivers along
the border (generalisation noise: each office draws its border its own way). Refusing
such a file (issue 25) made a province's own file unusable once its neighbours were
stored; storing it as is left communes overlapping. So, for the file's existing units
against the stored units the file does not carry:

- an official stored unit keeps its land: the file's units are clipped by it (the file may
  not move another province's land). Overlaps up to ``tolerance_m2`` per pair are
  noise, summed in a note; larger ones are warnings naming place (lon/lat) and size
  (m²), and refuse the import only when the operator asks (``strict``: the CLI's
  ``--strict-borders``, the API's ``strict_borders=true``);
- an approximate stored unit (a placeholder, e.g. the demo's) gives way: it is clipped
  by the file's units, unless nothing would be left of it (then it is kept and noted);
- gaps between the file's units and the stored ones narrower than ``gap_max_width_m`` are
  closed to the file's unit sharing the longest edge with them (the file's units grow to
  meet their neighbours); wider ones are warnings with place and size.

Where no official unit is near, the file's units are left exactly as cleaned (a coverage
on the 6-decimal grid): only the approximate neighbours change.

Pieces under ``NOISE_M2`` are ignored: below what the 6-decimal grid can draw
(≈ 0.01 m² a cell) and below what the overlap check counts. Overlays are exact (see
``_exact``): stored neighbours are never moved, not even by the grid.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import shapely

from geo.ingest import coverage, plan
from geo.ingest.coverage import M_PER_DEG, area_m2
from geo.ingest.topology import GRID, as_multipolygon, on_grid
from geo.ingest.unitfields import Features

NOISE_M2 = 1.0  # overlaps and gaps smaller than this are left alone
SHOWN = 20


@dataclass
class Fit:
    """What fitting changed: the file's units (in place), neighbour rows to write, and
    the disagreements beyond the tolerance (area m², lon, lat, file unit, stored unit)."""

    neighbours: list[plan.Unit] = field(default_factory=list)
    given_back_m2: float = 0.0  # file land overlapping official units, left to them
    given_back_pairs: int = 0
    taken_m2: float = 0.0  # approximate units' land taken by the file
    kept_approx: list[str] = field(default_factory=list)
    large: list[tuple[float, float, float, str, str]] = field(default_factory=list)
    gaps_closed: int = 0
    gaps_closed_m2: float = 0.0
    gaps_left: list[tuple[float, float, float, list[str]]] = field(default_factory=list)
    emptied: list[str] = field(default_factory=list)  # file units wholly under official ones


def fit(feats: Features, current: plan.Layer, tolerance_m2: float, gap_max_width_m: float) -> Fit:
    """Fit ``feats.geoms`` (existing units only; new ones are checked by the caller) to
    the stored units not in the file; see the module docstring."""
    out = Fit()
    infile = set(feats.codes)
    others = [c for c in current.codes if c not in infile]
    mine = np.array([c in current.name for c in feats.codes], dtype=bool)
    if not others or not mine.any():
        return out
    geoms = feats.geoms.copy()
    stored = np.array([current.geom[c] for c in others], dtype=object)
    tree = shapely.STRtree(stored)
    pad = gap_max_width_m / M_PER_DEG * 2
    near_j, near_k = tree.query(geoms, predicate="dwithin", distance=pad)
    keep = mine[near_j]
    near_j, near_k = near_j[keep], near_k[keep]
    if not len(near_j):
        return out
    official = np.array([current.quality[others[k]] == "official" for k in near_k], dtype=bool)
    hits = shapely.intersects(geoms[near_j], stored[near_k])
    pieces = np.empty(len(near_j), dtype=object)
    pieces[:] = None
    if hits.any():
        pieces[hits] = shapely.intersection(geoms[near_j[hits]], stored[near_k[hits]])
    sizes = np.zeros(len(near_j))
    if hits.any():
        sizes[hits] = area_m2(pieces[hits])
    real = sizes >= NOISE_M2
    # 1. official stored units keep their land
    for j in np.unique(near_j[real & official]):
        ks = near_k[(near_j == j) & real & official]
        geoms[j] = _clip(geoms[j], shapely.union_all(stored[ks]))
    for j, k, a, piece in zip(
        near_j[real & official], near_k[real & official], sizes[real & official],
        pieces[real & official], strict=True,
    ):  # fmt: skip
        if a > tolerance_m2:
            p = shapely.point_on_surface(piece)
            out.large.append((float(a), p.x, p.y, feats.codes[j], others[k]))
        else:
            out.given_back_m2 += float(a)
            out.given_back_pairs += 1
    out.large.sort(key=lambda x: -x[0])
    for j in np.flatnonzero(shapely.is_empty(geoms) & ~shapely.is_empty(feats.geoms)):
        out.emptied.append(feats.codes[j])
        geoms[j] = feats.geoms[j]
    # 2. approximate stored units give way to the file
    approx = real & ~official
    changed: dict[int, shapely.Geometry] = {}
    for k in np.unique(near_k[approx]):
        js = near_j[(near_k == k) & approx]
        rest = _clip(stored[k], shapely.union_all(geoms[js]))
        if rest.is_empty or area_m2(rest)[0] < NOISE_M2:
            out.kept_approx.append(others[k])
            continue
        out.taken_m2 += float(area_m2(stored[k])[0] - area_m2(rest)[0])
        changed[int(k)] = rest
    final = stored.copy()
    for k, g in changed.items():
        final[k] = g
    if official.any():  # else the file's units stay as they are: a clean coverage
        # 4. one noding of the file's units with their neighbours (GEOS's coverage cleaner
        # snaps what is a rounding apart): the file's units are taken from it, the stored ones
        # stay as stored; what is still over a stored unit is cut off
        ks = np.unique(near_k)
        both = np.concatenate([geoms, final[ks]])
        try:
            noded = shapely.coverage_clean(both)
        except shapely.errors.GEOSException:
            noded = both
        for j in range(len(geoms)):
            g = _exact(noded[j])
            if not g.is_empty:
                geoms[j] = g
        for j in np.unique(near_j):
            there = shapely.union_all(final[near_k[near_j == j]])
            if area_m2(shapely.intersection(geoms[j], there))[0] >= NOISE_M2 / 10:
                geoms[j] = _clip(geoms[j], there)
        # 5. gaps along the border closed to the file's units
        _close_border_gaps(geoms, final[ks], [others[k] for k in ks], feats.codes,
                           gap_max_width_m, out)  # fmt: skip
        for j in np.unique(near_j):  # and what a closed gap's outline put over a stored unit
            there = shapely.union_all(final[near_k[near_j == j]])
            if area_m2(shapely.intersection(geoms[j], there))[0] >= NOISE_M2 / 10:
                geoms[j] = _clip(geoms[j], there)
        geoms = onto_grid(geoms, final[ks])
        _yield_to_stored(geoms, final[ks])
    feats.geoms[:] = geoms
    for k, g in sorted(changed.items()):
        out.neighbours.append(_neighbour_row(others[k], g, current))
    return out


def onto_grid(geoms: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """The fitted units back on the stored grid, along their stored neighbours' own vertices.

    Why: clipping puts a vertex where a file edge crosses a stored one, off the 6-decimal
    grid; served at 6 decimals or more (the stored geometry, rounded as it prints) such
    units were invalid — 25 communes of Hà Nội and TP HCM re-imported after the whole
    country. Each off-grid vertex lying on a stored edge moves to the nearer end of that
    edge (a stored vertex: on the grid), any other is rounded; every unit sharing the
    vertex moves it alike, so what one gives up its file neighbour gains; a unit left
    invalid (a neck narrower than a cell) is snap-rounded. Kept only if every unit is valid
    and no moved unit overlaps another or a neighbour by ``NOISE_M2 / 10`` or more (what the
    clipping above leaves; on the country: 0.09 m² once, where a snap-rounded neck bent an
    edge); else the exact result stays."""
    xy = shapely.get_coordinates(geoms)
    off = _off_grid(xy)
    if not off.any() or not len(stored):
        return geoms
    pts = np.unique(xy[off], axis=0)
    seg, _ = coverage._segments(stored)
    lines = shapely.linestrings(seg.reshape(-1, 2, 2))
    at, on = shapely.STRtree(lines).query(
        shapely.points(pts), predicate="dwithin", distance=GRID / 100
    )
    target = _rounded(pts)
    first = np.unique(at, return_index=True)[1]
    for i, k in zip(at[first], on[first], strict=True):
        ends = seg[k].reshape(2, 2)
        target[i] = ends[np.argmin(np.hypot(*(ends - pts[i]).T))]
    moves = {tuple(p): tuple(t) for p, t in zip(pts.tolist(), target.tolist(), strict=True)}

    def move(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        for i in np.flatnonzero(_off_grid(coords)):
            out[i] = moves.get(tuple(coords[i].tolist()), coords[i])
        return out

    moved = shapely.remove_repeated_points(shapely.transform(geoms, move))
    for i in np.flatnonzero(~shapely.is_valid(moved)):  # a neck narrower than a cell
        moved[i] = as_multipolygon(on_grid(np.array([moved[i]], dtype=object), 0.0)[0])
    # pairs with a moved unit in them (each once): two stored units were not moved here, and
    # an overlap between them (older than this import) is not this move's to undo
    both = np.concatenate([moved, stored])
    a, b = shapely.STRtree(both).query(moved, predicate="intersects")
    a, b = a[a < b], b[a < b]
    overlap = area_m2(shapely.intersection(moved[a], both[b])) if len(a) else np.zeros(1)
    if shapely.is_valid(moved).all() and overlap.max(initial=0) < NOISE_M2 / 10:
        return shapely.orient_polygons(moved, exterior_cw=False)
    return geoms


def _yield_to_stored(moved: np.ndarray, stored: np.ndarray) -> None:
    """A moved unit's vertices inside a stored neighbour are dropped (in place), when no
    other unit of the file has them: the unit's edge then runs along the neighbour's. Why:
    a grid point a fraction of a cell across a stored edge is on the grid but on the wrong
    side — a 1.8 mm-wide triangle of 0.099 m² over the neighbour, once, on Hà Nội's border
    re-imported after the whole country — and any shared interior is an overlap to a
    checker (``ST_Overlaps``). A snap-rounded difference puts the vertex back where it was.
    Kept only when the unit stays valid and overlaps the neighbour no more."""
    if not len(stored) or not len(moved):
        return
    a, b = shapely.STRtree(stored).query(moved, predicate="overlaps")
    if not len(a):
        return
    units_at: Counter[complex] = Counter()  # how many of the file's units have a vertex
    for g in moved:
        units_at.update(set(shapely.get_coordinates(g).view(np.complex128).ravel().tolist()))
    in_several = {v for v, n in units_at.items() if n > 1}
    for i in np.unique(a):
        there = shapely.union_all(stored[b[a == i]])

        def inside(coords: np.ndarray, there=there) -> np.ndarray:
            mine = np.array([complex(x, y) not in in_several for x, y in coords])
            return shapely.contains_xy(there, coords[:, 0], coords[:, 1]) & mine

        kept = _without_vertices(moved[i], inside)
        if kept is not None and kept.is_valid and not shapely.overlaps(kept, there):
            moved[i] = kept


def _without_vertices(geom: shapely.Geometry, drop) -> shapely.MultiPolygon | None:
    """``geom`` with the vertices ``drop(coords)`` marks removed from every ring; None when
    a ring would keep fewer than three points."""
    polygons = []
    for part in shapely.get_parts(geom):
        rings = []
        for ring in (part.exterior, *part.interiors):
            coords = np.asarray(ring.coords)[:-1]
            coords = coords[~drop(coords)]
            if len(coords) < 3:
                return None
            rings.append(np.vstack([coords, coords[:1]]))
        polygons.append(shapely.Polygon(rings[0], rings[1:]))
    return shapely.MultiPolygon(polygons)


def _off_grid(xy: np.ndarray) -> np.ndarray:
    """Rows of ``xy`` not exactly on the grid: a vertex 1e-12° off one that is prints as
    that one, and a ring touching itself once printed is invalid."""
    return (_rounded(xy) != xy).any(axis=1)


def _rounded(xy: np.ndarray) -> np.ndarray:
    """On the grid as GEOS's ``set_precision`` puts a coordinate (times the scale, rounded,
    divided: bit for bit what the stored units have)."""
    scale = round(1 / GRID)
    return np.round(xy * scale) / scale


def _clip(a: shapely.Geometry, b: shapely.Geometry, passes: int = 3) -> shapely.MultiPolygon:
    """``a`` less ``b``, again while a sliver of ``a`` over ``b`` is left: a file vertex a
    grid cell from a stored one made GEOS's overlay fall back to snapping and cut that
    corner of ``b`` (a 45 m² sliver along a 7 km demo edge); a second pass removes it.
    (Snapping ``a`` to ``b`` first was worse: it inserts ``b``'s vertices into ``a``'s
    segments, bending edges ``a`` shares with its own neighbours.)"""
    out = _difference(a, b)
    for _ in range(passes - 1):
        if out.is_empty or area_m2(shapely.intersection(out, b))[0] < NOISE_M2 / 10:
            break
        out = _difference(out, b)
    return out


def _difference(a: shapely.Geometry, b: shapely.Geometry) -> shapely.MultiPolygon:
    """``a`` less ``b``, polygonal, exactly along ``b``'s edges (see ``_exact``)."""
    try:
        diff = shapely.difference(a, b)
    except shapely.errors.GEOSException:
        diff = shapely.difference(shapely.make_valid(a), shapely.make_valid(b))
    return _exact(diff)


def _exact(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """Polygonal parts, RFC 7946 rings, parts under ``NOISE_M2`` dropped.

    Why not on the stored grid (``grid_size=GRID``): snap-rounding bends a neighbour's long
    straight edge through the rounded crossing points, so the clipped unit strayed over it
    again by up to half a grid cell along the whole edge (55 m² on a 10 km demo edge).
    Exact overlays follow the neighbour's edges; only the crossing points are off the grid,
    and they lie on a stored edge."""
    parts = shapely.get_parts(as_multipolygon(geom))
    if len(parts):
        parts = parts[area_m2(parts) >= NOISE_M2]
    out = shapely.MultiPolygon(list(parts)) if len(parts) else shapely.MultiPolygon()
    return shapely.orient_polygons(out, exterior_cw=False)


def _close_border_gaps(
    geoms: np.ndarray, stored: np.ndarray, stored_codes: list[str],
    codes: list[str], max_width_m: float, out: Fit,
) -> None:  # fmt: skip
    """Holes of the union of the file's units and their stored neighbours that touch a
    file unit: narrow ones to the file unit sharing the longest edge, wide ones reported."""
    if not len(stored):
        return
    layer = np.concatenate([geoms, stored])
    try:
        merged = shapely.union_all(layer)
    except shapely.errors.GEOSException:
        merged = shapely.union_all(shapely.make_valid(layer))
    rings = [r for p in shapely.get_parts(merged) if p.geom_type == "Polygon" for r in p.interiors]
    if not rings:
        return
    holes = shapely.polygons(np.array(rings, dtype=object))
    areas = area_m2(holes)
    lat = shapely.get_y(shapely.centroid(holes))
    length = shapely.length(holes) * M_PER_DEG * np.sqrt((1 + np.cos(np.radians(lat)) ** 2) / 2)
    width = 2 * areas / np.maximum(length, 1e-9)
    owner = coverage.shared_edge_owner(geoms, holes)
    names = [*codes, *stored_codes]
    gifts: dict[int, list[int]] = {}
    tree = shapely.STRtree(layer)
    for h in range(len(holes)):
        near = tree.query(holes[h], predicate="intersects")
        ours = [int(u) for u in near if u < len(geoms)]
        if not ours or all(u < len(geoms) for u in near):
            continue  # not along a stored neighbour: the file's own gaps were done before
        o = int(owner[h]) if owner[h] >= 0 else ours[0]
        if width[h] > max_width_m:
            p = shapely.point_on_surface(holes[h])
            out.gaps_left.append((float(areas[h]), p.x, p.y, sorted(names[u] for u in near)))
            continue
        gifts.setdefault(o, []).append(h)
        out.gaps_closed += 1
        out.gaps_closed_m2 += float(areas[h])
    for j, hs in gifts.items():
        parts = np.array([geoms[j], *holes[hs]], dtype=object)
        try:
            merged = shapely.union_all(parts)
        except shapely.errors.GEOSException:
            merged = shapely.union_all(shapely.make_valid(parts))
        geoms[j] = _exact(merged)
    out.gaps_left.sort(key=lambda g: -g[0])


def _neighbour_row(code: str, geom: shapely.Geometry, current: plan.Layer) -> plan.Unit:
    """A stored approximate unit, clipped: everything else as stored."""
    area_src, pop_src = current.sources.get(code, (None, None))
    return plan.Unit(
        code, "commune", current.name[code], current.kind[code], current.parent.get(code),
        geom, plan.label_for(geom, None, current.label.get(code)), current.source[code],
        current.area.get(code), area_src, current.population.get(code), pop_src,
        current.attributes.get(code), current.outline_kept.get(code, False),
        current.quality[code],
    )  # fmt: skip


def report_fit(result: Fit, report, tolerance_m2: float, gap_max_width_m: float,
               strict: bool) -> None:  # fmt: skip
    """Notes, warnings — or errors when ``strict`` — for what ``fit`` did."""
    if result.given_back_pairs:
        report.notes.append(
            f"{result.given_back_m2:,.0f} m² where the file overlapped stored official"
            f" neighbours ({result.given_back_pairs} border(s), each under"
            f" {tolerance_m2:,.0f} m²) left to them"
        )
    if result.neighbours:
        report.notes.append(
            f"{len(result.neighbours)} stored approximate unit(s) clipped by the file's units"
            f" ({result.taken_m2:,.0f} m²): {', '.join(u.code for u in result.neighbours[:20])}"
        )
    if result.kept_approx:
        report.warn(
            f"{len(result.kept_approx)} approximate unit(s) lie wholly under the file's units"
            f" and were kept: {', '.join(result.kept_approx[:20])}"
        )
    if result.gaps_closed:
        report.notes.append(
            f"{result.gaps_closed} gap(s) along the stored neighbours narrower than"
            f" {gap_max_width_m:g} m closed to the file's units ({result.gaps_closed_m2:,.0f} m²)"
        )
    for code in result.emptied:
        report.error(
            f"{code} lies wholly inside stored official units of other codes; import them"
            " together in one file or fix the file",
            code=code,
        )
    say = report.error if strict else report.warn
    for area, lon, lat, code, other in result.large[:SHOWN]:
        text_ = (
            f"{code} overlaps the stored official unit {other} by {area:,.0f} m² at lon"
            f" {lon:.5f}, lat {lat:.5f} (tolerance {tolerance_m2:,.0f} m²)"
        )
        if strict:
            report.error(text_ + "; refused (--strict-borders / strict_borders=true)", code=code)
        else:
            report.warn(text_ + f"; left to {other}", code=code)
    if len(result.large) > SHOWN:
        say(f"… and {len(result.large) - SHOWN} more overlaps beyond the tolerance")
    for area, lon, lat, near in result.gaps_left[:SHOWN]:
        report.warn(
            f"gap of {area:,.0f} m² at lon {lon:.5f}, lat {lat:.5f} between"
            f" {', '.join(near[:6])} and stored neighbours kept (wider than"
            f" {gap_max_width_m:g} m)"
        )
