"""A national import spreads its geometry work over helper processes
(``geo.ingest.parallel``): the result must be the same as in one process, byte for byte,
and a helper that dies must cost time, never the import."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import shapely

from geo.ingest import coverage, coverage_split, parallel
from geo.ingest.repair import repair
from geo.ingest.topology import coverage_levels
from geo.levels import DEFAULT_LEVELS
from tests.test_coverage_holes import _layer


def _die_in_helper(x: int) -> int:
    """Kills the helper process it runs in; here it just answers."""
    if multiprocessing.parent_process() is not None:
        os._exit(3)
    return x * 2


def test_cleaning_with_a_helper_equals_cleaning_alone() -> None:
    layer = _layer()
    codes = [f"{k:05d}" for k in range(len(layer))]
    alone, one = coverage.clean(codes, layer)
    with parallel.Workers(1) as workers:
        assert workers.shares == 2
        helped, two = coverage.clean(codes, layer, workers=workers)
        levels = coverage_levels(helped, DEFAULT_LEVELS, workers=workers)
    assert shapely.to_wkb(helped).tolist() == shapely.to_wkb(alone).tolist()
    assert (two.gaps_closed, len(two.gaps_left), two.collapsed_parts) == (
        one.gaps_closed,
        len(one.gaps_left),
        one.collapsed_parts,
    )
    assert one.gaps_closed > 20
    inline = coverage_levels(alone, DEFAULT_LEVELS)
    for band in DEFAULT_LEVELS:
        assert shapely.to_wkb(levels[band]).tolist() == shapely.to_wkb(inline[band]).tolist()


def test_repair_with_a_helper_equals_repair_alone() -> None:
    bowtie = shapely.Polygon([(105, 20), (105.01, 20.01), (105.01, 20), (105, 20.01)])
    square = shapely.box(105.1, 20, 105.11, 20.01)
    geoms = np.array([bowtie, square, bowtie, None], dtype=object)
    alone = repair(geoms)
    with parallel.Workers(1) as workers:
        helped = repair(geoms, workers=workers)
    assert shapely.to_wkb(helped[0]).tolist() == shapely.to_wkb(alone[0]).tolist()
    assert helped[1:] == alone[1:]
    assert alone[1] == 2 and alone[2][3] is not None  # two bow-ties repaired, None dropped


def test_a_dead_helper_costs_time_not_the_result() -> None:
    with parallel.Workers(1) as workers:
        assert workers.map(_die_in_helper, [(1,), (2,), (3,)]) == [2, 4, 6]


def test_the_longest_shared_edge_takes_the_gap() -> None:
    """A sliver gap between a long side of one unit and the short side of two others goes
    to the long side (found by matching segments, as the intersection method does)."""
    left = shapely.box(0, 0, 1, 3)
    right_low = shapely.box(1.01, 0, 2, 1)
    right_high = shapely.box(1.01, 1, 2, 3)
    frame = shapely.box(-1, -1, 3, 4).difference(shapely.box(0, 0, 2, 3))  # closes the gap
    noded = shapely.coverage_clean(np.array([left, right_low, right_high, frame], dtype=object))
    units = np.array([shapely.MultiPolygon(shapely.get_parts(g)) for g in noded], dtype=object)
    holes = coverage.layer_holes(units)
    assert len(holes) == 1 and abs(shapely.area(holes[0]) - 0.03) < 1e-9
    owner = coverage.shared_edge_owner(units, holes)
    assert owner.tolist() == coverage._owner_by_intersection(units, holes).tolist()
    # the gap borders the left unit for 3, the right ones for 1 and 2, the frame for 0.02
    assert owner.tolist() == [0]


def test_a_layer_cleaned_in_two_halves_is_one_clean_coverage(monkeypatch) -> None:
    """Cut through the synthetic grid (gaps on and off the cut): each half is cleaned with
    its halo in its own process; the stitched layer is a valid coverage with the same
    gaps as one call."""
    layer = _layer()
    codes = [f"{k:05d}" for k in range(len(layer))]
    _, one = coverage.clean(codes, layer)
    monkeypatch.setattr(coverage_split, "SPLIT_MIN_UNITS", 100)
    with parallel.Workers(1) as workers:
        halves, two = coverage.clean(codes, layer, workers=workers)
    assert shapely.coverage_is_valid(halves)
    assert two.gaps_closed == one.gaps_closed > 20 and len(two.gaps_left) == 1


def test_halves_that_disagree_on_their_cut_fall_back_to_one_call(monkeypatch, caplog) -> None:
    """With no halo, two overlapping units on either side of the cut both keep the
    overlap: the check sees it and the layer is cleaned in one call."""
    row = np.array(
        [shapely.MultiPolygon([shapely.box(105 + i * 0.01, 20, 105.0105 + i * 0.01, 20.01)])
         for i in range(8)],
        dtype=object,
    )  # fmt: skip
    monkeypatch.setattr(coverage_split, "SPLIT_MIN_UNITS", 2)
    monkeypatch.setattr(coverage_split, "HALO_DEPTH", 0)
    distance = coverage_split.snapping_distance(row)
    with parallel.Workers(1) as workers, caplog.at_level("WARNING"):
        out = coverage_split.clean_layer(row, workers)
    assert "disagree" in caplog.text
    assert shapely.coverage_is_valid(out)
    expected = coverage_split.clean_all(row, distance)
    assert shapely.to_wkb(out).tolist() == shapely.to_wkb(expected).tolist()
