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


def _items(client, **params) -> dict[str, dict]:
    body = client.get("/ogc/collections/communes/items", params={"limit": 5000, **params}).json()
    return {f["id"]: f["properties"] for f in body["features"]}


def test_tile_carries_indicator_values_and_ranks_as_the_items(client, tmp_path):
    """A style can class on an indicator: the tile has its value and rank, the same as the
    OGC items give for the latest period."""
    df = _read_tile(client.get("/tiles/communes/6/50/28.mvt").content, tmp_path, 6, 50, 28)
    assert {"data_reuse_rate", "data_reuse_rate_rank"} <= set(df.columns)
    items = _items(client, properties="data_reuse_rate,tasks_total,completion_pct")
    valued = df[df.data_reuse_rate.notna()]
    assert len(valued) > 0
    for row in valued.itertuples():
        want = items[row.code]
        assert row.data_reuse_rate == want["data_reuse_rate"], row.code
        assert row.data_reuse_rate_rank == want["data_reuse_rate_rank"], row.code
        assert row.tasks_total == want["tasks_total"], row.code
    tj = client.get("/tiles/communes.json").json()["vector_layers"][0]["fields"]
    assert tj["data_reuse_rate"] == "Number" and tj["data_reuse_rate_rank"] == "Number"
    ts = client.get("/ogc/collections/communes/tiles/WebMercatorQuad").json()
    schema = ts["layers"][0]["propertiesSchema"]["properties"]
    assert schema["data_reuse_rate"] == {"type": "number"}


def test_tile_filter_keeps_the_units_the_items_filter_keeps(client, tmp_path):
    cql = "data_reuse_rate > 80 and province_code = '01'"
    r = client.get("/tiles/communes/6/50/28.mvt", params={"filter": cql})
    assert r.status_code == 200, r.text
    got = set(_read_tile(r.content, tmp_path, 6, 50, 28).code)
    expected = set(_items(client, filter=cql, properties="code"))
    assert got == expected and 0 < len(got) < 600
    # the OGC tile (zoom/row/col) takes the same filter and gives the same bytes
    ogc = client.get(
        "/ogc/collections/communes/tiles/WebMercatorQuad/6/28/50", params={"filter": cql}
    )
    assert ogc.status_code == 200 and ogc.content == r.content
    # a filter matching nothing in the tile is an empty tile
    none = client.get("/tiles/communes/6/50/28.mvt", params={"filter": "tasks_total < 0"})
    assert none.status_code == 204


def test_tile_properties_narrow(client, tmp_path):
    r = client.get(
        "/tiles/communes/6/50/28.mvt", params={"properties": "completion_pct,data_reuse_rate"}
    )
    assert r.status_code == 200, r.text
    df = _read_tile(r.content, tmp_path, 6, 50, 28)
    cols = set(df.columns) - {"geometry", "mvt_id"}  # mvt_id: added by GDAL
    assert cols == {"code", "completion_pct", "data_reuse_rate", "data_reuse_rate_rank"}
    # only what is asked is joined: a name-only tile filtered on the province's name
    bare = client.get(
        "/tiles/communes/6/50/28.mvt",
        params={"properties": "name", "filter": "province_name = 'Hà Nội' and tasks_total > 0"},
    )
    assert bare.status_code == 200, bare.text
    names = _read_tile(bare.content, tmp_path / "n", 6, 50, 28)
    assert set(names.columns) - {"geometry", "mvt_id"} == {"code", "name"}
    assert set(names.code) == set(
        _items(client, filter="province_name = 'Hà Nội' and tasks_total > 0", properties="code")
    )
    wide = client.get("/tiles/provinces/6/50/28.mvt", params={"properties": "area_km2,valid_from"})
    assert wide.status_code == 200
    prov = _read_tile(wide.content, tmp_path / "p", 6, 50, 28)
    assert prov[prov.code == "01"].iloc[0]["valid_from"].startswith("2025-07-01")


def test_tile_filter_and_properties_errors_name_the_parameter(client):
    cases = [
        ({"properties": "nope"}, "properties"),
        ({"properties": "source_attributes"}, "properties"),
        ({"filter": "nope > 1"}, "filter"),
        ({"filter": "name > 5"}, "filter"),
        ({"filter": "code = '1'", "filter-lang": "sql"}, "filter-lang"),
        ({"nope": "1"}, "nope"),
    ]
    for params, param in cases:
        for url in ("/tiles/communes/6/50/28.mvt",
                    "/ogc/collections/communes/tiles/WebMercatorQuad/6/28/50"):  # fmt: skip
            r = client.get(url, params=params)
            assert r.status_code == 400, (url, params, r.text)
            assert r.json()["errors"][0]["param"] == param, (url, params, r.text)
            assert "Traceback" not in r.text
