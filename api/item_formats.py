"""OGC items in the other encodings analysts ask for: CSV and GeoJSON text sequences.

Why from the GeoJSON bytes: the FeatureCollection is what the cache and the query already
produce, so these formats cannot drift from it; each is a cheap reshaping of one page.
CSV cells that look like formulas are neutralised (a spreadsheet would run them);
geometry is WKT in the last column. GeoJSON text sequences (RFC 8142) put each feature
in its own record (RS … LF), the form GDAL's ``GeoJSONSeq`` driver and streaming tools read.
"""

from __future__ import annotations

import csv
import io

import orjson
import shapely
from shapely.geometry import shape

from geo.safe_text import spreadsheet_cell

CSV = "text/csv; charset=utf-8"
GEOJSONSEQ = "application/geo+json-seq"


def to_csv(collection: bytes) -> bytes:
    features = orjson.loads(collection).get("features", [])
    columns: list[str] = []
    for f in features:
        for key in f.get("properties") or {}:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", *columns, "wkt"])
    for f in features:
        props = f.get("properties") or {}
        cells = [props.get(c) for c in columns]
        cells = [orjson.dumps(v).decode() if isinstance(v, dict | list) else v for v in cells]
        geom = f.get("geometry")
        wkt = shapely.to_wkt(shape(geom), rounding_precision=-1) if geom else ""
        writer.writerow([spreadsheet_cell(v) for v in (f.get("id"), *cells)] + [wkt])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_geojsonseq(collection: bytes) -> bytes:
    features = orjson.loads(collection).get("features", [])
    return b"".join(b"\x1e" + orjson.dumps(f) + b"\n" for f in features)


ITEM_FORMATS = {"csv": (to_csv, CSV), "geojsonseq": (to_geojsonseq, GEOJSONSEQ)}
