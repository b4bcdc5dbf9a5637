"""Vector tiles: ST_AsMVT tiles readable by GDAL, TileJSON, 204 for empty tiles."""

from __future__ import annotations

import pyogrio


def _read_tile(content: bytes, tmp_path, z: int, x: int, y: int):
    path = tmp_path / str(z) / str(x) / f"{y}.pbf"  # GDAL georeferences z/x/y.pbf names
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return pyogrio.read_dataframe(path)


def test_tile_over_northern_vietnam_has_lean_figures(client, tmp_path):
    r = client.get("/tiles/communes/6/50/28.mvt")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    df = _read_tile(r.content, tmp_path, 6, 50, 28)
    assert "00004" in set(df.code)
    ward = df[df.code == "00004"].iloc[0]
    assert ward["name"] == "Ba Đình" and ward["province_code"] == "01"
    assert {"completion_pct", "tasks_total", "groups_done"} <= set(df.columns)
    minx, miny, maxx, maxy = df.total_bounds  # Web Mercator metres around Hà Nội
    assert 11.0e6 < minx < maxx < 12.5e6 and 1.5e6 < miny < maxy < 3.3e6


def test_province_tile_and_etag(client, tmp_path):
    r = client.get("/tiles/provinces/6/50/28.mvt", headers={"Accept-Encoding": "identity"})
    df = _read_tile(r.content, tmp_path, 6, 50, 28)
    assert "01" in set(df.code) and df.communes.max() > 0
    again = client.get(
        "/tiles/provinces/6/50/28.mvt",
        headers={"If-None-Match": r.headers["etag"], "Accept-Encoding": "identity"},
    )
    assert again.status_code == 304


def test_empty_tile_is_204(client):
    r = client.get("/tiles/communes/6/0/0.mvt")  # mid-Pacific
    assert r.status_code == 204 and r.content == b""


def test_tile_errors(client):
    assert client.get("/tiles/roads/6/50/28.mvt").status_code == 404
    r = client.get("/tiles/communes/6/64/28.mvt")
    assert r.status_code == 400 and r.json()["errors"][0]["param"] == "x"
    assert client.get("/tiles/communes/30/0/0.mvt").status_code == 422


def test_tilejson(client):
    tj = client.get("/tiles/communes.json").json()
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"][0].endswith("/tiles/communes/{z}/{x}/{y}.mvt")
    assert tj["vector_layers"][0]["id"] == "communes"
    assert "completion_pct" in tj["vector_layers"][0]["fields"]
    minx, miny, maxx, maxy = tj["bounds"]
    assert 102 < minx < 103 and 114 < maxx < 115
