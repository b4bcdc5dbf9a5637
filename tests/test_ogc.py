"""OGC API – Features at /ogc, checked with the real clients: GDAL (ogrinfo/ogr2ogr) and
OWSLib, plus the Part 1 rules they rely on."""

from __future__ import annotations

import json
import subprocess

import pyogrio
import pytest

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


def test_landing_links(client):
    body = client.get("/ogc").json()
    rels = {link["rel"]: link for link in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    api = client.get(rels["service-desc"]["href"].replace("http://testserver", ""))
    assert api.json()["openapi"].startswith("3.0")
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    assert (
        client.get(rels["service-doc"]["href"].replace("http://testserver", "")).status_code == 200
    )
    assert CORE in client.get("/ogc/conformance").json()["conformsTo"]
    assert client.get("/ogc", params={"f": "html"}).headers["content-type"].startswith("text/html")


def test_collections_have_extent_and_crs(client):
    cols = {c["id"]: c for c in client.get("/ogc/collections").json()["collections"]}
    assert set(cols) == {"provinces", "communes"}
    minx, miny, maxx, maxy = cols["communes"]["extent"]["spatial"]["bbox"][0]
    assert 102 < minx < 103 and 8 < miny < 9 and 114 < maxx < 115 and 23 < maxy < 24
    assert "http://www.opengis.net/def/crs/EPSG/0/3405" in cols["communes"]["crs"]
    one = client.get("/ogc/collections/communes").json()
    assert one["id"] == "communes" and any(link["rel"] == "items" for link in one["links"])
    q = client.get("/ogc/collections/communes/queryables")
    assert q.headers["content-type"].startswith("application/schema+json")
    assert {"code", "name", "province_code"} <= set(q.json()["properties"])
    assert client.get("/ogc/collections/nope").status_code == 404


def test_items_paging_filters_and_errors(client):
    r = client.get("/ogc/collections/communes/items", params={"limit": 50, "province_code": "40"})
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert (fc["numberMatched"], fc["numberReturned"]) == (130, 50)
    links = {link["rel"]: link["href"] for link in fc["links"]}
    assert "offset=50" in links["next"] and "collection" in links
    page2 = client.get(links["next"].replace("http://testserver", "")).json()
    assert "prev" in {link["rel"] for link in page2["links"]}
    big = client.get("/ogc/collections/communes/items", params={"limit": 100000}).json()
    assert big["numberReturned"] == 3321  # clamped to the max (Part 1), not refused
    one = client.get("/ogc/collections/provinces/items", params={"name": "Đắk Lắk"}).json()
    assert [f["id"] for f in one["features"]] == ["66"]
    box = client.get(
        "/ogc/collections/provinces/items", params={"bbox": "105.7,20.9,105.9,21.1"}
    ).json()
    assert "01" in {f["id"] for f in box["features"]}
    ok = client.get("/ogc/collections/provinces/items", params={"datetime": "2025-11-13"})
    assert ok.status_code == 200
    bad = client.get("/ogc/collections/provinces/items", params={"filter": "x"})
    assert bad.status_code == 400 and "filter" in bad.json()["detail"]
    assert client.get("/ogc/collections/provinces/items",
                      params={"bbox": "1,2,3"}).status_code == 400  # fmt: skip
    item = client.get("/ogc/collections/communes/items/00004").json()
    assert item["properties"]["name"] == "Ba Đình"
    assert client.get("/ogc/collections/communes/items/99999").status_code == 404


def test_crs_part2_vn2000_output(client):
    uri = "http://www.opengis.net/def/crs/EPSG/0/3405"
    r = client.get("/ogc/collections/communes/items/00004", params={"crs": uri})
    assert r.headers["content-crs"] == f"<{uri}>"
    x, y = r.json()["geometry"]["coordinates"][0][0][0]
    assert 500_000 < x < 700_000 and 2_300_000 < y < 2_400_000  # UTM 48N metres, Hà Nội
    latlon = client.get(
        "/ogc/collections/communes/items/00004",
        params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
    ).json()
    lat, lon = latlon["geometry"]["coordinates"][0][0][0]
    assert 20 < lat < 22 and 105 < lon < 107  # EPSG:4326 is latitude first
    assert client.get("/ogc/collections/communes/items",
                      params={"crs": "EPSG:9999"}).status_code == 400  # fmt: skip


def test_ogrinfo_lists_both_layers(live_server):
    out = subprocess.run(
        ["ogrinfo", "-so", f"OAPIF:{live_server}/ogc"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "provinces" in out and "communes" in out
    layer = subprocess.run(
        ["ogrinfo", "-so", f"OAPIF:{live_server}/ogc", "communes"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "Feature Count: 3321" in layer and "province_name: String" in layer


def test_ogr2ogr_copies_all_communes_with_vietnamese_names(live_server, tmp_path):
    out = tmp_path / "communes.gpkg"
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live_server}/ogc", "communes"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    df = pyogrio.read_dataframe(out)
    assert len(df) == 3321 and df.code.is_unique
    ward = df[df.code == "00004"].iloc[0]
    assert (ward["name"], ward["full_name"], ward["province_name"]) == (
        "Ba Đình", "Phường Ba Đình", "Hà Nội"
    )  # fmt: skip
    assert df.geometry.is_valid.all()
    assert {"tasks_total", "completion_pct", "groups_done"} <= set(df.columns)


def test_owslib_features_client(live_server):
    from owslib.ogcapi.features import Features

    w = Features(f"{live_server}/ogc")
    assert CORE in w.conformance()["conformsTo"]
    assert {c["id"] for c in w.collections()["collections"]} == {"provinces", "communes"}
    items = w.collection_items("communes", limit=200, province_code="40")
    assert items["numberMatched"] == 130 and len(items["features"]) == 130
    names = {f["properties"]["name"] for f in items["features"]}
    assert "Thành Vinh" in names
    assert w.collection_item("provinces", "96")["properties"]["name"] == "Cà Mau"


@pytest.mark.parametrize(
    ("path", "member"),
    [("/ogc", "links"), ("/ogc/conformance", "conformsTo"), ("/ogc/collections", "collections")],
)
def test_ogc_documents_are_json(client, path, member):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = json.loads(r.content)
    assert doc[member], (path, doc)
    if path == "/ogc":
        assert {"self", "conformance", "data"} <= {link["rel"] for link in doc["links"]}


def test_items_carry_every_queryable_and_gdal_filters_on_indicators(client, live_server):
    """Indicators are fields GDAL sees: ``ogrinfo … -where "data_reuse_rate > 80"`` returns
    the same communes as the server's own CQL2 filter."""
    queryables = client.get("/ogc/collections/communes/queryables").json()["properties"]
    item = client.get("/ogc/collections/communes/items", params={"limit": 1}).json()
    props = item["features"][0]["properties"]
    missing = [q for q in queryables if q not in props and q != "geometry"]
    assert missing == []
    server = client.get(
        "/ogc/collections/communes/items",
        params={"filter": "data_reuse_rate > 80", "limit": 5000, "properties": "code"},
    ).json()
    expected = {f["id"] for f in server["features"]}
    assert expected
    out = subprocess.run(
        ["ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/ogc", "communes",
         "-where", "data_reuse_rate > 80", "-fields=NO", "-geom=NO"],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    assert out.count("OGRFeature(communes)") == len(expected)
