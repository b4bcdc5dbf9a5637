"""The HTTP contract of the first slice: GeoJSON form, caching validators, errors."""

from __future__ import annotations

import re

import shapely
from shapely.geometry import shape


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ok" and ready["data_as_of"] == "2025-11-13"


def test_geojson_media_type_ids_and_rfc7946_rings(client):
    r = client.get("/api/v1/provinces/96/communes")
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    for f in fc["features"]:
        assert re.fullmatch(r"\d{5}", f["id"])
        geom = shape(f["geometry"])
        assert geom.geom_type == "MultiPolygon"
        for poly in geom.geoms:
            assert poly.exterior.is_ccw, f"{f['id']} exterior ring must be counter-clockwise"


def test_precision_parameter_rounds_coordinates(client):
    fc = client.get("/api/v1/provinces", params={"precision": 2}).json()
    coords = shapely.get_coordinates(shape(fc["features"][0]["geometry"]))
    assert (abs(coords * 100 - (coords * 100).round()) < 1e-6).all()


def test_zoom_picks_a_lighter_geometry(client):
    full = client.get("/api/v1/provinces").content
    light = client.get("/api/v1/provinces", params={"zoom": 5}).content
    assert len(light) < len(full)


def test_etag_304_and_gzip(client):
    r = client.get("/api/v1/provinces", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    etag = r.headers["etag"]
    again = client.get("/api/v1/provinces", headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get("/api/v1/provinces?year=2025", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_unknown_parameter_is_a_400_naming_it(client):
    r = client.get("/api/v1/provinces", params={"yaer": 2025})
    assert r.status_code == 400
    assert "yaer" in r.json()["detail"]


def test_bad_values_are_4xx_not_500(client):
    assert client.get("/api/v1/provinces", params={"year": "abc"}).status_code == 422
    assert client.get("/api/v1/provinces", params={"as_of": "13/11/2025"}).status_code == 422
    assert client.get("/api/v1/provinces/99/communes").status_code == 404
    assert client.get("/api/v1/provinces/4/communes").status_code == 422
    body = client.get("/api/v1/provinces", params={"precision": 99}).json()
    assert body["errors"][0]["param"] == "precision"
