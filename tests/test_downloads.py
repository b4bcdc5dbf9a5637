"""Downloads: GeoPackage, FlatGeobuf, GeoJSON and CSV with metadata and dated names."""

from __future__ import annotations

import csv
import io

import pyogrio
import pytest


@pytest.mark.parametrize("fmt", ["gpkg", "fgb"])
def test_gis_files_open_in_gdal_with_the_api_features(client, tmp_path, fmt):
    r = client.get(f"/api/v1/download/communes.{fmt}", params={"province": "40"})
    assert r.status_code == 200
    assert r.headers["content-disposition"] == (f'attachment; filename="communes_2025-11-13.{fmt}"')
    assert r.headers["x-licence"] and r.headers["x-geometry-quality"] == "approximate"
    path = tmp_path / f"communes.{fmt}"
    path.write_bytes(r.content)
    df = pyogrio.read_dataframe(path)
    api = client.get("/api/v1/communes", params={"province": "40"}).json()
    assert len(df) == api["numberMatched"] == 130
    assert set(api["features"][0]["properties"]) <= set(df.columns)
    assert {"online_rate", "online_rate_rank", "area_km2"} <= set(df.columns)
    row = df[df.code == "16681"].iloc[0]
    api_row = next(f for f in api["features"] if f["id"] == "16681")["properties"]
    assert row["name"] == api_row["name"] == "Thành Vinh"
    assert row["tasks_completed"] == api_row["tasks_completed"]
    if fmt == "gpkg":
        meta = pyogrio.read_info(path)["layer_metadata"]
        assert meta["as_of"] == "2025-11-13" and meta["licence"] == "CC BY 4.0"
        assert meta["geometry_quality"] == "approximate" and "vietnamadminunits" in meta["source"]


def test_csv_is_utf8_with_bom_and_optional_wkt(client):
    r = client.get("/api/v1/download/provinces.csv", params={"wkt": "true"})
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].endswith('provinces_2025-11-13.csv"')
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 34
    dak_lak = next(x for x in rows if x["code"] == "66")
    assert dak_lak["name"] == "Đắk Lắk" and dak_lak["service_index_rank"] == "8"
    assert dak_lak["wkt"].startswith("MULTIPOLYGON")
    plain = client.get("/api/v1/download/provinces.csv")
    assert "wkt" not in plain.content.decode("utf-8-sig").splitlines()[0].split(",")


def test_geojson_download_of_one_unit_with_metadata(client):
    r = client.get("/api/v1/download/communes.geojson", params={"code": "00004"})
    assert r.headers["content-disposition"].endswith('communes_00004_2025-11-13.geojson"')
    fc = r.json()
    assert [f["id"] for f in fc["features"]] == ["00004"]
    assert fc["metadata"]["licence"] and fc["metadata"]["as_of"] == "2025-11-13"
    again = client.get("/api/v1/download/communes.geojson", params={"code": "00004"},
                       headers={"If-None-Match": r.headers["etag"]})  # fmt: skip
    assert again.status_code == 304


def test_download_errors(client):
    assert client.get("/api/v1/download/roads.gpkg").status_code == 404
    assert client.get("/api/v1/download/communes.shx").status_code == 404
    assert client.get("/api/v1/download/communes.gpkg", params={"code": "99999"}).status_code == 404
    assert client.get("/api/v1/download/communes.gpkg", params={"bbox": "9,9"}).status_code == 400


def test_text_downloads_are_gzipped_when_asked(client):
    """A GeoJSON or CSV download is sent gzipped to a client that accepts it (a national
    GeoJSON: about a fifth of its size), and plain to one that does not."""
    url = "/api/v1/download/communes.geojson?province=96"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.content == plain.content  # httpx decodes it: the same file
    assert int(packed.headers["content-length"]) < len(plain.content) / 3


def test_a_download_over_the_writers_limits_is_a_413_naming_the_limit(client):
    """Files are written by a limited child (api/routers/downloads.py): one that would
    need more than the child may use is a 413 naming the limit, never a 500."""
    from geo.ingest import sandbox

    before = sandbox.current_limits()
    sandbox.configure(sandbox.replace_limits(memory_mb=160))
    try:
        r = client.get("/api/v1/download/communes.gpkg", params={"province": "40", "precision": 2})
    finally:
        sandbox.configure(before)
    assert r.status_code == 413, r.text[:300]
    problem = r.json()
    assert problem["errors"][0]["limit"] == "sandbox_memory_mb"
    assert "communes.gpkg" in problem["detail"] and problem["detail"].startswith("Tệp ")
