"""/api/v1/provinces and /communes: the contract the maps and analysts build on."""

from __future__ import annotations

import pytest
from shapely.geometry import shape

LEAN_COMMON = {
    "code", "name", "kind", "full_name", "tasks_total", "tasks_completed",
    "tasks_completed_late", "tasks_on_time", "tasks_overdue", "completion_pct",
    "geometry_quality",
}  # fmt: skip


def test_provinces_lean_properties_and_collection_members(client):
    r = client.get("/api/v1/provinces")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["numberMatched"] == fc["numberReturned"] == 34
    assert fc["data_as_of"] == fc["as_of"] == "2025-11-13"
    assert isinstance(fc["data_version"], int)
    assert [link["rel"] for link in fc["links"]] == ["self"]
    props = {f["id"]: f["properties"] for f in fc["features"]}
    assert set(props["96"]) == LEAN_COMMON | {"communes", "communes_all_groups_done"}
    # Cà Mau's whole programme: 123 tasks, 66 done (53.66 %); Nghệ An: 130/130 communes done
    assert (props["96"]["tasks_total"], props["96"]["tasks_completed"]) == (123, 66)
    assert props["96"]["completion_pct"] == 53.66
    assert props["40"]["communes"] == props["40"]["communes_all_groups_done"] == 130


def test_communes_default_returns_all_3321_with_province(client):
    fc = client.get("/api/v1/communes").json()
    assert fc["numberMatched"] == fc["numberReturned"] == 3321
    p = next(f for f in fc["features"] if f["id"] == "00004")["properties"]
    assert set(p) == LEAN_COMMON | {"province_code", "province_name", "groups_done", "groups_total"}
    assert (p["province_code"], p["province_name"], p["groups_total"]) == ("01", "Hà Nội", 16)


def test_fields_keeps_only_what_is_asked(client):
    fc = client.get("/api/v1/provinces", params={"fields": "code,completion_pct"}).json()
    assert all(set(f["properties"]) == {"code", "completion_pct"} for f in fc["features"])


def test_period_adds_flat_indicator_values_and_ranks(client):
    fc = client.get("/api/v1/provinces", params={"period": "2025-Q3"}).json()
    dak_lak = next(f for f in fc["features"] if f["id"] == "66")["properties"]
    assert dak_lak["service_index_rank"] == 8  # 8th of 34 in 2025-Q3 (published)
    for code in ("service_index", "dti", "pii", "online_rate", "ontime_rate", "data_reuse_rate"):
        assert code in dak_lak and f"{code}_rank" in dak_lak
    nghe_an = client.get(
        "/api/v1/provinces", params={"province": "40", "fields": "code,data_reuse_rate"}
    ).json()
    assert nghe_an["period"] == "2025-Q3"  # default: the latest period
    ranked = client.get(
        "/api/v1/rankings",
        params={"indicator": "data_reuse_rate", "level": "province", "period": "2025-Q3"},
    ).json()["items"]
    rank = next(item["rank"] for item in ranked if item["code"] == "40")
    assert nghe_an["features"][0]["properties"] == {
        "code": "40",
        "data_reuse_rate": 74.0,
        "data_reuse_rate_rank": rank,  # the same rank /rankings gives
    }


def test_province_filter_and_alias_agree(client):
    a = client.get("/api/v1/communes", params={"province": "40"}).json()
    b = client.get("/api/v1/provinces/40/communes").json()
    assert a["numberMatched"] == 130
    assert [f["id"] for f in a["features"]] == [f["id"] for f in b["features"]]
    assert all(f["properties"]["province_code"] == "40" for f in a["features"])


def test_status_filter_keeps_units_with_such_a_task(client):
    overdue = client.get("/api/v1/provinces", params={"status": "overdue"}).json()
    assert 0 < overdue["numberMatched"] < 34
    assert all(f["properties"]["tasks_overdue"] > 0 for f in overdue["features"])
    ca_mau = client.get("/api/v1/provinces", params={"status": "overdue", "q": "ca mau"}).json()
    assert ca_mau["numberMatched"] == 0  # Cà Mau: none overdue


def test_q_is_diacritic_insensitive(client):
    fc = client.get("/api/v1/provinces", params={"q": "dak lak"}).json()
    assert [f["properties"]["name"] for f in fc["features"]] == ["Đắk Lắk"]
    same = client.get("/api/v1/provinces", params={"q": "Đắk Lắk"}).json()
    assert [f["id"] for f in same["features"]] == ["66"]


def test_bbox_selects_intersecting_units(client):
    fc = client.get("/api/v1/provinces", params={"bbox": "105.7,20.9,105.9,21.1"}).json()
    ids = {f["id"] for f in fc["features"]}
    assert "01" in ids and "96" not in ids
    for f in fc["features"]:
        minx, miny, maxx, maxy = shape(f["geometry"]).bounds
        assert minx <= 105.9 and maxx >= 105.7 and miny <= 21.1 and maxy >= 20.9


def test_paging_links_and_counts(client):
    first = client.get("/api/v1/communes", params={"province": "96", "limit": 10}).json()
    assert (first["numberMatched"], first["numberReturned"]) == (64, 10)
    links = {link["rel"]: link["href"] for link in first["links"]}
    assert "prev" not in links and "offset=10" in links["next"]
    second = client.get(links["next"].replace("http://testserver", "")).json()
    assert second["numberReturned"] == 10
    assert not {f["id"] for f in first["features"]} & {f["id"] for f in second["features"]}
    prev = {link["rel"]: link["href"] for link in second["links"]}["prev"]
    assert "offset" not in prev
    last = client.get("/api/v1/communes", params={"province": "96", "limit": 10, "offset": 60})
    assert "next" not in {link["rel"] for link in last.json()["links"]}
    assert last.json()["numberReturned"] == 4


def test_resolution_and_zoom_pick_lighter_geometry(client):
    full = client.get("/api/v1/communes", params={"province": "40", "resolution": "full"})
    z6 = client.get("/api/v1/communes", params={"province": "40", "resolution": "z6"})
    zoom = client.get("/api/v1/communes", params={"province": "40", "zoom": 5})
    assert len(z6.content) < len(full.content)
    assert zoom.json()["features"] == z6.json()["features"]


def test_detail_feature_has_indicators_province_and_links(client):
    f = client.get("/api/v1/communes/00004").json()
    assert f["type"] == "Feature" and f["id"] == "00004"
    p = f["properties"]
    assert p["province"] == {"code": "01", "name": "Hà Nội"}
    assert {"area_km2", "label_lon", "label_lat", "source"} <= set(p)
    inds = {i["code"]: i for i in p["indicators"]}
    online = inds["online_rate"]
    assert online["period"] == "2025-Q3" and online["previous_period"] == "2025-Q2"
    assert online["rank_of"] == 3321
    assert online["change"] == pytest.approx(online["value"] - online["previous_value"], abs=1e-3)
    assert online["rank_change"] == online["previous_rank"] - online["rank"]
    rels = {link["rel"]: link["href"] for link in f["links"]}
    assert rels["tasks"].endswith("/api/v1/units/00004/tasks")
    assert rels["up"].endswith("/api/v1/provinces/01")
    province = client.get("/api/v1/provinces/66", params={"period": "2025-Q3"}).json()
    svc = next(i for i in province["properties"]["indicators"] if i["code"] == "service_index")
    assert (svc["rank"], svc["rank_of"]) == (8, 34)


def test_304_and_etag_per_query(client):
    plain = {"Accept-Encoding": "identity"}
    r = client.get("/api/v1/communes", params={"province": "40"}, headers=plain)
    assert "content-encoding" not in r.headers
    etag = r.headers["etag"]
    assert (
        client.get(
            "/api/v1/communes", params={"province": "40"}, headers={**plain, "If-None-Match": etag}
        ).status_code
        == 304
    )
    assert (
        client.get(
            "/api/v1/communes", params={"province": "96"}, headers={**plain, "If-None-Match": etag}
        ).status_code
        == 200
    )
    gz = client.get(
        "/api/v1/communes", params={"province": "40"}, headers={"Accept-Encoding": "gzip"}
    )
    assert gz.headers["content-encoding"] == "gzip" and gz.headers["etag"] != etag
    assert gz.json() == r.json()


@pytest.mark.parametrize(
    ("params", "status", "param"),
    [
        ({"bbox": "100,8,200,24"}, 400, "bbox"),  # longitude out of range
        ({"bbox": "110,8,100,24"}, 400, "bbox"),  # min > max
        ({"bbox": "a,b,c,d"}, 400, "bbox"),
        ({"limit": 5001}, 400, "limit"),  # over the cap
        ({"fields": "code,nope"}, 400, "fields"),
        ({"province": "99"}, 404, "province"),
        ({"province": "4"}, 422, "province"),
        ({"status": "late"}, 422, "status"),
        ({"period": "Q3"}, 422, "period"),
        ({"resolution": "z7"}, 422, "resolution"),
        ({"zoom": 5, "resolution": "z6"}, 400, "resolution"),
        ({"provinec": "40"}, 400, "provinec"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_parameter(client, params, status, param):
    r = client.get("/api/v1/communes", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert param in body["detail"] or any(e.get("param") == param for e in body["errors"])


def test_unknown_codes_are_404(client):
    assert client.get("/api/v1/communes/99999").status_code == 404
    assert client.get("/api/v1/provinces/99").status_code == 404
    assert client.get("/api/v1/communes/123").status_code == 422
