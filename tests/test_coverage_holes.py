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
