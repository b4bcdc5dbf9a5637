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
