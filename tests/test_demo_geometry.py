"""Invariants of the generated demo geometry and of its simplified display levels.

Why: the database layer trusts these polygons (ST_Within, ST_Contains, ST_Union, ST_Overlaps);
if a commune misses its own centroid, overlaps a neighbour or a simplified map level opens gaps,
users see wrong lookups and torn maps. Pure Python: only the package's SQLite file, no PostGIS.
"""

from __future__ import annotations

import gzip
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.demo import geometry as dg
from geo.ingest.topology import coverage_levels
from geo.levels import DEFAULT_LEVELS
from geo.official import official_commune_frame

N_UNITS = 3321
N_PROVINCES = 34
OFFSHORE = ("Hoàng Sa", "Trường Sa")


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return official_commune_frame()


@pytest.fixture(scope="module")
def demo() -> dict[str, gpd.GeoDataFrame]:
    """The generator's layers as ``make demo`` and the test template load them: from the
    cache ``geo.demo.loader`` keys by the generator's and topology's source (so they are
    what this code builds; built here when missing), not built a second time (~10 s)."""
    from geo.demo.loader import demo_layers

    return demo_layers()


@pytest.fixture(scope="module")
def communes(demo: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    return demo["communes"]


@pytest.fixture(scope="module")
def provinces(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return dg.province_geometries(communes)


@pytest.fixture(scope="module")
def geoms(communes: gpd.GeoDataFrame) -> np.ndarray:
    return communes.geometry.to_numpy()


@pytest.fixture(scope="module")
def centroids(units: pd.DataFrame) -> np.ndarray:
    return shapely.points(units["lon"].to_numpy(float), units["lat"].to_numpy(float))


@pytest.fixture(scope="module")
def metric_area(geoms: np.ndarray) -> np.ndarray:
    return shapely.area(dg._to_metric(geoms))


@pytest.fixture(scope="module")
def levels(demo: dict[str, gpd.GeoDataFrame]) -> dict[str, np.ndarray]:
    """``coverage_levels`` of the communes, as the cache holds them (see ``demo``)."""
    return {band: demo[f"communes_{band}"].geometry.to_numpy() for band in DEFAULT_LEVELS}


def _median_rel_error(area: np.ndarray, official: np.ndarray) -> float:
    ok = official > 0
    return float(np.median(np.abs(area[ok] - official[ok]) / official[ok]))


def _exteriors_ccw(geoms: np.ndarray) -> bool:
    parts = shapely.get_parts(geoms)
    return bool(shapely.is_ccw(shapely.get_exterior_ring(parts)).all())


def _geojson_gzip_size(geoms: np.ndarray) -> int:
    """Size of a gzipped FeatureCollection written with 6-decimal coordinates."""
    features = [
        {"type": "Feature", "properties": {}, "geometry": json.loads(text, parse_float=_round6)}
        for text in shapely.to_geojson(geoms)
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    return len(gzip.compress(text.encode()))


def _round6(text: str) -> float:
    return round(float(text), 6)


# --------------------------------------------------------------------------- official data


def test_official_units_have_the_published_columns(units: pd.DataFrame) -> None:
    assert list(units.columns) == [
        "code",
        "province_code",
        "name",
        "kind",
        "lon",
        "lat",
        "area_km2",
    ]
    assert len(units) == N_UNITS and units["code"].is_unique
    assert units["code"].str.fullmatch(r"\d{5}").all()
    assert units["province_code"].str.fullmatch(r"\d{2}").all()
    assert units["province_code"].nunique() == N_PROVINCES
    assert set(units["kind"]) == set(dg.KINDS)
    assert (units["kind"] == "Đặc khu").sum() == 13


def test_parse_bounds_reads_the_en_dash_format() -> None:
    parsed = dg.parse_bounds(pd.Series(["21.040199,105.842293 – 21.053464,105.855959"]))
    expected = [21.040199, 105.842293, 21.053464, 105.855959]
    assert parsed.iloc[0][["lat0", "lon0", "lat1", "lon1"]].tolist() == expected


# --------------------------------------------------------------------------- communes


def test_one_valid_nonempty_multipolygon_per_commune(
    units: pd.DataFrame, communes: gpd.GeoDataFrame, geoms: np.ndarray
) -> None:
    assert list(communes["code"]) == list(units["code"])
    assert list(communes["province_code"]) == list(units["province_code"])
    assert communes.crs.to_epsg() == 4326
    assert all(isinstance(g, shapely.MultiPolygon) for g in geoms)
    assert not shapely.is_empty(geoms).any()
    assert shapely.is_valid(geoms).all()


def test_rings_follow_rfc7946_right_hand_rule(geoms: np.ndarray) -> None:
    assert _exteriors_ccw(geoms)
    assert shapely.equals_exact(shapely.orient_polygons(geoms), geoms, 0).all()  # holes CW


def test_coordinates_are_already_on_the_6_decimal_grid(geoms: np.ndarray) -> None:
    coords = shapely.get_coordinates(geoms)
    assert np.abs(coords * 1e6 - np.round(coords * 1e6)).max() < 1e-6


def test_communes_never_overlap(geoms: np.ndarray) -> None:
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    assert pair.sum() > N_UNITS  # neighbours do touch: it is a tiling, not scattered blobs
    overlap = shapely.area(shapely.intersection(geoms[left[pair]], geoms[right[pair]]))
    assert overlap.max() < 1e-12  # deg², i.e. below ~0.01 m²
    assert not shapely.overlaps(geoms[left[pair]], geoms[right[pair]]).any()


def test_communes_form_an_edge_matched_coverage(geoms: np.ndarray) -> None:
    assert shapely.coverage_is_valid(geoms)
    assert shapely.is_empty(shapely.coverage_invalid_edges(geoms)).all()


def test_each_commune_strictly_contains_its_official_centroid(
    geoms: np.ndarray, centroids: np.ndarray
) -> None:
    assert shapely.contains_properly(geoms, centroids).all()


def test_invariants_survive_writing_6_decimals(geoms: np.ndarray, centroids: np.ndarray) -> None:
    rounded = shapely.transform(geoms, lambda c: np.round(c, 6))
    assert shapely.is_valid(rounded).all()
    assert shapely.coverage_is_valid(rounded)
    assert shapely.contains_properly(rounded, centroids).all()


def test_every_special_zone_gets_a_polygon(
    units: pd.DataFrame, geoms: np.ndarray, metric_area: np.ndarray
) -> None:
    zones = (units["kind"] == "Đặc khu").to_numpy()
    assert (metric_area[zones] > 0).all()
    for name in OFFSHORE:
        i = int(np.flatnonzero(units["name"].str.endswith(name).to_numpy() & zones)[0])
        official = units["area_km2"].iloc[i]
        assert len(geoms[i].geoms) == 1  # a single island ...
        assert abs(metric_area[i] - official) / official < 0.2  # ... of about its official size
        others = np.delete(geoms, i)
        assert shapely.distance(geoms[i], shapely.union_all(others)) > 1.0  # degrees offshore


def test_cell_areas_track_official_areas_far_better_than_voronoi(
    units: pd.DataFrame, geoms: np.ndarray, metric_area: np.ndarray
) -> None:
    official = units["area_km2"].to_numpy(float)
    error = _median_rel_error(metric_area, official)
    outline = shapely.coverage_union_all(dg._to_metric(geoms))
    sites = shapely.points(dg._to_metric_xy(units["lon"], units["lat"]))
    voronoi = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(sites), ordered=True))
    baseline = _median_rel_error(shapely.area(shapely.intersection(voronoi, outline)), official)
    assert error < 0.05
    assert error < baseline / 3


def test_cells_are_compact_without_slivers(geoms: np.ndarray, metric_area: np.ndarray) -> None:
    metric = dg._to_metric(geoms)
    roundness = 4 * np.pi * metric_area / shapely.length(metric) ** 2
    spread = shapely.minimum_bounding_radius(metric) / np.sqrt(metric_area / np.pi)
    assert np.quantile(roundness, 0.01) > 0.4
    assert spread.max() < 4.0  # no cell reaches far beyond a disk of its own area
    assert (shapely.get_num_geometries(geoms) == 1).mean() > 0.99


def test_national_outline_contains_every_centroid(
    units: pd.DataFrame, centroids: np.ndarray
) -> None:
    outline = dg.national_outline()
    assert isinstance(outline, shapely.MultiPolygon) and outline.is_valid
    assert shapely.contains_properly(outline, centroids).all()
    area = shapely.area(dg._to_metric(outline))
    assert abs(area - units["area_km2"].sum()) / units["area_km2"].sum() < 0.03


def test_generation_is_deterministic_for_a_subset(units: pd.DataFrame) -> None:
    subset = units[units["province_code"].isin(["01", "79"])]
    first = dg.build_demo_geometries(subset)
    second = dg.build_demo_geometries(subset)
    assert shapely.equals_exact(first.geometry.to_numpy(), second.geometry.to_numpy(), 0).all()
    points = shapely.points(subset["lon"].to_numpy(float), subset["lat"].to_numpy(float))
    assert shapely.contains_properly(first.geometry.to_numpy(), points).all()
    assert shapely.coverage_is_valid(first.geometry.to_numpy())


# --------------------------------------------------------------------------- provinces


def test_provinces_are_exact_unions_of_their_communes(
    communes: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame
) -> None:
    assert len(provinces) == N_PROVINCES and provinces["province_code"].is_unique
    prov = provinces.set_index("province_code").geometry
    assert all(isinstance(g, shapely.MultiPolygon) for g in prov)
    assert shapely.is_valid(prov.to_numpy()).all() and _exteriors_ccw(prov.to_numpy())
    for code, group in communes.groupby("province_code"):
        union = shapely.union_all(group.geometry.to_numpy())
        assert shapely.equals(prov[code], union)
        assert shapely.covers(prov[code], group.geometry.to_numpy()).all()
    assert shapely.coverage_is_valid(prov.to_numpy())


def test_province_areas_track_official_sums(
    units: pd.DataFrame, provinces: gpd.GeoDataFrame
) -> None:
    official = units.groupby("province_code")["area_km2"].sum()
    area = shapely.area(dg._to_metric(provinces.geometry.to_numpy()))
    assert _median_rel_error(area, official.loc[provinces["province_code"]].to_numpy()) < 0.05


# --------------------------------------------------------------------------- display levels


def test_each_level_is_a_valid_gap_free_coverage(
    geoms: np.ndarray, levels: dict[str, np.ndarray]
) -> None:
    assert list(levels) == list(DEFAULT_LEVELS)
    for simplified in levels.values():
        assert len(simplified) == len(geoms)
        assert all(isinstance(g, shapely.MultiPolygon) for g in simplified)
        assert not shapely.is_empty(simplified).any()
        assert shapely.is_valid(simplified).all()
        assert _exteriors_ccw(simplified)
        assert shapely.coverage_is_valid(simplified)


def test_coarser_levels_have_fewer_vertices(
    geoms: np.ndarray, levels: dict[str, np.ndarray]
) -> None:
    counts = [shapely.get_num_coordinates(levels[name]).sum() for name in ("z6", "z9", "z12")]
    assert counts[0] < counts[1] < counts[2] <= shapely.get_num_coordinates(geoms).sum()


def test_national_layers_fit_the_download_budget(
    communes: gpd.GeoDataFrame, levels: dict[str, np.ndarray]
) -> None:
    assert _geojson_gzip_size(levels["z6"]) <= 3_000_000
    simplified = gpd.GeoDataFrame(
        {"province_code": communes["province_code"]}, geometry=list(levels["z6"]), crs=4326
    )
    provinces = dg.province_geometries(simplified).geometry.to_numpy()
    assert shapely.coverage_is_valid(provinces)
    assert _geojson_gzip_size(provinces) <= 300_000


def test_per_feature_simplify_tears_borders_but_coverage_levels_do_not(
    geoms: np.ndarray, levels: dict[str, np.ndarray]
) -> None:
    naive = shapely.simplify(geoms, DEFAULT_LEVELS["z6"], preserve_topology=True)
    assert not shapely.coverage_is_valid(naive)  # why coverage_levels exists
    assert shapely.coverage_is_valid(levels["z6"])


def test_tiny_islands_never_vanish() -> None:
    island = shapely.box(5, 5, 5.0001, 5.0001)
    land = shapely.box(0, 0, 1, 1)
    out = coverage_levels([land, island], {"z6": 0.5})["z6"]
    assert not shapely.is_empty(out).any() and (shapely.area(out) > 0).all()
    assert out[1].within(island) and out[1].area >= 0.4 * island.area
