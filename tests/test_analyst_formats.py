"""Analyst downloads: zipped Shapefile, GeoParquet, XLSX; ``crs=`` on layers and files;
CSV WKT that fits an Excel cell (issue 13)."""

from __future__ import annotations

import csv
import io
import zipfile

import geopandas as gpd
import pyarrow.parquet as pq
import pytest
import shapely
from openpyxl import load_workbook
from pyproj import Transformer

from api.routers._download_files import EXCEL_CELL_CHARS, fit_wkt, shapefile_names


def test_shapefile_zip_opens_in_geopandas_with_diacritics_and_short_fields(client, tmp_path):
    r = client.get("/api/v1/download/communes.shp", params={"province": "40"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].endswith('communes_2025-11-13.shp.zip"')
    assert r.headers["x-data-version"] and r.headers["x-source"]
    path = tmp_path / "communes.shp.zip"
    path.write_bytes(r.content)
    names = zipfile.ZipFile(path).namelist()
    assert {"communes.shp", "communes.shx", "communes.dbf", "communes.prj", "communes.cpg"} <= set(
        names
    )
    assert zipfile.ZipFile(path).read("communes.cpg").strip() == b"UTF-8"
    assert "fields.csv" in names
    gdf = gpd.read_file(path)
    assert len(gdf) == 130 and gdf.crs.to_epsg() == 4326
    assert all(len(c) <= 10 for c in gdf.columns)
    assert {"compl_pct", "prov_name", "tasks_done"} <= set(gdf.columns)
    vinh = gdf[gdf.code == "16681"].iloc[0]
    assert vinh["name"] == "Thành Vinh" and vinh["prov_name"] == "Nghệ An"
    table = list(csv.DictReader(io.StringIO(zipfile.ZipFile(path).read("fields.csv").decode())))
    assert {"shapefile_field": "compl_pct", "field": "completion_pct"}.items() <= next(
        x for x in table if x["field"] == "completion_pct"
    ).items()


def test_shapefile_names_are_unique_within_ten_characters():
    names = shapefile_names(["completion_pct", "service_index", "service_index_rank",
                             "service_indicator", "geometry"])  # fmt: skip
    assert names["completion_pct"] == "compl_pct"
    assert all(len(v) <= 10 for v in names.values())
    assert len(set(v.lower() for v in names.values())) == len(names) == 4


def test_geoparquet_opens_in_geopandas_with_metadata(client, tmp_path):
    r = client.get("/api/v1/download/provinces.parquet")
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].endswith('provinces_2025-11-13.parquet"')
    path = tmp_path / "p.parquet"
    path.write_bytes(r.content)
    gdf = gpd.read_parquet(path)
    assert len(gdf) == 34 and gdf.crs.to_epsg() == 4326
    assert gdf.set_index("code").loc["66", "name"] == "Đắk Lắk"
    meta = pq.read_schema(path).metadata
    assert b"geo" in meta and b"CC BY 4.0" in meta[b"iocmap"]


def test_xlsx_has_a_sheet_per_layer_vietnamese_headers_and_no_formulas(client, tmp_path):
    r = client.get("/api/v1/download/provinces.xlsx", params={"province": "40"})
    assert r.status_code == 200, r.text
    path = tmp_path / "p.xlsx"
    path.write_bytes(r.content)
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == ["Tỉnh, thành phố", "Xã, phường, đặc khu", "Thông tin"]
    provinces = list(wb["Tỉnh, thành phố"].iter_rows(values_only=True))
    communes = list(wb["Xã, phường, đặc khu"].iter_rows(values_only=True))
    assert {"Mã", "Tên", "Tỷ lệ hoàn thành (%)"} <= set(provinces[0])
    assert {"Mã", "Tên", "Tỉnh/thành"} <= set(communes[0])
    assert not any("geometry" in str(h) or "wkt" in str(h) for h in provinces[0] + communes[0])
    assert len(provinces) == 2 and len(communes) == 131  # header + Nghệ An / its 130
    one = client.get("/api/v1/download/communes.xlsx", params={"name": "cu mgar"})
    wb1 = load_workbook(io.BytesIO(one.content), read_only=True)
    rows1 = list(wb1["Xã, phường, đặc khu"].iter_rows(values_only=True))
    assert [r[rows1[0].index("Tên")] for r in rows1[1:]] == ["Cư M'gar"]
    name = provinces[0].index("Tên")
    assert provinces[1][name] == "Nghệ An"
    cells = [c for row in provinces + communes for c in row if isinstance(c, str)]
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    info = dict((k, v) for k, v, *_ in wb["Thông tin"].iter_rows(values_only=True))
    assert info["Giấy phép"] == "CC BY 4.0"


@pytest.mark.parametrize("epsg", [3405, 5897])
def test_crs_on_layers_equals_pyproj(client, epsg):
    plain = client.get("/api/v1/provinces/40").json()
    r = client.get("/api/v1/provinces/40", params={"crs": f"EPSG:{epsg}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-crs"] == f"<http://www.opengis.net/def/crs/EPSG/0/{epsg}>"
    t = Transformer.from_crs(4326, epsg, always_xy=True)
    expected = shapely.transform(
        shapely.geometry.shape(plain["geometry"]),
        lambda xy: list(zip(*t.transform(*xy.T), strict=True)),
    )
    got = shapely.geometry.shape(r.json()["geometry"])
    assert got.geom_type == expected.geom_type
    # every vertex where pyproj puts it, to the centimetre (the ring may start elsewhere)
    assert shapely.hausdorff_distance(got, expected) < 0.01
    listed = client.get("/api/v1/provinces/40/communes", params={"crs": "3405", "limit": 2})
    assert listed.status_code == 200
    assert listed.json()["features"][0]["geometry"]["coordinates"][0][0][0][0] > 1000


def test_unknown_crs_is_a_400_listing_the_supported(client):
    for path in ("/api/v1/communes", "/api/v1/download/communes.gpkg", "/api/v1/provinces/40"):
        r = client.get(path, params={"crs": "EPSG:3857"})
        assert r.status_code == 400, (path, r.text)
        assert "EPSG:3405" in r.text and "EPSG:5899" in r.text
    assert client.get("/api/v1/provinces").headers["content-crs"].endswith("CRS84>")


def test_crs_on_downloads_matches_the_api(client, tmp_path):
    r = client.get("/api/v1/download/provinces.gpkg", params={"code": "40", "crs": "EPSG:3405"})
    assert r.status_code == 200, r.text
    assert r.headers["content-crs"].endswith("/3405>")
    path = tmp_path / "p.gpkg"
    path.write_bytes(r.content)
    gdf = gpd.read_file(path)
    assert gdf.crs.to_epsg() == 3405
    api = client.get("/api/v1/provinces/40", params={"crs": "EPSG:3405"}).json()
    a = shapely.geometry.shape(api["geometry"])
    assert a.symmetric_difference(gdf.geometry.iloc[0]).area < 1e-4 * a.area


def test_csv_wkt_fits_an_excel_cell_and_says_when_simplified(client):
    r = client.get("/api/v1/download/provinces.csv", params={"wkt": "true"})
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert all(len(x["wkt"]) <= EXCEL_CELL_CHARS for x in rows)
    for x in rows:
        g = shapely.from_wkt(x["wkt"])
        assert g.is_valid and not g.is_empty
        if x["wkt_simplified"]:
            assert float(x["wkt_simplified"]) > 0


def test_fit_wkt_simplifies_a_commune_with_many_vertices_valid():
    # a synthetic commune: a star-like ring with 20,000 vertices (~45 chars each)
    import math

    ring = [
        (105 + (0.05 + 1e-4 * (i % 7)) * math.cos(a), 21 + (0.05 + 1e-4 * (i % 7)) * math.sin(a))
        for i, a in enumerate(2 * math.pi * k / 20000 for k in range(20000))
    ]
    geom = shapely.MultiPolygon([shapely.Polygon(ring)])
    assert len(shapely.to_wkt(geom, rounding_precision=6)) > EXCEL_CELL_CHARS
    text, tol = fit_wkt(geom, 6, degrees=True)
    assert len(text) <= EXCEL_CELL_CHARS and tol is not None and tol > 0
    out = shapely.from_wkt(text)
    assert out.geom_type == "MultiPolygon"  # same type as the other rows
    assert out.is_valid and abs(out.area - geom.area) < 0.01 * geom.area
    assert shapely.hausdorff_distance(out, geom) < 0.002  # ≈ 200 m at most
    small, none = fit_wkt(shapely.box(105, 21, 105.1, 21.1), 6, degrees=True)
    assert none is None and small.startswith("POLYGON")


def test_xlsx_cells_that_look_like_formulas_are_neutralised(tmp_path):
    import pandas as pd

    from api.routers._download_files import write_xlsx

    frame = pd.DataFrame(
        {"code": ["99001"], "name": ['=HYPERLINK("http://x","Xã")'], "completion_pct": [-12.5]}
    )
    out = tmp_path / "x.xlsx"
    write_xlsx([("commune", frame)], {"source": "@cmd"}, {}, str(out))
    wb = load_workbook(out)  # not read-only: data_type tells a formula from text
    ws = wb["Xã, phường, đặc khu"]
    assert [c.value for c in ws[1]] == ["Mã", "Tên", "Tỷ lệ hoàn thành (%)"]
    assert ws["B2"].value == "'" + frame.name[0] and ws["B2"].data_type == "s"
    assert ws["C2"].value == -12.5  # numbers stay numbers
    assert wb["Thông tin"]["B2"].value == "'@cmd"


def test_shapefile_in_vn2000_carries_its_prj(client, tmp_path):
    r = client.get("/api/v1/download/provinces.shp", params={"code": "40", "crs": "EPSG:3405"})
    assert r.status_code == 200, r.text
    path = tmp_path / "p.shp.zip"
    path.write_bytes(r.content)
    assert b"VN_2000" in zipfile.ZipFile(path).read("provinces.prj").replace(b"-", b"_")
    gdf = gpd.read_file(path)
    assert gdf.crs.to_epsg() == 3405 and gdf.total_bounds[0] > 100_000
