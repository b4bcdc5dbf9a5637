"""OGC API – Features Part 3 (CQL2 filter), sortby, properties and datetime on
/ogc/collections/{id}/items, sortby/properties on the /api/v1 layers, the queryables and
the schema — checked against what the API itself answers, plus GDAL's ogr2ogr pushing a
-where to the server (issue 13)."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time

import orjson
import pyogrio
import pytest

ITEMS = "/ogc/collections/communes/items"
PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter"


def ids(client, params, path=ITEMS):
    r = client.get(path, params={"limit": 10000, "properties": "code", **params})
    assert r.status_code == 200, r.text
    return [f["id"] for f in r.json()["features"]]


@pytest.fixture(scope="module")
def communes(client):
    """Every commune's figures as /api/v1 serves them (the reference for the filters)."""
    fc = client.get(
        "/api/v1/communes",
        params={"fields": "code,province_code,completion_pct,tasks_overdue,name,population"},
    ).json()
    return [f["properties"] for f in fc["features"]]


def test_cql2_text_filter_equals_the_api_figures(client, communes):
    got = ids(client, {"filter": "completion_pct > 90 AND province_code = '96'"})
    want = sorted(
        c["code"]
        for c in communes
        if c["province_code"] == "96" and (c["completion_pct"] or 0) > 90
    )
    assert got == want and len(want) > 0


def test_cql2_json_gives_the_same_features_as_text(client):
    text = ids(client, {"filter": "tasks_overdue >= 3 OR name LIKE 'Ba%'"})
    doc = {
        "op": "or",
        "args": [
            {"op": ">=", "args": [{"property": "tasks_overdue"}, 3]},
            {"op": "like", "args": [{"property": "name"}, "Ba%"]},
        ],
    }
    as_json = ids(client, {"filter": orjson.dumps(doc).decode(), "filter-lang": "cql2-json"})
    assert text == as_json and 0 < len(text) < 3321


def test_spatial_predicates_agree_with_bbox(client):
    box = "105.7,20.9,105.9,21.1"
    by_bbox = ids(client, {"bbox": box})
    inter = ids(client, {"filter": f"S_INTERSECTS(geometry, BBOX({box}))"})
    assert inter == by_bbox and "00004" in inter  # Ba Đình
    polygon = "POLYGON((105.7 20.9, 105.9 20.9, 105.9 21.1, 105.7 21.1, 105.7 20.9))"
    within = ids(client, {"filter": f"S_WITHIN(geometry, {polygon})"})
    disjoint = ids(client, {"filter": f"S_DISJOINT(geometry, {polygon})"})
    assert set(within) < set(inter) and len(within) > 0
    assert len(disjoint) + len(inter) == 3321 and not set(disjoint) & set(inter)
    doc = {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [105.7, 20.9,
                                                                       105.9, 21.1]}]}  # fmt: skip
    assert ids(client, {"filter": orjson.dumps(doc).decode()}) == inter
    point = ids(client, {"filter": "S_CONTAINS(geometry, POINT(105.8342 21.0358))"})
    assert len(point) == 1  # the ward holding that point, nothing else


def test_filter_crs_reads_lat_lon_geometry(client):
    lonlat = ids(client, {"filter": "S_CONTAINS(geometry, POINT(105.8342 21.0358))"})
    latlon = ids(
        client,
        {
            "filter": "S_CONTAINS(geometry, POINT(21.0358 105.8342))",
            "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326",
        },
    )
    assert latlon == lonlat


def test_comparison_classes(client, communes):
    assert ids(client, {"filter": "code IN ('00004', '00008', '99999')"}) == ["00004", "00008"]
    assert ids(client, {"filter": "code NOT IN ('00004')"}).count("00004") == 0
    mid = ids(client, {"filter": "completion_pct BETWEEN 40 AND 60"})
    assert mid == sorted(
        c["code"] for c in communes if c["completion_pct"] is not None
        and 40 <= c["completion_pct"] <= 60
    )  # fmt: skip
    ba = ids(client, {"filter": "CASEI(name) LIKE CASEI('ba đình')"})
    assert ba == sorted(c["code"] for c in communes if c["name"] == "Ba Đình") and "00004" in ba
    nulls = ids(client, {"filter": "completion_pct IS NULL"})
    assert nulls == sorted(c["code"] for c in communes if c["completion_pct"] is None)
    assert len(ids(client, {"filter": "NOT (province_code = '01')"})) == 3321 - len(
        ids(client, {"filter": "province_code = '01'"})
    )
    assert len(ids(client, {"filter": "valid_from = DATE('2025-07-01')"})) == 3321


def test_indicator_values_are_queryable(client):
    q = client.get("/ogc/collections/communes/queryables").json()["properties"]
    indicator = next(n for n in q if n.endswith("_rank"))[:-5]
    top = ids(client, {"filter": f"{indicator}_rank <= 3"})
    assert 1 <= len(top) <= 10
    r = client.get(ITEMS, params={"filter": f"{indicator} > 0", "sortby": f"-{indicator}",
                                  "properties": f"code,{indicator}", "limit": 3})  # fmt: skip
    vals = [f["properties"][indicator] for f in r.json()["features"]]
    assert vals == sorted(vals, reverse=True) and len(vals) == 3


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"filter": "nope > 3"}, "unknown property 'nope'"),
        ({"filter": "name > 5"}, "compares a string with a number"),
        ({"filter": "completion_pct >"}, "cannot parse"),
        ({"filter": "completion_pct + 1 > 3"}, "not supported"),
        ({"filter": "{bad json", "filter-lang": "cql2-json"}, "not valid JSON"),
        ({"filter": "code = '1'", "filter-lang": "sql"}, "filter-lang"),
        ({"filter": " OR ".join(f"code = '{i}'" for i in range(120))}, "nodes"),
        ({"filter": "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))"}, "not valid"),
        ({"filter": "S_INTERSECTS(name, POINT(1 2))"}, "geometry"),
        ({"filter": "NOT (" * 250 + "code = '1'" + ")" * 250}, "filter"),
        ({"filter": "valid_from = 'garbage'"}, "not a date"),
        ({"filter": "name LIKE 'Ba\\'"}, "escape"),
        ({"filter": "tasks_total > 1" + "0" * 400}, "too large"),
        ({"filter": "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2)))"}, "collections"),
        ({"sortby": "-nope"}, "sortby"),
        ({"sortby": "a,b,c,d,e,f"}, "at most"),
        ({"properties": "code,nope"}, "nope"),
        ({"datetime": "garbage"}, "datetime"),
        ({"datetime": "2026-01-01/2025-01-01"}, "after its end"),
        ({"filter-crs": "EPSG:1234", "filter": "code = '1'"}, "filter-crs"),
    ],
)
def test_bad_queries_are_400_naming_the_problem(client, params, words):
    r = client.get(ITEMS, params=params)
    assert r.status_code == 400, r.text
    assert words in r.json()["detail"]


def test_sortby_gives_the_highest_first_with_stable_ties(client, communes):
    r = client.get(ITEMS, params={"sortby": "-completion_pct", "limit": 5,
                                  "properties": "code,completion_pct"})  # fmt: skip
    got = [(f["id"], f["properties"]["completion_pct"]) for f in r.json()["features"]]
    ranked = sorted(
        (c for c in communes if c["completion_pct"] is not None),
        key=lambda c: (-c["completion_pct"], c["code"]),
    )
    assert got == [(c["code"], c["completion_pct"]) for c in ranked[:5]]
    two = client.get(ITEMS, params={"sortby": "+province_code,-tasks_overdue", "limit": 50,
                                    "properties": "province_code,tasks_overdue"})  # fmt: skip
    two = two.json()
    keys = [(f["properties"]["province_code"], -f["properties"]["tasks_overdue"], f["id"])
            for f in two["features"]]  # fmt: skip
    assert keys == sorted(keys)
    page2 = client.get(ITEMS, params={"sortby": "-completion_pct", "limit": 5, "offset": 5,
                                      "properties": "code"}).json()  # fmt: skip
    assert [f["id"] for f in page2["features"]] == [c["code"] for c in ranked[5:10]]


def test_sortby_and_properties_on_api_v1_layers(client):
    r = client.get("/api/v1/communes", params={"sortby": "-completion_pct", "limit": 5})
    ogc = client.get(ITEMS, params={"sortby": "-completion_pct", "limit": 5})
    assert [f["id"] for f in r.json()["features"]] == [f["id"] for f in ogc.json()["features"]]
    prov = client.get("/api/v1/provinces", params={"sortby": "-code", "properties": "code,name"})
    codes = [f["properties"]["code"] for f in prov.json()["features"]]
    assert len(codes) == 34 and set(prov.json()["features"][0]["properties"]) == {"code", "name"}
    assert codes == sorted(codes, reverse=True)
    sub = client.get("/api/v1/provinces/01/communes", params={"sortby": "-tasks_overdue,code"})
    overdue = [f["properties"]["tasks_overdue"] for f in sub.json()["features"]]
    assert overdue == sorted(overdue, reverse=True) and len(overdue) > 100
    assert client.get("/api/v1/communes", params={"sortby": "-x"}).status_code == 400
    both = client.get("/api/v1/communes", params={"fields": "code", "properties": "code"})
    assert both.status_code == 400


def test_properties_select_what_is_returned(client):
    r = client.get(ITEMS, params={"properties": "name,completion_pct", "limit": 2})
    for f in r.json()["features"]:
        assert set(f["properties"]) == {"name", "completion_pct"} and f["geometry"]


def test_datetime_filters_by_validity(client):
    def matched(value):
        r = client.get(ITEMS, params={"datetime": value, "limit": 1})
        assert r.status_code == 200, r.text
        return r.json()["numberMatched"]

    assert matched("2020-01-01") == 0  # every unit is valid from 2025-07-01
    assert matched("../2025-06-30") == 0
    assert matched("2025-07-01") == 3321
    assert matched("2025-07-01T08:00:00Z") == 3321
    assert matched("2024-01-01/..") == 3321
    assert matched("2020-01-01/2025-07-01") == 3321


def test_as_of_year_period_extensions(client):
    early = client.get(ITEMS, params={"as_of": "2025-07-02", "properties": "tasks_overdue",
                                      "limit": 3321}).json()  # fmt: skip
    late = client.get(ITEMS, params={"properties": "tasks_overdue", "limit": 3321}).json()
    total = [sum(f["properties"]["tasks_overdue"] for f in fc["features"]) for fc in (early, late)]
    assert total[0] < total[1]
    assert client.get(ITEMS, params={"year": 2025, "limit": 1}).status_code == 200
    per = client.get(ITEMS, params={"period": "2025-Q2", "limit": 1}).json()
    assert any(k.endswith("_rank") for k in per["features"][0]["properties"])


def test_queryables_and_schema_carry_types(client):
    r = client.get("/ogc/collections/communes/queryables")
    assert r.headers["content-type"].startswith("application/schema+json")
    props = r.json()["properties"]
    assert props["completion_pct"]["type"] == "number"
    assert props["tasks_overdue"]["type"] == props["tasks_total"]["type"] == "integer"
    assert props["population"]["type"] == "integer" and props["area_km2"]["type"] == "number"
    assert props["valid_from"] == {"type": "string", "format": "date", "title": props[
        "valid_from"]["title"]}  # fmt: skip
    assert props["geometry"]["format"] == "geometry-multipolygon"
    assert any(n.endswith("_rank") for n in props)
    prov = client.get("/ogc/collections/provinces/queryables").json()["properties"]
    assert "communes" in prov and "province_code" not in prov
    schema = client.get("/ogc/collections/communes/schema").json()
    assert schema["properties"]["code"]["x-ogc-role"] == "id"
    assert schema["properties"]["geometry"]["x-ogc-role"] == "primary-geometry"
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert PART3 in conf and "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in conf
    links = client.get("/ogc/collections/communes").json()["links"]
    assert {"http://www.opengis.net/def/rel/ogc/1.0/schema", "queryables"} <= {
        x["rel"] for x in links
    }


def test_filtered_pages_are_cached(client):
    params = {"filter": "completion_pct > 95", "sortby": "-completion_pct", "limit": 7}
    first = client.get(ITEMS, params=params)
    again = client.get(ITEMS, params=params, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    other = client.get(ITEMS, params={**params, "filter": "completion_pct > 96"})
    assert other.headers["etag"] != first.headers["etag"]


def test_owslib_reads_the_queryables(live_server):
    from owslib.ogcapi.features import Features

    q = Features(f"{live_server}/ogc").collection_queryables("communes")
    assert q["properties"]["completion_pct"]["type"] == "number"


@pytest.fixture(scope="module")
def logged_server(engine, db_url):
    """The app under uvicorn with its access log captured (what the server was asked)."""
    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Keep()
    logging.getLogger("uvicorn.access").addHandler(handler)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Settings(database_url=db_url)), host="127.0.0.1", port=port,
            log_level="info", access_log=True, lifespan="on", log_config=None,
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", lines
    server.should_exit = True
    thread.join(timeout=10)
    logging.getLogger("uvicorn.access").removeHandler(handler)


@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="ogr2ogr (gdal-bin) missing")
def test_ogr2ogr_where_is_sent_to_the_server(logged_server, client, communes, tmp_path):
    base, lines = logged_server
    out = tmp_path / "out.gpkg"
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{base}/ogc", "communes",
         "-where", "completion_pct > 90 AND province_code = '96'"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    sent = [line for line in lines if "/items?" in line and "filter=" in line]
    assert sent, lines
    assert any("completion_pct" in line and "province_code" in line for line in sent)
    df = pyogrio.read_dataframe(out)
    want = sorted(
        c["code"] for c in communes
        if c["province_code"] == "96" and (c["completion_pct"] or 0) > 90
    )  # fmt: skip
    assert sorted(df.code) == want
