"""OGC items as CSV (properties + WKT, formulas neutralised, Vietnamese intact) and as GeoJSON
text sequences (RFC 8142) that GDAL reads."""

from __future__ import annotations

import csv
import io

import orjson
import pyogrio

URL = "/ogc/collections/communes/items"


def test_csv_items(client):
    params = {"province_code": "40", "limit": 200}
    fc = client.get(URL, params=params).json()
    r = client.get(URL, params={**params, "f": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == fc["numberReturned"] == 130
    by_code = {row["id"]: row for row in rows}
    first = fc["features"][0]
    assert by_code[first["id"]]["name"] == first["properties"]["name"]
    assert all(row["wkt"].startswith(("POLYGON", "MULTIPOLYGON")) for row in rows)


def test_geojsonseq_items_read_by_gdal(client, tmp_path):
    r = client.get(URL, params={"province_code": "96", "limit": 100, "f": "geojsonseq"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json-seq")
    records = [rec for rec in r.content.split(b"\x1e") if rec]
    assert records and all(rec.endswith(b"\n") for rec in records)
    assert all(orjson.loads(rec)["type"] == "Feature" for rec in records)
    path = tmp_path / "ca_mau.geojsons"
    path.write_bytes(r.content)
    gdf = pyogrio.read_dataframe(path)
    assert len(gdf) == len(records) and gdf.geometry.is_valid.all()
