"""OGC API – Tiles at /ogc (same bytes as /tiles) and HEAD on every GET route (issue 13)."""

from __future__ import annotations

import re

import pytest

TILE = "/ogc/collections/communes/tiles/WebMercatorQuad"
# sample values for the path parameters of the OpenAPI paths (HEAD walk)
SAMPLES = {
    "collectionId": "communes",
    "featureId": "00004",
    "layer": "communes",
    "tileMatrixSetId": "WebMercatorQuad",
    "tileMatrix": "6",
    "tileRow": "28",
    "tileCol": "50",
    "z": "6",
    "x": "50",
    "y": "28",
    "fmt": "geojson",
}


def test_tile_matrix_sets(client):
    sets = client.get("/ogc/tileMatrixSets").json()["tileMatrixSets"]
    assert [s["id"] for s in sets] == ["WebMercatorQuad"]
    tms = client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
    assert tms["crs"].endswith("EPSG/0/3857") or "3857" in str(tms["crs"])
    z6 = next(m for m in tms["tileMatrices"] if m["id"] == "6")
    assert z6["matrixWidth"] == z6["matrixHeight"] == 64 and z6["cornerOfOrigin"] == "topLeft"
    assert client.get("/ogc/tileMatrixSets/WorldCRS84Quad").status_code == 404
    landing = {x["rel"] for x in client.get("/ogc").json()["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes" in landing


def test_tileset_metadata_and_links(client):
    links = client.get("/ogc/collections/communes").json()["links"]
    tiles_link = next(x for x in links if x["rel"].endswith("tilesets-vector"))
    listed = client.get(tiles_link["href"].replace("http://testserver", "")).json()
    assert listed["tilesets"][0]["dataType"] == "vector"
    meta = client.get(TILE).json()
    assert meta["tileMatrixSetURI"].endswith("WebMercatorQuad")
    z6 = next(x for x in meta["tileMatrixSetLimits"] if x["tileMatrix"] == "6")
    assert (
        z6["minTileCol"] <= 50 <= z6["maxTileCol"] and z6["minTileRow"] <= 28 <= z6["maxTileRow"]
    )  # fmt: skip  (Vietnam at zoom 6)
    item = next(x for x in meta["links"] if x["rel"] == "item")
    assert item["href"].endswith("/{tileMatrix}/{tileRow}/{tileCol}") and item["templated"]
    assert "completion_pct" in meta["layers"][0]["propertiesSchema"]["properties"]


@pytest.mark.parametrize(("z", "x", "y"), [(6, 50, 28), (9, 406, 228), (3, 6, 3)])
def test_ogc_tile_is_the_tiles_tile(client, z, x, y):
    ogc = client.get(f"{TILE}/{z}/{y}/{x}")  # row = y, column = x
    plain = client.get(f"/tiles/communes/{z}/{x}/{y}.mvt")
    assert ogc.status_code == plain.status_code == 200
    assert ogc.content == plain.content and len(ogc.content) > 100
    assert ogc.headers["content-type"] == "application/vnd.mapbox-vector-tile"


def test_ogc_tile_errors(client):
    assert client.get(f"{TILE}/6/64/0").status_code == 404  # row outside the 64×64 grid
    assert client.get(f"{TILE}/17/0/0").status_code == 404  # past the last zoom
    assert client.get("/ogc/collections/nope/tiles/WebMercatorQuad/0/0/0").status_code == 404
    assert client.get("/ogc/collections/communes/tiles/Other/0/0/0").status_code == 404
    assert client.get(f"{TILE}/6/0/0").status_code == 204  # ocean: an empty tile


def get_paths(client) -> list[str]:
    spec = client.get("/openapi.json").json()
    out = []
    for path, item in spec["paths"].items():
        if "get" not in item:
            continue
        out.append(re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m.group(1), "01"), path))
    return out


def test_head_on_every_get_route(client):
    paths = get_paths(client)
    assert len(paths) > 30
    for path in paths:
        r = client.head(path)
        assert r.status_code != 405, path
        assert r.content == b"", path


def test_head_has_the_get_headers(client):
    for path in ("/ogc/collections/communes/items?limit=3", "/api/v1/provinces", f"{TILE}/6/28/50"):
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["etag"] == get.headers["etag"]
        assert head.headers["content-length"] == get.headers["content-length"]
        assert head.headers["content-type"] == get.headers["content-type"]
    cached = client.head("/api/v1/provinces", headers={"If-None-Match": get.headers["etag"]})
    assert cached.status_code in (200, 304)
    assert client.head("/api/v1/imports/boundaries").status_code in (401, 405, 404, 400)


def test_head_live(live_server):
    import httpx

    r = httpx.head(f"{live_server}/ogc/collections/provinces/items?limit=2", timeout=60)
    assert r.status_code == 200 and int(r.headers["content-length"]) > 100 and r.content == b""
