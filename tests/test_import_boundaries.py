"""Boundary imports with real files: VN-2000 shapefiles, TCVN3 DBFs, broken geometry,
two-layer GeoPackages, missing parents, failures after staging, concurrent imports."""

from __future__ import annotations

import json
import threading
import time

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import text

from geo.errors import BadInput, ImportBusy
from geo.ingest.boundaries import BoundaryOptions, import_boundaries
from geo.ingest.encodings import encode_tcvn3
from geo.ingest.report import InjectedFailure
from tests.import_fixtures import (
    bowtie_around,
    demo_communes,
    rows,
    scalar,
    table_versions,
    write_layer,
    zip_shapefile,
)
from tests.vn2000_reference import metres, wgs84_to_tm3

CAN_THO, CA_MAU, KHANH_HOA = "92", "96", "56"


def _tcvn3(text_: str) -> str:
    """A name as an old DBF holds it (TCVN3 bytes, carried as Latin-1 for pyogrio)."""
    try:
        return encode_tcvn3(text_).decode("latin-1")
    except UnicodeEncodeError:  # TCVN3 has no toned capitals; old files wrote them small
        return encode_tcvn3(text_[0].lower() + text_[1:]).decode("latin-1")


def tm3_shapefile(tmp_path, province: str = CAN_THO, parent: bool = True, prj: bool = True):
    """The province's communes in VN-2000 / TM-3 105° (EPSG:5897), projected with the
    independent reference chain (tests/vn2000_reference.py), names in TCVN3, no .cpg."""
    src = demo_communes(province)

    def to_tm3(xy):
        return np.column_stack(wgs84_to_tm3(xy[:, 0], xy[:, 1], 105.0))

    data = {
        "MA_XA": src.code.astype(int),  # a numeric field: codes lose their leading zeros
        "TEN_XA": [_tcvn3(f"{k} {n}") for k, n in zip(src.kind, src.name, strict=True)],
    }
    if parent:
        data["MA_TINH"] = src.province_code
    gdf = gpd.GeoDataFrame(
        data, geometry=shapely.transform(src.geometry.values, to_tm3), crs=5897 if prj else None
    )
    shp = write_layer(gdf, tmp_path / "shp" / "ranh_gioi_xa.shp", encoding="latin1")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    if not prj:
        shp.with_suffix(".prj").unlink(missing_ok=True)
    return shp, src


def stored_coords(engine, codes) -> dict:
    got = rows(
        engine, "select code, ST_AsBinary(geom) from admin_unit where code = any(:c)", c=codes
    )
    return {code: shapely.get_coordinates(shapely.from_wkb(bytes(wkb))) for code, wkb in got}


# Stored geometry is snap-rounded to the 6-decimal grid (geo.ingest.coverage.GRID): a vertex
# may move by up to half a grid diagonal (≈ 7.9 cm at the equator) on top of the transform.
GRID_SLACK_M = 0.5e-6 * 111_320 * 2**0.5


def max_error_m(engine, src: gpd.GeoDataFrame) -> float:
    """Largest distance between a known WGS 84 vertex and the stored vertex nearest to it."""
    stored = stored_coords(engine, list(src.code))
    worst = 0.0
    for code, geom in zip(src.code, src.geometry, strict=True):
        known = shapely.get_coordinates(geom)
        got = stored[code]
        assert abs(len(got) - len(known)) <= 0.01 * len(known)  # snapping merges few vertices
        tree = shapely.STRtree(shapely.points(got))
        nearest = tree.query_nearest(shapely.points(known), all_matches=False)[1]
        near = got[nearest]
        worst = max(worst, metres(known[:, 0], known[:, 1], near[:, 0], near[:, 1]).max())
    return worst


def test_vn2000_tm3_shapefile_with_tcvn3_dbf(scratch, tmp_path):
    shp, src = tm3_shapefile(tmp_path)
    version = scalar(scratch, "select version from data_state")
    tasks_before = table_versions(scratch)["task"]
    report = import_boundaries(scratch, shp, "commune")
    assert report.status == "imported", report.errors
    assert (report.read, report.updated, report.created, report.repaired) == (
        len(src),
        len(src),
        0,
        0,
    )
    assert any("TCVN3" in n and "100% of names official" in n for n in report.notes)
    assert any("EPSG:6960" in n for n in report.notes)
    # within a metre of the known points — in fact within 5 cm (a wrong datum choice is 0.8 m)
    assert max_error_m(scratch, src) < 0.05 + GRID_SLACK_M
    stored = {
        r.code: r
        for r in rows(
            scratch,
            "select code, name, kind, name_key, geometry_quality, source, parent_code,"
            " ST_Contains(geom, label_point) inside from admin_unit where code = any(:c)",
            c=list(src.code),
        )
    }
    for code, name, kind in zip(src.code, src.name, src.kind, strict=True):
        r = stored[code]
        assert (r.name, r.kind) == (name, kind)  # decoded from TCVN3, prefix split off
        assert (r.geometry_quality, r.source, r.parent_code) == ("official", shp.name, CAN_THO)
        assert r.inside
    assert "dac" not in stored[src.code[0]].name_key and stored[src.code[0]].name_key.isascii()
    assert scalar(scratch, "select version from data_state") == version + 1
    assert table_versions(scratch)["task"] == tasks_before  # tasks untouched
    province = rows(
        scratch, "select geometry_quality, source from admin_unit where code = :c", c=CAN_THO
    )
    assert province[0].geometry_quality == "official"  # approximate → union of its communes
    assert province[0].source == f"union of communes: {shp.name}"
    bad_levels = scalar(
        scratch,
        "select count(*) from unit_geometry_level where not ST_IsValid(geom) or ST_IsEmpty(geom)",
    )
    assert bad_levels == 0


def test_importing_the_same_file_twice_changes_nothing(scratch, tmp_path):
    shp, _ = tm3_shapefile(tmp_path, province=CA_MAU)
    assert import_boundaries(scratch, shp, "commune").status == "imported"
    before = table_versions(scratch)
    again = import_boundaries(scratch, shp, "commune")
    assert again.status == "no_changes" and again.version is None
    assert again.summary().startswith("no changes")
    assert table_versions(scratch) == before  # not even the data version moved


def test_zipped_shapefile_dry_run_reports_and_changes_nothing(scratch, tmp_path):
    shp, src = tm3_shapefile(tmp_path, province=CA_MAU)
    zipped = zip_shapefile(shp, tmp_path / "camau.zip")
    before = table_versions(scratch)
    report = import_boundaries(scratch, zipped, "commune", BoundaryOptions(dry_run=True))
    assert report.status == "dry_run" and report.updated == len(src)
    assert table_versions(scratch) == before


def test_geojson_with_self_intersecting_and_empty_polygons(scratch, tmp_path):
    src = demo_communes(KHANH_HOA)
    truong_sa = src.index[src.name == "Trường Sa"][0]
    victim = 1 if truong_sa != 1 else 2
    centre = src.geometry[victim].representative_point()
    features = []
    for i, r in src.iterrows():
        geom = shapely.geometry.mapping(r.geometry)
        if i == victim:
            geom = shapely.geometry.mapping(bowtie_around(centre.x, centre.y, 0.002))
        features.append({"type": "Feature", "properties": {"ma_xa": r.code, "ten_xa": r["name"]},
                         "geometry": geom})  # fmt: skip
    features.append({"type": "Feature", "properties": {"ma_xa": "99901", "ten_xa": "Rỗng"},
                     "geometry": {"type": "Polygon", "coordinates": []}})  # fmt: skip
    features.append({"type": "Feature", "properties": {"ma_xa": "99902", "ten_xa": "Không"},
                     "geometry": None})  # fmt: skip
    path = tmp_path / "khanh_hoa.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")

    report = import_boundaries(scratch, path, "commune", BoundaryOptions(allow_new_units=True))
    assert report.status == "imported", report.errors
    assert report.read == len(src) + 2 and report.repaired == 1
    assert sorted((p.row, p.code) for p in report.rejected) == [
        (len(src), "99901"),
        (len(src) + 1, "99902"),
    ]
    assert all("empty geometry" in p.reason and p.file == path.name for p in report.rejected)
    assert scalar(scratch, "select count(*) from admin_unit where code like '999%'") == 0
    fixed = rows(
        scratch,
        "select ST_IsValid(geom) ok, GeometryType(geom) gtype, ST_NumGeometries(geom) n"
        " from admin_unit where code = :c",
        c=src.code[victim],
    )[0]
    assert fixed.ok and fixed.gtype == "MULTIPOLYGON" and fixed.n == 2  # the two lobes of the 8
    # offshore Trường Sa (≈114.5°E) is Vietnam, not an out-of-bounds error
    assert not any("outside Vietnam" in p.reason for p in report.errors + report.warnings)


def test_geopackage_with_two_layers(scratch, tmp_path):
    src = demo_communes(CA_MAU)
    path = tmp_path / "ca_mau.gpkg"
    communes = gpd.GeoDataFrame(
        {"ma_xa": src.code, "ten_xa": src.name, "ma_tinh": src.province_code},
        geometry=src.geometry,
        crs=4326,
    )
    province = gpd.GeoDataFrame(
        {"ma_tinh": [CA_MAU], "ten_tinh": ["Cà Mau"]},
        geometry=[shapely.coverage_union_all(src.geometry.values)],
        crs=4326,
    )
    write_layer(province, path, layer="ranh_gioi_tinh")
    write_layer(communes, path, layer="ranh_gioi_xa")
    report = import_boundaries(scratch, path, "commune")
    assert report.status == "imported"
    assert any("layer 'ranh_gioi_xa' of 2" in n for n in report.notes)
    report = import_boundaries(scratch, path, "province", BoundaryOptions(layer="ranh_gioi_tinh"))
    assert report.status == "imported" and report.updated == 1

    other = tmp_path / "two.gpkg"
    write_layer(communes, other, layer="a")
    write_layer(communes, other, layer="b")
    with pytest.raises(BadInput) as err:
        import_boundaries(scratch, other, "commune")
    assert "2 layers (a, b)" in err.value.message and "--layer" in err.value.message


def test_commune_file_without_parent_codes_derives_them(scratch, tmp_path):
    shp, src = tm3_shapefile(tmp_path, province=CA_MAU, parent=False)
    report = import_boundaries(scratch, shp, "commune")
    assert report.status == "imported"
    assert any("without a parent code" in n for n in report.notes)
    parents = {r.parent_code for r in rows(
        scratch, "select parent_code from admin_unit where code = any(:c)", c=list(src.code)
    )}  # fmt: skip
    assert parents == {CA_MAU}


def test_commune_file_whose_parent_codes_do_not_exist_is_rejected(scratch, tmp_path):
    src = demo_communes(CA_MAU).head(3)
    gdf = gpd.GeoDataFrame(
        {"MaXa": src.code, "TenXa": src.name, "MaTinh": ["99", "99", CA_MAU]},
        geometry=src.geometry,
        crs=4326,
    )
    path = write_layer(gdf, tmp_path / "bad_parent.geojson")
    before = table_versions(scratch)
    report = import_boundaries(scratch, path, "commune")
    assert report.status == "rejected"
    assert [(p.row, p.field, p.code) for p in report.errors] == [
        (0, "MaTinh", src.code[0]),
        (1, "MaTinh", src.code[1]),
    ]
    assert all("parent province '99' does not exist" in p.reason for p in report.errors)
    assert table_versions(scratch) == before
    # --skip-invalid imports the commune whose parent exists and lists the others
    report = import_boundaries(scratch, path, "commune", BoundaryOptions(skip_invalid=True))
    assert report.status == "imported" and report.updated == 1 and len(report.rejected) == 2


@pytest.mark.parametrize("point", ["staged", "swapped"])
def test_failure_after_staging_leaves_the_database_byte_for_byte(scratch, tmp_path, point):
    shp, _ = tm3_shapefile(tmp_path, province=CA_MAU)
    before = table_versions(scratch)
    with pytest.raises(InjectedFailure):
        import_boundaries(scratch, shp, "commune", BoundaryOptions(fail_at=point))
    assert table_versions(scratch) == before
    # and the same file then imports normally
    assert import_boundaries(scratch, shp, "commune").status == "imported"
    assert table_versions(scratch) != before


def test_failure_injected_by_a_hook(scratch, tmp_path):
    """The hook points take a callable (tests pass one; production passes none)."""
    shp, _ = tm3_shapefile(tmp_path, province=CA_MAU)
    before = table_versions(scratch)
    seen: list[str] = []

    def hook(point: str) -> None:
        seen.append(point)
        if point == "swapped":
            raise InjectedFailure("stop after the swap")

    with pytest.raises(InjectedFailure):
        import_boundaries(scratch, shp, "commune", BoundaryOptions(fail_at=hook))
    assert seen == ["staged", "swapped"]
    assert table_versions(scratch) == before


def test_projected_file_without_crs_needs_crs_flag(scratch, tmp_path):
    shp, src = tm3_shapefile(tmp_path, province=CA_MAU, prj=False)
    with pytest.raises(BadInput) as err:
        import_boundaries(scratch, shp, "commune")
    assert "no CRS" in err.value.message and "--crs" in err.value.message
    report = import_boundaries(scratch, shp, "commune", BoundaryOptions(crs="vn2000:tm3:105"))
    assert report.status == "imported"
    assert max_error_m(scratch, src) < 0.05 + GRID_SLACK_M


def test_swapped_axes_land_outside_vietnam_and_are_reported(scratch, tmp_path):
    src = demo_communes(CA_MAU).head(3)
    swapped = shapely.transform(src.geometry.values, lambda xy: xy[:, ::-1])
    gdf = gpd.GeoDataFrame({"ma_xa": src.code}, geometry=swapped, crs=4326)
    path = write_layer(gdf, tmp_path / "swapped.geojson")
    before = table_versions(scratch)
    report = import_boundaries(scratch, path, "commune")
    assert report.status == "rejected" and len(report.errors) == 3
    assert all("outside Vietnam" in p.reason and "swapped" in p.reason for p in report.errors)
    assert table_versions(scratch) == before


def test_province_import_keeps_display_borders_equal_to_the_communes(scratch, tmp_path):
    from geo.demo.loader import demo_layers

    provinces = demo_layers()["provinces"]
    gdf = gpd.GeoDataFrame(
        {"code": provinces.province_code, "name": provinces.province_code},
        geometry=provinces.geometry,
        crs=4326,
    )
    path = write_layer(gdf, tmp_path / "tinh.fgb")  # FlatGeobuf too
    report = import_boundaries(scratch, path, "province", BoundaryOptions(name_field="code"))
    assert report.status == "imported" and report.updated == 34
    assert "province display levels: union of their communes' levels" in report.notes
    # names given as codes are reported against the official ones, and kept as given
    assert any("differs from the official name" in w.reason for w in report.warnings)
    worst = scalar(
        scratch,
        """
        select max(ST_Area(ST_SymDifference(p.geom, u.geom)))
        from unit_geometry_level p
        join (select a.parent_code, l.band, ST_Union(l.geom) geom
              from unit_geometry_level l join admin_unit a on a.code = l.unit_code
              where a.level = 'commune' group by a.parent_code, l.band) u
          on u.parent_code = p.unit_code and u.band = p.band
        """,
    )
    assert worst < 1e-12


def test_two_imports_of_one_kind_do_not_interleave(scratch, tmp_path):
    shp, _ = tm3_shapefile(tmp_path, province=CA_MAU)
    with scratch.connect() as holder:
        trans = holder.begin()
        holder.execute(text("select pg_advisory_xact_lock(57, 1)"))  # as a running import
        with pytest.raises(ImportBusy):
            import_boundaries(scratch, shp, "commune", BoundaryOptions(lock_timeout_s=0.5))
        result = {}
        worker = threading.Thread(
            target=lambda: result.update(r=import_boundaries(scratch, shp, "commune"))
        )
        worker.start()
        time.sleep(1.5)
        assert worker.is_alive()  # waiting for the lock, not writing
        version = holder.execute(text("select version from data_state")).scalar()
        trans.commit()
    worker.join(timeout=60)
    assert result["r"].status == "imported" and result["r"].version == version + 1
