"""The holes of a boundary layer are found in groups (a whole-country union is slow):
grouping must find exactly the holes the whole union has — inside a group, between
groups, and with an island lying in a lake left out of the lake."""

from __future__ import annotations

import numpy as np
import shapely

from geo.ingest import coverage

CELL = 0.01  # degrees


def _layer() -> np.ndarray:
    """A 24 × 24 grid of communes; some cells shrink to leave sliver gaps (inside what
    will be one group and on the lines between groups); one cell is a lake with an island
    commune in it. Noded by ``coverage_clean`` first, as the import does."""
    cells = []
    for i in range(24):
        for j in range(24):
            x, y = 105 + i * CELL, 20 + j * CELL
            if (i, j) == (11, 11):  # the lake: a ring of commune with an island inside
                outer = shapely.box(x, y, x + CELL, y + CELL)
                lake = shapely.box(x + 0.002, y + 0.002, x + 0.008, y + 0.008)
                cells.append(outer.difference(lake))
                cells.append(shapely.box(x + 0.004, y + 0.004, x + 0.006, y + 0.006))
                continue
            shrink = 0.0001 if (i * 7 + j * 3) % 11 == 0 else 0.0
            cells.append(shapely.box(x, y, x + CELL - shrink, y + CELL))
    noded = shapely.coverage_clean(np.array(cells, dtype=object))  # as the import does
    return np.array([shapely.MultiPolygon(shapely.get_parts(c)) for c in noded], dtype=object)


def _areas(holes: np.ndarray) -> list[int]:
    return sorted(np.round(shapely.area(holes) * 1e12).astype(int).tolist())


def test_grouped_holes_equal_the_whole_unions_holes() -> None:
    layer = _layer()
    whole = coverage.layer_holes(layer, group_size=10**9)
    assert len(coverage._compact_groups(layer, 40)) > 10  # groups really are used
    grouped = coverage.layer_holes(layer, group_size=40)
    assert len(whole) > 20
    assert _areas(grouped) == _areas(whole)
    # the lake (36e-6 deg²) minus its island (4e-6 deg²) is one hole of 32e-6 deg²
    lake = [h for h in grouped if shapely.area(h) > 1e-5]
    assert len(lake) == 1 and abs(shapely.area(lake[0]) - 32e-6) < 1e-9
    # no hole overlaps a commune
    assert not shapely.intersects(
        shapely.union_all(layer), shapely.buffer(shapely.union_all(grouped), -1e-7)
    )


def test_cleaning_closes_the_same_gaps_grouped_or_not(monkeypatch) -> None:
    layer = _layer()
    codes = [f"{k:05d}" for k in range(len(layer))]
    _, one = coverage.clean(codes, layer)
    monkeypatch.setattr(coverage, "GROUP_SIZE", 40)
    _, grouped = coverage.clean(codes, layer)
    assert grouped.gaps_closed == one.gaps_closed > 20
    assert len(grouped.gaps_left) == len(one.gaps_left) == 1  # the lake is wider than 100 m


def _pt(x: float, y: float) -> tuple[float, float]:
    return (105.5 + x * 1e-6, 16.5 + y * 1e-6)  # micro-degrees: the stored grid's cells


def test_a_thin_gap_between_two_communes_is_closed_not_lost_in_snap_rounding() -> None:
    """Found on the whole country (issue 25: a 0.24 m² hole between two communes, kept by
    their province at every level): a gap that is a thin triangle of border noise joined
    to a longer sliver. Snap-rounded geometries kept GEOS's grid, so the union that finds
    gaps snapped the triangle away (it falls back to a full union when one vertex of
    another pair, once on the grid, sits on its neighbour's edge), the sliver alone was
    closed, and the triangle stayed a hole."""
    c, a, b, d = _pt(0, 0), _pt(30, -40), _pt(41, -56), _pt(1300, 1800)
    e, f = _pt(41, -1000), _pt(1300, 2800)
    west = shapely.Polygon([f, d, c, b, e, _pt(-2000, -1000), _pt(-2000, 2800)])
    east = shapely.Polygon([f, _pt(3000, 2800), _pt(3000, -1000), e, b, a, d])
    # elsewhere in the layer: a vertex 0.04 m off its neighbour's edge, on it once snapped
    north = shapely.Polygon([_pt(-1000, 5000), _pt(0, 5000), _pt(-0.4, 5500), _pt(0, 6000),
                             _pt(-1000, 6000)])  # fmt: skip
    north_east = shapely.Polygon([_pt(0, 5000), _pt(1000, 5000), _pt(1000, 6000), _pt(0, 6000)])
    layer = np.array([west, east, north, north_east], dtype=object)
    cleaned, stats = coverage.clean(["1", "2", "3", "4"], layer)
    assert stats.gaps_closed == 1
    assert coverage.layer_holes(shapely.from_wkb(shapely.to_wkb(cleaned))).size == 0
    merged = shapely.union_all(shapely.from_wkb(shapely.to_wkb(cleaned[:2])))
    assert [len(p.interiors) for p in shapely.get_parts(merged)] == [0]


def test_snapping_each_unit_alone_leaves_no_overlap() -> None:
    """Found on the whole country (two communes of Bắc Ninh overlapping by 4 m² after a
    clean import): snap-rounding a unit alone bends its shared edge through its own vertex
    a grid cell away (here the tip of a notch), which the neighbour does not have."""
    edge = [(0, 0), (21.649, -1.339), (28.992, -2.036), (38.466, 2.82), (40, 0)]
    tip = (20.482, -1.118)
    top = [_pt(40, 20), _pt(21.482, 20), _pt(*tip), _pt(19.482, 20), _pt(0, 20)]
    north = shapely.Polygon([_pt(*p) for p in edge] + top)
    south = shapely.Polygon([_pt(*p) for p in edge[::-1]] + [_pt(0, -20), _pt(40, -20)])
    layer = np.array([north, south], dtype=object)
    assert shapely.coverage_is_valid(layer)
    cleaned, _ = coverage.clean(["1", "2"], layer)
    assert shapely.is_valid(cleaned).all()
    assert shapely.coverage_is_valid(cleaned)
    assert shapely.area(shapely.intersection(cleaned[0], cleaned[1])) == 0
