"""Generated, approximate commune geometry for the demo: no boundary data is copied.

Why: the service needs polygons for Vietnam's 3,321 post-2025 communes, but we must never ship
real boundaries taken from elsewhere. Everything here is derived only from what the MIT-licensed
``vietnamadminunits`` package publishes: official centroids and areas of the new units and the
bounding boxes of the 10,040 pre-2025 wards.

Method (all in an equal-area metric CRS, kilometres):

1. *Outline*: union of the legacy ward bboxes (geocoder fallbacks dropped, big boxes cut down to
   BOX_CAP_KM2 around the ward centroid, only land near the given units kept) and of one
   area-sized disk per official unit, smoothed by a morphological close/open, holes filled, then
   eroded so that its area matches the sum of the official areas. The disks guarantee that every
   centroid (offshore special zones such as Hoàng Sa or Trường Sa too) lies well inside it.
2. *Cells*: a power (weighted Voronoi) diagram of the centroids, computed as the lower convex
   hull of the lifted points, clipped to the outline. Weights are fitted by damped Newton steps
   so that cell areas approach the official areas; each step is shrunk per site so that
   ``|w_i - w_j| <= (1 - MARGIN) * d_ij**2``, which keeps every generator strictly inside its
   cell (if anything still fails, plain Voronoi cells, which always contain their generator,
   are used instead).
3. *Coverage*: the diagram's edges and the outline are transformed to EPSG:4326, snap-rounded to a
   1e-6 degree grid and noded together, then polygonised. Neighbours therefore share identical
   vertices (a valid polygonal coverage) exactly at the 6-decimal precision we publish. Pieces of
   a cell cut off from its generator (across a bay, say) go to the neighbour they share the
   longest edge with, so communes stay compact.

Why one module of ~600 lines: it is one pipeline whose three steps share the metric CRS,
its transformers and the tolerances above, and only ``build_demo_geometries`` and
``province_geometries`` are used outside it (by ``geo.demo.loader``, which caches the
result keyed by this file's bytes). Split by step, each part would import the others'
private helpers and the cache key would have to list every part.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve
from scipy.spatial import ConvexHull, cKDTree
from shapely.geometry.base import BaseGeometry

from geo.official import official_commune_frame

METRIC_CRS = "+proj=laea +lat_0=16 +lon_0=106 +x_0=0 +y_0=0 +ellps=WGS84 +units=km +no_defs"
GRID_DEG = 1e-6  # publish precision: 6 decimals (~0.1 m)
KINDS = ("Xã", "Phường", "Đặc khu")

BOX_CAP_KM2 = 300.0  # legacy bboxes are cut to a square this size around the ward centroid
CLOSE_KM = 3.0
OPEN_KM = 1.5
OUTLINE_SIMPLIFY_KM = 0.15
MIN_DISK_KM = 0.6  # every centroid is at least this far inside the outline
MIN_PART_KM2 = 0.5  # outline parts smaller than this (and holding no centroid) are dropped
TILE_KM = 25.0
ERODE_STEPS = 10
NEAR_KM = 15.0  # legacy bbox land farther than this from every unit disk is ignored

MARGIN = 0.2  # cell edges stay >= MARGIN/4 of the neighbour distance away from a generator
FIT_ITERATIONS = 15
KNN_PAIRS = 12
DIAG_FLOOR = 0.3  # dA/dw of a typical interior cell is ~1.7, whatever its size
RING_KM = 20_000.0  # far dummy sites that bound every real cell


# --------------------------------------------------------------------------- official data


def _legacy_bounds() -> pd.DataFrame:
    """Legacy ward bboxes (lat0, lon0, lat1, lon1) and centroids, without geocoder fallbacks."""
    from vietnamadminunits.database import query

    rows = query(
        "select wardBounds as b, districtBounds as d, wardLat as lat, wardLon as lon "
        "from admin_units_legacy"
    )
    df = pd.DataFrame(rows)
    counts = df["b"].value_counts()
    # A bbox shared by several wards, or equal to the district's, is a geocoder fallback
    # (e.g. Trường Sa's points at mainland Khánh Hòa).
    keep = df["b"].notna() & (df["b"].map(counts) == 1) & (df["b"] != df["d"])
    df = df.loc[keep].reset_index(drop=True)
    bounds = parse_bounds(df["b"])
    bounds["lat"] = pd.to_numeric(df["lat"], errors="coerce").to_numpy()
    bounds["lon"] = pd.to_numeric(df["lon"], errors="coerce").to_numpy()
    return bounds.dropna().reset_index(drop=True)


def parse_bounds(text: pd.Series) -> pd.DataFrame:
    """Parse 'lat,lon – lat,lon' strings, the package's bbox format, into four float columns."""
    corners = text.str.split("–", n=1, expand=True)
    lo = corners[0].str.split(",", expand=True).astype(float)
    hi = corners[1].str.split(",", expand=True).astype(float)
    return pd.DataFrame(
        {
            "lat0": np.minimum(lo[0], hi[0]).to_numpy(),
            "lon0": np.minimum(lo[1], hi[1]).to_numpy(),
            "lat1": np.maximum(lo[0], hi[0]).to_numpy(),
            "lon1": np.maximum(lo[1], hi[1]).to_numpy(),
        }
    )


# --------------------------------------------------------------------------- projections


@functools.cache
def _transformer(inverse: bool) -> Transformer:
    """Cached pyproj transformer between EPSG:4326 and the metric CRS."""
    src, dst = ("EPSG:4326", METRIC_CRS) if not inverse else (METRIC_CRS, "EPSG:4326")
    return Transformer.from_crs(src, dst, always_xy=True)


def _to_metric_xy(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Project lon/lat arrays to metric km coordinates (n, 2)."""
    x, y = _transformer(False).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.column_stack([x, y])


def _to_lonlat(geom):
    """Transform metric geometries (scalar or array) to EPSG:4326."""
    tr = _transformer(True)
    return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


def _to_metric(geom):
    """Transform EPSG:4326 geometries (scalar or array) to the metric CRS."""
    tr = _transformer(False)
    return shapely.transform(geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))


# --------------------------------------------------------------------------- outline


def _target_areas(units: pd.DataFrame) -> np.ndarray:
    """Official areas in km², with missing/zero ones replaced by a typical small value."""
    area = units["area_km2"].astype(float).where(units["area_km2"] > 0)
    by_prov_kind = area.groupby([units["province_code"], units["kind"]]).transform("median")
    by_kind = area.groupby(units["kind"]).transform("median")
    filled = area.fillna(by_prov_kind).fillna(by_kind).fillna(area.median()).fillna(10.0)
    return filled.to_numpy(dtype=float)


def _legacy_boxes_metric() -> np.ndarray:
    """Legacy ward bboxes as metric quadrilaterals, big ones cut down around the ward centroid.

    Why: bboxes of island or coastal wards span a lot of sea; a ward far larger than
    BOX_CAP_KM2 is rare, and the official-area disks cover the land such a cut may lose.
    """
    b = _legacy_bounds()
    lons = np.column_stack([b.lon0, b.lon1, b.lon1, b.lon0])
    lats = np.column_stack([b.lat0, b.lat0, b.lat1, b.lat1])
    x, y = _transformer(False).transform(lons, lats)
    boxes = shapely.polygons(np.stack([x, y], axis=-1))
    big = shapely.area(boxes) > BOX_CAP_KM2
    centre = _to_metric_xy(b.lon.to_numpy()[big], b.lat.to_numpy()[big])
    half = np.sqrt(BOX_CAP_KM2) / 2
    caps = shapely.box(*(centre - half).T, *(centre + half).T)
    boxes[big] = shapely.intersection(boxes[big], caps)
    return boxes[~shapely.is_empty(boxes) & (shapely.area(boxes) > 0)]


def _fill_holes(geom: BaseGeometry, min_part_km2: float, keep: np.ndarray) -> BaseGeometry:
    """Drop holes and tiny parts (unless they hold a point in ``keep``) of a polygonal geom."""
    parts = shapely.get_parts(geom)
    shells = shapely.polygons(shapely.get_exterior_ring(parts))
    big = shapely.area(shells) >= min_part_km2
    if len(keep):
        tree = shapely.STRtree(shells)
        big[np.unique(tree.query(keep, predicate="within")[1])] = True
    return shapely.union_all(shells[big])


def _disks(xy: np.ndarray, area_km2: np.ndarray) -> np.ndarray:
    """One disk of the given area around each point (at least MIN_DISK_KM in radius)."""
    radius = np.maximum(np.sqrt(area_km2 / np.pi), MIN_DISK_KM)
    return shapely.buffer(shapely.points(xy), radius, quad_segs=8)


def _smooth(geom: BaseGeometry) -> BaseGeometry:
    """Morphological close then open: fills notches and drops spikes narrower than 2*OPEN_KM."""
    geom = geom.buffer(CLOSE_KM, quad_segs=4).buffer(-CLOSE_KM, quad_segs=4)
    return geom.buffer(-OPEN_KM, quad_segs=4).buffer(OPEN_KM, quad_segs=4)


def _erode_to_area(land: BaseGeometry, disks: BaseGeometry, target_km2: float) -> BaseGeometry:
    """Erode the land (keeping the disks) until the smoothed union has about the target area.

    Why: bboxes over-cover coasts and borders; cells can only match official areas on average
    if the outline's total area matches theirs.
    """

    def shape_at(d: float) -> BaseGeometry:
        eroded = land.buffer(-d, quad_segs=4) if d > 0 else land
        return shapely.union(_smooth(shapely.union(eroded, disks)), disks)

    if shape_at(0.0).area <= target_km2:
        return shape_at(0.0)
    lo, hi = 0.0, 1.0
    while shape_at(hi).area > target_km2 and hi < 64:
        lo, hi = hi, hi * 2
    for _ in range(ERODE_STEPS):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if shape_at(mid).area > target_km2 else (lo, mid)
    return shape_at((lo + hi) / 2)


@functools.cache
def _legacy_land() -> BaseGeometry:
    """Union of the legacy bboxes (metric), cached because it never depends on the units."""
    return shapely.union_all(_legacy_boxes_metric())


def _outline_metric(xy: np.ndarray, area_km2: np.ndarray) -> BaseGeometry:
    """Approximate land outline (metric) that contains every centroid with a margin."""
    disks = shapely.union_all(_disks(xy, area_km2))
    points = shapely.points(xy)
    near = shapely.buffer(disks, NEAR_KM, quad_segs=4)  # only land near these units' centroids
    land = _smooth(shapely.union(shapely.intersection(_legacy_land(), near), disks))
    land = _fill_holes(land, MIN_PART_KM2, points).simplify(OUTLINE_SIMPLIFY_KM)
    land = _erode_to_area(land, disks, float(area_km2.sum()))
    land = shapely.make_valid(land.simplify(OUTLINE_SIMPLIFY_KM / 3))
    return _fill_holes(_polygonal(shapely.union(land, disks)), MIN_PART_KM2, points)


@functools.lru_cache(maxsize=4)
def _cached_outline(xy_bytes: bytes, area_bytes: bytes) -> BaseGeometry:
    """Outline memo: national_outline() and build_demo_geometries() share the seconds it takes."""
    xy = np.frombuffer(xy_bytes, dtype=float).reshape(-1, 2)
    return _outline_metric(xy, np.frombuffer(area_bytes, dtype=float))


def _outline_for(xy: np.ndarray, area_km2: np.ndarray) -> BaseGeometry:
    """The (memoised) metric outline for these centroids and target areas."""
    xy = np.ascontiguousarray(xy, dtype=float)
    return _cached_outline(xy.tobytes(), np.ascontiguousarray(area_km2, dtype=float).tobytes())


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal parts of a geometry (make_valid may add lines)."""
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    return shapely.union_all(parts)


def national_outline() -> shapely.MultiPolygon:
    """Approximate, generated land outline of Vietnam (EPSG:4326) used to clip demo cells."""
    units = official_commune_frame()
    xy = _to_metric_xy(units["lon"], units["lat"])
    outline = _to_lonlat(_outline_for(xy, _target_areas(units)))
    outline = shapely.set_precision(outline, GRID_DEG)
    return _as_multipolygon(shapely.orient_polygons(outline))


# --------------------------------------------------------------------------- power diagram


@dataclass
class _Diagram:
    """A power diagram: triangles of the regular triangulation and their power centres."""

    n: int  # real sites; ids >= n are dummy ring sites
    triangles: np.ndarray  # (m, 3) site ids
    centres: np.ndarray  # (m, 2) power centre of each triangle (a cell vertex)


def _power_diagram(xy: np.ndarray, w: np.ndarray) -> _Diagram:
    """Regular triangulation via the lower hull of lifted points |p|² - w (exact duality)."""
    n = len(xy)
    origin = xy.mean(axis=0)
    angles = np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
    ring = RING_KM * np.column_stack([np.cos(angles), np.sin(angles)])
    pts = np.vstack([xy - origin, ring])
    ww = np.concatenate([w, np.full(len(ring), float(np.min(w)))])
    lifted = np.column_stack([pts, (pts**2).sum(axis=1) - ww])
    hull = ConvexHull(lifted)
    tri = hull.simplices[hull.equations[:, 2] < -1e-12]
    return _Diagram(n, tri, _power_centres(pts, ww, tri) + origin)


def _power_centres(pts: np.ndarray, w: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Point of equal power distance to the three sites of each triangle."""
    a, b, c = (pts[tri[:, k]] for k in range(3))
    wa, wb, wc = (w[tri[:, k]] for k in range(3))
    m = np.stack([2 * (b - a), 2 * (c - a)], axis=1)
    rhs = np.column_stack(
        [
            (b**2).sum(1) - (a**2).sum(1) - wb + wa,
            (c**2).sum(1) - (a**2).sum(1) - wc + wa,
        ]
    )
    return np.linalg.solve(m, rhs[..., None])[..., 0]


def _cells(diagram: _Diagram) -> np.ndarray:
    """Unclipped convex power cells of the real sites (ordered vertex rings)."""
    site = diagram.triangles.ravel()
    vert = np.repeat(np.arange(len(diagram.triangles)), 3)
    real = site < diagram.n
    site, vert = site[real], vert[real]
    if len(np.unique(site)) != diagram.n:
        raise ValueError("a site has an empty power cell (weights too far apart)")
    coords = diagram.centres[vert]
    count = np.bincount(site, minlength=diagram.n)
    mean = np.column_stack([np.bincount(site, coords[:, k], diagram.n) / count for k in range(2)])
    rel = coords - mean[site]
    order = np.lexsort((np.arctan2(rel[:, 1], rel[:, 0]), site))
    rings = shapely.linearrings(coords[order], indices=site[order])
    return shapely.polygons(rings)


def _dual_edges(diagram: _Diagram) -> tuple[np.ndarray, np.ndarray]:
    """Site pairs (k, 2) and their shared cell edge as a (k, 2, 2) segment array."""
    tri = diagram.triangles
    edges = np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1)
    owner = np.tile(np.arange(len(tri)), 3)
    key = edges[:, 0].astype(np.int64) * (diagram.n + 1000) + edges[:, 1]
    order = np.argsort(key, kind="stable")
    key, edges, owner = key[order], edges[order], owner[order]
    same = np.flatnonzero(key[1:] == key[:-1])
    pairs = edges[same]
    seg = np.stack([diagram.centres[owner[same]], diagram.centres[owner[same + 1]]], axis=1)
    return pairs, seg


class _Tiles:
    """The outline cut into grid tiles so that clipping many small shapes stays fast."""

    def __init__(self, outline: BaseGeometry) -> None:
        x0, y0, x1, y1 = outline.bounds
        xs = np.arange(np.floor(x0 / TILE_KM), np.ceil(x1 / TILE_KM) + 1) * TILE_KM
        ys = np.arange(np.floor(y0 / TILE_KM), np.ceil(y1 / TILE_KM) + 1) * TILE_KM
        gx, gy = np.meshgrid(xs[:-1], ys[:-1])
        squares = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + TILE_KM, gy.ravel() + TILE_KM)
        shapely.prepare(outline)
        squares = squares[shapely.intersects(outline, squares)]
        pieces = shapely.intersection(squares, outline)
        self.outline = outline
        self.pieces = pieces[~shapely.is_empty(pieces)]
        self.tree = shapely.STRtree(self.pieces)

    def clipped_measure(self, geoms: np.ndarray, measure) -> np.ndarray:
        """Sum of ``measure`` (area or length) of each geometry's intersection with the outline."""
        out = np.zeros(len(geoms))
        inside = shapely.contains_properly(self.outline, geoms)
        out[inside] = measure(geoms[inside])
        rest = np.flatnonzero(~inside)
        g, t = self.tree.query(geoms[rest], predicate="intersects")
        vals = measure(shapely.intersection(geoms[rest][g], self.pieces[t]))
        out[rest] = np.bincount(g, vals, minlength=len(rest))
        return out


# --------------------------------------------------------------------------- weight fitting


def _neighbour_pairs(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearby site pairs (i < j) and their squared distances, for the containment constraint."""
    k = min(KNN_PAIRS + 1, len(xy))
    _, idx = cKDTree(xy).query(xy, k=k)
    i = np.repeat(np.arange(len(xy)), k - 1)
    j = idx[:, 1:].ravel()
    pairs = np.unique(np.sort(np.column_stack([i, j]), axis=1), axis=0)
    d2 = ((xy[pairs[:, 0]] - xy[pairs[:, 1]]) ** 2).sum(axis=1)
    return pairs, d2


def _most_threatening(xy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """For every site, the other site with the least power distance at its generator."""
    lift = np.sqrt(np.max(w) - w + 1e-9)
    tree = cKDTree(np.column_stack([xy, lift]))
    _, idx = tree.query(np.column_stack([xy, np.zeros(len(xy))]), k=2)
    own = idx[:, 0] == np.arange(len(xy))
    return np.where(own, idx[:, 1], idx[:, 0])


def _weights_ok(xy: np.ndarray, w: np.ndarray) -> bool:
    """True when every generator is strictly (with margin) inside its own power cell."""
    j = _most_threatening(xy, w)
    d2 = ((xy - xy[j]) ** 2).sum(axis=1)
    return bool(np.all(w[j] - w <= (1.0 - MARGIN / 2) * d2))


def _clamp_step(
    xy: np.ndarray, w: np.ndarray, dw: np.ndarray, pairs: np.ndarray, d2: np.ndarray
) -> np.ndarray:
    """Shrink the step per site until |w_i - w_j| <= (1-MARGIN) d_ij² holds (or did before).

    Why: a power cell may lose its own generator when weights differ too much; the clamp keeps
    every generator inside its cell, starting from feasible weights (zero = Voronoi).
    """
    scale = np.ones(len(w))
    for _ in range(30):
        new = w + scale * dw
        i, j = pairs[:, 0], pairs[:, 1]
        allowed = np.maximum((1.0 - MARGIN) * d2, np.abs(w[j] - w[i]))
        bad = np.abs(new[j] - new[i]) > allowed
        if not bad.any():
            if _weights_ok(xy, new):
                return new
            threat = _most_threatening(xy, new)
            extra = np.sort(np.column_stack([np.arange(len(xy)), threat]), axis=1)
            pairs = np.unique(np.vstack([pairs, extra]), axis=0)
            d2 = ((xy[pairs[:, 0]] - xy[pairs[:, 1]]) ** 2).sum(axis=1)
            continue
        scale[np.unique(np.r_[i[bad], j[bad]])] *= 0.5
    return w


def _areas_and_gradient(
    xy: np.ndarray, w: np.ndarray, tiles: _Tiles
) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Clipped cell areas and the Jacobian dA/dw (a weighted graph Laplacian)."""
    diagram = _power_diagram(xy, w)
    areas = tiles.clipped_measure(_cells(diagram), shapely.area)
    pairs, seg = _dual_edges(diagram)
    real = (pairs < diagram.n).all(axis=1)
    pairs, seg = pairs[real], seg[real]
    length = tiles.clipped_measure(shapely.linestrings(seg), shapely.length)
    dist = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1)
    g = length / (2.0 * dist)
    keep = g > 0
    i, j, g = pairs[keep, 0], pairs[keep, 1], g[keep]
    n = len(xy)
    off = sparse.coo_matrix((np.r_[-g, -g], (np.r_[i, j], np.r_[j, i])), shape=(n, n))
    lap = off.tocsr() + sparse.diags(np.bincount(np.r_[i, j], np.r_[g, g], n))
    return areas, lap.tocsr()


def _scaled_targets(target: np.ndarray, areas: np.ndarray, lap: sparse.csr_matrix) -> np.ndarray:
    """Targets rescaled so each connected group of cells keeps the area it can actually fill."""
    _, comp = connected_components(lap, directed=False)
    have = np.bincount(comp, areas)
    want = np.bincount(comp, target)
    return target * (have / np.where(want > 0, want, 1.0))[comp]


def _area_error(areas: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute log area ratio: the quantity the weight fit minimises."""
    return float(np.mean(np.abs(np.log(np.maximum(areas, 1e-9) / target))))


def fit_power_weights(
    xy: np.ndarray, target_km2: np.ndarray, outline: BaseGeometry, iterations: int = FIT_ITERATIONS
) -> np.ndarray:
    """Power weights whose clipped cells approach the target areas (0 weights = Voronoi).

    Why: plain Voronoi cells follow centroid spacing, not the official areas; damped
    (Levenberg-Marquardt) Newton steps on the weights fix most of that.
    """
    w = np.zeros(len(xy))
    if len(xy) < 2:
        return w
    tiles = _Tiles(outline)
    pairs, d2 = _neighbour_pairs(xy)
    areas, lap = _areas_and_gradient(xy, w, tiles)
    best = (w, areas, lap, _area_error(areas, _scaled_targets(target_km2, areas, lap)))
    damping = 1.0
    for _ in range(iterations):
        w, areas, lap, err = best
        target = _scaled_targets(target_km2, areas, lap)
        diag = np.maximum(lap.diagonal(), DIAG_FLOOR)
        system = (lap + sparse.diags(damping * diag)).tocsc()
        w = _clamp_step(xy, w, spsolve(system, target - areas), pairs, d2)
        areas, lap = _areas_and_gradient(xy, w, tiles)
        new_err = _area_error(areas, _scaled_targets(target_km2, areas, lap))
        if new_err < err:
            best = (w, areas, lap, new_err)
            damping = max(damping * 0.5, 1e-3)
        else:
            damping *= 4.0
    return best[0]


# --------------------------------------------------------------------------- coverage


def _linework(diagram: _Diagram, outline: BaseGeometry, tiles: _Tiles) -> np.ndarray:
    """Cell edges that reach the outline, plus the outline boundary (metric)."""
    _, seg = _dual_edges(diagram)
    lines = shapely.linestrings(seg)
    lines = lines[np.unique(tiles.tree.query(lines, predicate="intersects")[0])]
    # hull cells reach far-off vertices the inverse projection cannot map: cut them short
    x0, y0, x1, y1 = shapely.buffer(shapely.envelope(outline), 10 * TILE_KM).bounds
    lines = shapely.clip_by_rect(lines, x0, y0, x1, y1)
    return np.concatenate([lines, shapely.get_parts(shapely.boundary(outline))])


def _faces(lines_metric: np.ndarray) -> np.ndarray:
    """Snap-round the linework to the publish grid in EPSG:4326 and polygonise it."""
    lines = _to_lonlat(lines_metric)
    noded = shapely.union_all(lines, grid_size=GRID_DEG)
    return shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))


def _power_owner(xy: np.ndarray, w: np.ndarray, points_metric: np.ndarray) -> np.ndarray:
    """Index of the site whose power cell contains each query point."""
    lift = np.sqrt(np.max(w) - w + 1e-9)
    tree = cKDTree(np.column_stack([xy, lift]))
    coords = shapely.get_coordinates(points_metric)
    return tree.query(np.column_stack([coords, np.zeros(len(coords))]))[1]


def _assign_faces(
    faces: np.ndarray, xy: np.ndarray, w: np.ndarray, outline: BaseGeometry, gen_ll: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Faces inside the outline and their owning site (exclaves handed to a neighbour)."""
    probe = _to_metric(shapely.point_on_surface(faces))
    shapely.prepare(outline)
    inside = shapely.contains(outline, probe)
    faces, probe = faces[inside], probe[inside]
    owner = _power_owner(xy, w, probe)
    home = np.full(len(faces), -1)
    f_idx, g_idx = shapely.STRtree(gen_ll).query(faces, predicate="contains_properly")
    home[f_idx] = g_idx
    return faces, _merge_exclaves(faces, owner, home)


def _merge_exclaves(faces: np.ndarray, owner: np.ndarray, home: np.ndarray) -> np.ndarray:
    """Give each face without its generator to the settled neighbour with the longest edge."""
    owner = owner.copy()
    settled = (home >= 0) & (home == owner)
    tree = shapely.STRtree(faces)
    a, b = tree.query(faces, predicate="touches")
    shared = shapely.length(
        shapely.intersection(shapely.boundary(faces[a]), shapely.boundary(faces[b]))
    )
    a, b, shared = a[shared > 0], b[shared > 0], shared[shared > 0]
    while True:
        cand = ~settled[a] & settled[b]
        if not cand.any():
            break
        best = pd.DataFrame({"a": a[cand], "o": owner[b[cand]], "len": shared[cand]})
        best = best.groupby(["a", "o"], sort=True)["len"].sum().reset_index()
        best = best.sort_values(["a", "len", "o"], ascending=[True, False, True])
        best = best.drop_duplicates("a")
        owner[best["a"].to_numpy()] = best["o"].to_numpy()
        settled[best["a"].to_numpy()] = True
    return owner


def _dissolve(faces: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Union the faces of every site (they share exact edges, so coverage union is exact)."""
    out = np.empty(n, dtype=object)
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(n + 1))
    for k in range(n):
        group = faces[order[bounds[k] : bounds[k + 1]]]
        out[k] = shapely.coverage_union_all(group) if len(group) else shapely.Polygon()
    return out


def _as_multipolygon(geom: BaseGeometry) -> shapely.MultiPolygon:
    """Wrap a polygonal geometry as a MultiPolygon (RFC 7946 consumers expect one type)."""
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom]) if not geom.is_empty else shapely.MultiPolygon()
    return shapely.MultiPolygon(list(shapely.get_parts(_polygonal(geom))))


def _coverage(
    xy: np.ndarray, w: np.ndarray, outline: BaseGeometry, gen_ll: np.ndarray
) -> np.ndarray:
    """Commune polygons (EPSG:4326, 1e-6 grid) forming an edge-matched coverage."""
    tiles = _Tiles(outline)
    faces = _faces(_linework(_power_diagram(xy, w), outline, tiles))
    faces, owner = _assign_faces(faces, xy, w, outline, gen_ll)
    geoms = _dissolve(faces, owner, len(xy))
    return np.array([_as_multipolygon(g) for g in shapely.orient_polygons(geoms)], dtype=object)


def _contains_generators(geoms: np.ndarray, gen_ll: np.ndarray) -> np.ndarray:
    """Which communes strictly contain their own official centroid."""
    return shapely.contains_properly(geoms, gen_ll) & shapely.is_valid(geoms)


def build_demo_geometries(units: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Generate one plausible, non-overlapping MultiPolygon per commune from public data only."""
    units = official_commune_frame() if units is None else units.reset_index(drop=True)
    xy = _to_metric_xy(units["lon"].to_numpy(), units["lat"].to_numpy())
    if len(np.unique(np.round(xy, 6), axis=0)) != len(xy):
        raise ValueError("two units share a centroid; cells would be undefined")
    target = _target_areas(units)
    outline = _outline_for(xy, target)
    gen_ll = shapely.points(units["lon"].to_numpy(float), units["lat"].to_numpy(float))
    w = fit_power_weights(xy, target, outline)
    geoms = _coverage(xy, w, outline, gen_ll)
    if not _contains_generators(geoms, gen_ll).all():
        geoms = _coverage(xy, np.zeros(len(xy)), outline, gen_ll)  # Voronoi fallback
    lost = ~_contains_generators(geoms, gen_ll)
    if lost.any():
        codes = ", ".join(units.loc[lost, "code"].astype(str).head(10))
        raise RuntimeError(f"generated cells miss their own centroid: {codes}")
    return gpd.GeoDataFrame(
        {
            "code": units["code"].astype(str).to_numpy(),
            "province_code": units["province_code"].astype(str).to_numpy(),
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
    )


def _exact_union(geoms: np.ndarray) -> BaseGeometry:
    """Coverage union (fast, keeps shared vertices); full overlay if the input is no coverage."""
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms)


def province_geometries(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dissolve communes into provinces exactly (coverage union keeps the shared vertices)."""
    rows = []
    for code, group in communes.groupby("province_code", sort=True):
        union = _exact_union(group.geometry.to_numpy())
        rows.append((code, _as_multipolygon(shapely.orient_polygons(union))))
    codes, geoms = zip(*rows, strict=True) if rows else ((), ())
    return gpd.GeoDataFrame(
        {"province_code": list(codes)}, geometry=list(geoms), crs=communes.crs or "EPSG:4326"
    )
