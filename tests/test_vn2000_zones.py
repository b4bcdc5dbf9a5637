"""VN-2000 everywhere: the provinces' TM-3 zones (EPSG 9205–9218) and the older zones are
output CRSs of /api/v1, OGC items and downloads, and agree with pyproj's transform."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from geo.crs_names import OUTPUT_CRS


@pytest.mark.parametrize("epsg", [9205, 9210, 9218, 5899])
def test_api_crs_agrees_with_pyproj_within_a_millimetre(client, epsg):
    """Hà Nội's communes in a TM-3 zone equal pyproj's transform of the WGS 84 output
    (at 9 decimals, ≈ 0.1 mm) to the millimetre, vertex for vertex."""
    params = {"province": "01", "limit": 30}
    wgs = client.get("/api/v1/communes", params={**params, "precision": 9}).json()
    got = client.get("/api/v1/communes", params={**params, "precision": 4, "crs": f"EPSG:{epsg}"})
    assert got.status_code == 200, got.text
    assert got.headers["content-crs"] == f"<http://www.opengis.net/def/crs/EPSG/0/{epsg}>"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        to = Transformer.from_crs(4326, epsg, always_xy=True)
    worst = 0.0
    for a, b in zip(wgs["features"], got.json()["features"], strict=True):
        assert a["id"] == b["id"]
        expected = shapely.transform(
            shape(a["geometry"]), lambda xy: np.column_stack(to.transform(xy[:, 0], xy[:, 1]))
        )
        worst = max(worst, shapely.hausdorff_distance(expected, shape(b["geometry"])))
    assert worst < 0.001, f"{worst:.4f} m"


def test_every_output_crs_is_offered_by_ogc_and_downloads(client):
    doc = client.get("/ogc/collections/communes").json()
    listed = {c.rsplit("/", 1)[-1] for c in doc["crs"] if "EPSG" in c}
    assert listed == {str(c) for c in OUTPUT_CRS}
    r = client.get(
        "/ogc/collections/communes/items",
        params={"limit": 2, "crs": "http://www.opengis.net/def/crs/EPSG/0/9210"},
    )
    assert r.status_code == 200, r.text
    d = client.get("/api/v1/download/communes.csv", params={"province": "01", "crs": "EPSG:9210"})
    assert d.status_code == 200 and "9210" in d.headers["content-crs"]


def test_nearest_tm3_zone():
    from geo.crs_names import TM3_MERIDIANS, nearest_tm3

    assert set(TM3_MERIDIANS) == set(OUTPUT_CRS) - {4326, 4756, 3405, 3406}
    assert nearest_tm3(105.8) == 9210  # 105°45′
    assert nearest_tm3(107.8) == 5899  # 107°45′ (Đà Nẵng's)
    assert nearest_tm3(108.1) == 5898  # 108°00′
    assert nearest_tm3(109.4) == 9218  # east of the last meridian: 108°30′
    assert nearest_tm3(104.625) == 9207  # a tie goes west (104°30′)


def _link(doc: dict, title_part: str) -> dict:
    return next(x for x in doc["links"] if title_part in (x.get("title") or ""))


def test_every_province_of_2025_has_its_official_zone():
    """The 34 provinces join the 63 former ones, each former province once, each with a
    meridian that is a TM-3 zone served here (Circular 973/2001/TT-TCĐC)."""
    from geo.crs_names import FORMER_PROVINCES, TM3_MERIDIANS, official_tm3

    assert len(FORMER_PROVINCES) == 34
    former = [name for merged in FORMER_PROVINCES.values() for name, _ in merged]
    assert len(former) == len(set(former)) == 63
    meridians = {m for merged in FORMER_PROVINCES.values() for _, m in merged}
    assert meridians <= set(TM3_MERIDIANS.values())
    assert official_tm3("99") is None


# The seat's former province decides: Hà Nội 105°00′; Đà Nẵng 107°45′; TP. Hồ Chí Minh 105°45′
# (west of the city itself: the circular's meridian, not the nearest one, which is 106°30′);
# Tuyên Quang 106°00′ although Hà Giang, merged into it, used 105°30′.
@pytest.mark.parametrize(
    ("province", "zone"), [("01", 5897), ("48", 5899), ("79", 9210), ("08", 9211)]
)
def test_a_province_suggests_its_own_tm3_zone(client, province, zone):
    """The province's official zone in /api/v1 and in the OGC documents of the province;
    the suggested link serves the province in that zone."""
    prov = client.get(f"/api/v1/provinces/{province}", params={"precision": 9}).json()
    assert prov["properties"]["suggested_crs"] == f"EPSG:{zone}"
    link = _link(prov, "suggested CRS")
    assert f"EPSG:{zone}" in link["title"]
    moved = client.get(link["href"].replace("http://testserver", ""))
    assert moved.status_code == 200
    assert moved.headers["content-crs"] == f"<http://www.opengis.net/def/crs/EPSG/0/{zone}>"
    mainland = max(shape(moved.json()["geometry"]).geoms, key=lambda g: g.area)
    assert (
        200_000 < mainland.centroid.x < 800_000
    )  # eastings near the zone's meridian (islands lie far)
    commune = client.get(
        "/api/v1/communes", params={"province": province, "limit": 1, "fields": "code"}
    ).json()["features"][0]["id"]
    detail = client.get(f"/api/v1/communes/{commune}").json()
    assert detail["properties"]["suggested_crs"] == f"EPSG:{zone}"  # its province's zone
    uri = f"http://www.opengis.net/def/crs/EPSG/0/{zone}"
    item = client.get(f"/ogc/collections/provinces/items/{province}").json()
    assert f"crs={uri.replace(':', '%3A').replace('/', '%2F')}" in _link(item, "suggested")["href"]
    items = client.get(
        "/ogc/collections/communes/items", params={"province_code": province, "limit": 2}
    ).json()
    href = _link(items, "suggested")["href"].replace("http://testserver", "")
    assert "province_code=" + province in href
    r = client.get(href)
    assert r.status_code == 200 and r.headers["content-crs"] == f"<{uri}>"
    plain = client.get("/ogc/collections/communes/items", params={"limit": 2}).json()
    assert not [x for x in plain["links"] if "suggested" in (x.get("title") or "")]
