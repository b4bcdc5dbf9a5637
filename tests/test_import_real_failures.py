"""The failures real boundary files caused, each reproduced with a small synthetic file.

Why synthetic: the real files may not be committed (see ``../shared/real-sample/README.md``),
so every problem they showed is rebuilt here from the demo geometry: a polygon on which
``make_valid(method="structure")`` raises, neighbours that overlap and leave slivers, a
generalised province outline, typographic apostrophes, population and area in the file,
and the hostile files of issue 12 (VRT in disguise, zip bombs under other names, look-alike
digits, unknown codes, a new unit on top of an existing one, too many vertices).
"""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import text

from geo.errors import BadInput, LimitExceeded
from geo.ingest import vector
from geo.ingest.boundaries import BoundaryOptions, import_boundaries
from geo.ingest.repair import repair
from tests.import_fixtures import demo_communes, rows, scalar, table_versions, write_layer
from tests.served_geometry import assert_served_valid

CA_MAU, DAK_LAK = "96", "66"

# Found by fuzzing GEOS 3.14 (shapely 2.2) near Cà Mau: an invalid polygon on which the
# "structure" repair raises "TopologyException: side location conflict" — the failure one
# real province file hit. The tiny offsets matter: never round these coordinates.
SIDE_LOCATION_CONFLICT = (
    "POLYGON ((105.005 9.003000000001, 105.005000000001 9.001, 105.001 9, "
    "105.002000000001 9.002999999, 105.002999999 9.001999999, 105.004 9.005, "
    "105 9.002, 105.001 9.002, 105.004000000001 9.005000000001, "
    "105.005 9.003000000001), (105.002 9.005000001, 105.004 9.002000001, "
    "105.001 9.000000001, 105.001 9.000000001, 105.005 9.005000001, "
    "105.004 9.003000001, 105.002 9.005000001))"
)


def geojson(path, features: list[dict]) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def feature(props: dict, geom) -> dict:
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def test_repair_survives_a_polygon_on_which_make_valid_structure_raises():
    g = shapely.from_wkt(SIDE_LOCATION_CONFLICT)
    with pytest.raises(shapely.errors.GEOSException, match="side location conflict"):
        shapely.make_valid(g, method="structure")  # the failure itself, still there
    fixed, repaired, problems, notes = repair(np.array([g], dtype=object))
    assert problems == [None] and repaired == 1
    assert fixed[0].is_valid and fixed[0].geom_type == "MultiPolygon" and fixed[0].area > 0
    assert any("linework" in n for n in notes)


def test_that_polygon_in_a_file_imports_by_http_dry_run_and_by_cli(scratch_url, tmp_path):
    from typer.testing import CliRunner

    from iocmap.cli import app as cli
    from tests.test_import_api_cli import AUTH, TOKEN, client_for

    src = demo_communes(CA_MAU).head(3)
    feats = [feature({"ma_xa": r.code}, r.geometry) for _, r in src.iterrows()]
    feats[0]["geometry"] = shapely.geometry.mapping(shapely.from_wkt(SIDE_LOCATION_CONFLICT))
    path = geojson(tmp_path / "tinh.geojson", feats)
    with client_for(scratch_url, admin_token=TOKEN) as c:
        r = c.post(
            "/api/v1/imports/boundaries",
            params={"level": "commune", "dry_run": "true"},
            files={"file": (path.name, path.read_bytes(), "application/geo+json")},
            headers=AUTH,
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "dry_run" and body["repaired"] >= 1 and not body["rejected"]
    res = CliRunner().invoke(
        cli,
        ["import", "boundaries", str(path), "--level", "commune", "--json"],
        env={"IOCMAP_DATABASE_URL": scratch_url},
    )
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output


def test_a_feature_no_repair_can_fix_is_rejected_alone(scratch, tmp_path):
    src = demo_communes(CA_MAU).head(3)
    line = shapely.LineString([(105.0, 9.0), (105.1, 9.1)])
    feats = [feature({"ma_xa": r.code, "ten_xa": r["name"]}, r.geometry) for _, r in src.iterrows()]
    feats[1]["geometry"] = shapely.geometry.mapping(line)
    report = import_boundaries(scratch, geojson(tmp_path / "x.geojson", feats), "commune")
    assert report.status == "imported", report.errors
    assert [(p.row, p.code) for p in report.rejected] == [(1, src.code[1])]
    assert "not a polygon" in report.rejected[0].reason


def _jittered_communes(province: str) -> gpd.GeoDataFrame:
    """The province's communes grown and shrunk in turn (≈ 4 m): overlaps and slivers
    everywhere, as two surveys of one border give."""
    src = demo_communes(province)
    d = np.where(np.arange(len(src)) % 2 == 0, 4e-5, -3e-5)
    grown = shapely.buffer(src.geometry.values, d, quad_segs=2, join_style="mitre")
    return src.assign(geometry=grown)


def test_overlaps_and_slivers_become_a_clean_coverage(scratch, tmp_path):
    src = _jittered_communes(CA_MAU)
    raw = shapely.union_all(src.geometry.values)
    assert sum(len(p.interiors) for p in shapely.get_parts(raw)) > 10  # sliver holes
    gdf = gpd.GeoDataFrame(
        {"ma_xa": src.code, "ten_xa": src.name, "ma_tinh": src.province_code},
        geometry=src.geometry, crs=4326,
    )  # fmt: skip
    report = import_boundaries(scratch, write_layer(gdf, tmp_path / "xa.geojson"), "commune")
    assert report.status == "imported", report.errors
    assert any("overlaps between neighbours resolved" in n for n in report.notes)
    assert any("gap(s) narrower than 100 m closed" in n for n in report.notes)
    stored = rows(
        scratch,
        "select ST_AsBinary(geom) from admin_unit where parent_code = :p order by code",
        p=CA_MAU,
    )
    geoms = shapely.from_wkb([bytes(r[0]) for r in stored])
    assert shapely.coverage_is_valid(geoms)  # no overlaps, shared edges identical
    # the province is the union of its communes, without a single sliver hole
    holes = scalar(
        scratch,
        "select sum(ST_NumInteriorRings(d.geom)) from admin_unit u,"
        " ST_Dump(u.geom) d where u.code = :p",
        p=CA_MAU,
    )
    assert holes == 0
    # every vertex on the 6-decimal grid: 6-decimal GeoJSON prints them exactly
    coords = shapely.get_coordinates(geoms)
    assert np.abs(coords * 1e6 - np.round(coords * 1e6)).max() < 1e-6
    # a second import changes nothing
    again = import_boundaries(scratch, tmp_path / "xa.geojson", "commune")
    assert again.status == "no_changes"


def test_served_geometry_valid_after_a_messy_import(scratch_url, scratch, tmp_path):
    src = _jittered_communes(CA_MAU)
    gdf = gpd.GeoDataFrame({"ma_xa": src.code}, geometry=src.geometry, crs=4326)
    assert import_boundaries(
        scratch, write_layer(gdf, tmp_path / "xa.geojson"), "commune"
    ).ok  # fmt: skip
    assert_served_valid(scratch_url, scratch, province=CA_MAU, precisions=(0, 2, 3, 4, 5, 6, 9))


def test_generalised_province_outline_is_replaced_by_the_union_of_its_communes(scratch, tmp_path):
    src = demo_communes(CA_MAU)
    communes = gpd.GeoDataFrame({"ma_xa": src.code}, geometry=src.geometry, crs=4326)
    assert import_boundaries(scratch, write_layer(communes, tmp_path / "xa.fgb"), "commune").ok
    union = shapely.union_all(src.geometry.values)
    outline = union.simplify(0.01)  # ≈ 1 km generalisation, as open-data portals ship
    prov = gpd.GeoDataFrame(
        {"ma_tinh": ["96"], "ten_tinh": ["Cà Mau"], "dan_so": [1988464]},
        geometry=[outline], crs=4326,
    )  # fmt: skip
    path = write_layer(prov, tmp_path / "tinh.geojson")
    report = import_boundaries(scratch, path, "province")
    assert report.status == "imported", report.errors
    note = next(n for n in report.notes if n.startswith("province outline vs the union"))
    assert "median" in note and "max" in note and "(96)" in note
    area, pop, kept = rows(
        scratch,
        "select ST_Area(geom), population, outline_kept from admin_unit where code = '96'",
    )[0]
    assert abs(area - union.area) / union.area < 1e-4 and pop == 1988464 and not kept
    # borders match at every zoom: province levels = union of the communes' levels
    worst = scalar(
        scratch,
        """
        select max(ST_Area(ST_SymDifference(p.geom, u.geom)))
        from unit_geometry_level p
        join (select a.parent_code, l.band, ST_Union(l.geom) geom
              from unit_geometry_level l join admin_unit a on a.code = l.unit_code
              where a.parent_code = '96' group by a.parent_code, l.band) u
          on u.parent_code = p.unit_code and u.band = p.band
        """,
    )
    assert worst < 1e-10
    # the operator may keep the file's own outline instead
    kept = import_boundaries(scratch, path, "province", BoundaryOptions(province_outline=True))
    assert kept.status == "imported"
    area, kept_flag = rows(
        scratch, "select ST_Area(geom), outline_kept from admin_unit where code = '96'"
    )[0]
    assert kept_flag and abs(area - outline.area) / outline.area < 1e-3


def test_apostrophe_variants_do_not_warn_but_real_differences_do(scratch, tmp_path):
    src = demo_communes(DAK_LAK)
    names = {
        "24280": "Cư M\u2019gar",  # typographic apostrophe: the same name
        "24412": "M\u2018Drắk",  # another quote mark
        "24184": "Ea H'Lêo",  # a real letter difference (e → ê)
    }
    picked = src[src.code.isin(list(names))]
    gdf = gpd.GeoDataFrame(
        {"ma_xa": picked.code, "ten_xa": [names[c] for c in picked.code]},
        geometry=picked.geometry, crs=4326,
    )  # fmt: skip
    report = import_boundaries(scratch, write_layer(gdf, tmp_path / "xa.geojson"), "commune")
    assert report.ok, report.errors
    warned = {p.code for p in report.warnings if "differs from the official name" in p.reason}
    assert warned == {"24184"}


def test_population_area_and_other_columns_are_kept_and_served(scratch_url, scratch, tmp_path):
    from tests.test_import_api_cli import client_for

    src = demo_communes(CA_MAU).head(4)
    gdf = gpd.GeoDataFrame(
        {
            "ma_xa": src.code,
            "ten_xa": src.name,
            "dan_so": [24956, 17504, None, 42108],
            "dien_tich_km2": [106.42, None, 25.39, 12.5],
            "ghi_chu": ["đất liền", "ven biển", None, "=cmd|'/c calc'!A0"],
        },
        geometry=src.geometry, crs=4326,
    )  # fmt: skip
    report = import_boundaries(scratch, write_layer(gdf, tmp_path / "xa.geojson"), "commune")
    assert report.ok, report.errors
    assert report.fields["population"] == "dan_so" and report.fields["area"] == "dien_tich_km2"
    got = {
        r.code: r
        for r in rows(
            scratch,
            "select code, population, population_source, area_km2, area_source,"
            " source_attributes from admin_unit where code = any(:c)",
            c=list(src.code),
        )
    }
    first, second, third = (got[c] for c in src.code[:3])
    assert (first.population, first.population_source) == (24956, "file")
    assert (first.area_km2, first.area_source) == (106.42, "file")
    assert second.area_source == "official" and second.area_km2 is not None
    assert third.population is None and third.area_km2 == 25.39
    assert first.source_attributes == {"ghi_chu": "đất liền"}
    with client_for(scratch_url) as c:
        detail = c.get(f"/api/v1/communes/{src.code[0]}").json()["properties"]
        assert detail["population"] == 24956 and detail["population_source"] == "file"
        assert detail["source_attributes"] == {"ghi_chu": "đất liền"}
        csv = c.get("/api/v1/download/communes.csv", params={"province": CA_MAU}).text
        assert "source_attributes" in csv.splitlines()[0] and "đất liền" in csv


# --- hostile files (issue 12) ------------------------------------------------------------
def test_a_vrt_renamed_geojson_never_reaches_gdal(scratch, tmp_path):
    vrt = tmp_path / "xa.geojson"
    vrt.write_text(
        '<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>CSV:/etc/passwd'
        "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>"
    )
    with pytest.raises(BadInput) as err:
        import_boundaries(scratch, vrt, "commune")
    assert "XML" in err.value.message and "root:" not in err.value.message


def test_vsicurl_text_is_just_an_unsupported_file(scratch, tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text("/vsicurl/http://127.0.0.1:9/x.geojson")
    with pytest.raises(BadInput, match="not a supported vector format"):
        import_boundaries(scratch, path, "commune")


@pytest.mark.parametrize("name", ["bomb.shz", "bomb.zip", "bomb"])
def test_zip_bomb_is_refused_whatever_its_name(scratch, tmp_path, name):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xa.shp", b"\0" * (64 << 20))  # 64 MiB of zeros → ~64 KiB
    with pytest.raises(BadInput, match="zip bomb"):
        import_boundaries(scratch, path, "commune")


def test_full_width_digits_are_normalised_and_unknown_codes_refused(scratch, tmp_path):
    src = demo_communes(CA_MAU).head(2)
    wide = src.code[0].translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    feats = [
        feature({"ma_xa": wide}, src.geometry[0]),
        feature({"ma_xa": "99999"}, shapely.box(104.5, 8.6, 104.51, 8.61)),
    ]
    path = geojson(tmp_path / "x.geojson", feats)
    before = table_versions(scratch)
    report = import_boundaries(scratch, path, "commune")
    assert report.status == "rejected"
    assert [(p.code, "--allow-new-units" in p.reason) for p in report.errors] == [("99999", True)]
    assert table_versions(scratch) == before
    ok = import_boundaries(scratch, geojson(tmp_path / "y.geojson", feats[:1]), "commune")
    assert ok.status == "imported" and ok.updated == 1  # ３１… read as the ASCII code


def test_a_new_unit_overlapping_an_official_one_is_a_clear_error(scratch, tmp_path):
    src = demo_communes(CA_MAU).head(1)
    one = geojson(tmp_path / "a.geojson", [feature({"ma_xa": src.code[0]}, src.geometry[0])])
    assert import_boundaries(scratch, one, "commune").ok
    inside = src.geometry[0].buffer(-0.001)
    other = geojson(
        tmp_path / "b.geojson", [feature({"ma_xa": "99998", "ma_tinh": CA_MAU}, inside)]
    )
    report = import_boundaries(scratch, other, "commune", BoundaryOptions(allow_new_units=True))
    assert report.status == "rejected"
    assert "overlaps the stored official unit" in report.errors[0].reason
    assert report.errors[0].code == "99998"


def test_limits_on_vertices_and_features(scratch, tmp_path, monkeypatch):
    src = demo_communes(CA_MAU).head(3)
    gdf = gpd.GeoDataFrame({"ma_xa": src.code}, geometry=src.geometry, crs=4326)
    path = write_layer(gdf, tmp_path / "xa.gpkg")
    monkeypatch.setattr(vector, "MAX_VERTICES_PER_FEATURE", 10)
    with pytest.raises(LimitExceeded, match="vertices"):
        import_boundaries(scratch, path, "commune")
    monkeypatch.setattr(vector, "MAX_VERTICES_PER_FEATURE", 10**6)
    monkeypatch.setattr(vector, "MAX_FEATURES", 2)
    with pytest.raises(LimitExceeded, match="features"):
        import_boundaries(scratch, path, "commune")


def test_boundary_imports_record_their_actor(scratch, tmp_path):
    src = demo_communes(CA_MAU).head(1)
    path = geojson(tmp_path / "a.geojson", [feature({"ma_xa": src.code[0]}, src.geometry[0])])
    report = import_boundaries(scratch, path, "commune", BoundaryOptions(actor="token:7:gis-team"))
    assert "actor: token:7:gis-team" in report.notes
    with scratch.connect() as conn:
        who = conn.execute(
            text("select imported_by from admin_unit where code = :c"), {"c": src.code[0]}
        ).scalar()
    assert who == "token:7:gis-team"


def test_a_unit_overlapping_several_stored_official_neighbours_is_reported_not_a_crash(
    scratch, tmp_path
):
    """The report path for overlaps with stored units ran only for one pair before: with
    two or more it raised "truth value of an array is ambiguous". Now (issue 25) the stored
    neighbours keep their land and the overlaps are warnings naming them; only
    ``strict_borders`` refuses the file."""
    src = demo_communes(CA_MAU)
    feats = [feature({"ma_xa": c}, g) for c, g in zip(src.code, src.geometry, strict=True)]
    assert import_boundaries(scratch, geojson(tmp_path / "all.geojson", feats), "commune").ok
    grown = src.geometry[0].buffer(0.05)
    hits = [c for c, g in zip(src.code[1:], src.geometry[1:], strict=True) if g.intersects(grown)]
    assert len(hits) >= 2
    one = geojson(tmp_path / "one.geojson", [feature({"ma_xa": src.code[0]}, grown)])
    before = table_versions(scratch)
    strict = import_boundaries(scratch, one, "commune", BoundaryOptions(strict_borders=True))
    assert strict.status == "rejected"
    assert table_versions(scratch) == before
    named = {
        p.reason.split("unit ")[1].split(" ")[0] for p in strict.errors if "overlaps" in p.reason
    }
    assert named and named <= set(hits)
    report = import_boundaries(scratch, one, "commune")
    assert report.status == "imported"
    named = {
        p.reason.split("unit ")[1].split(" ")[0]
        for p in report.warnings
        if "overlaps" in p.reason and "m² at lon" in p.reason
    }
    assert named and named <= set(hits)


def test_rings_left_open_are_closed_and_said(scratch, tmp_path):
    """A GeoJSON ring whose last position is not its first (converters that drop the
    repeated point; the whole country's file had 768): GEOS refused the file as "not
    readable"; the import closes the ring and says how many."""
    src = demo_communes(CA_MAU).head(3)
    feats = [feature({"ma_xa": r.code, "ten_xa": r["name"]}, r.geometry) for _, r in src.iterrows()]
    feats = json.loads(json.dumps(feats))  # lists, not tuples
    for f in feats[:2]:
        polys = f["geometry"]["coordinates"]
        polys = polys if f["geometry"]["type"] == "MultiPolygon" else [polys]
        for poly in polys:
            poly[0] = poly[0][:-1]  # the outer ring loses its closing point
    report = import_boundaries(scratch, geojson(tmp_path / "open.geojson", feats), "commune")
    assert report.status == "imported", report.errors
    assert not report.rejected
    assert any("2 features with a ring not closed" in n for n in report.notes), report.notes
    valid = scalar(
        scratch, "select bool_and(ST_IsValid(geom)) from admin_unit where code = any(:c)",
        c=list(src.code),
    )  # fmt: skip
    assert valid
