"""Check that every geometry the service emits is valid: GeoJSON at each precision and
band, OGC items in VN-2000, CSV WKT and GeoPackage downloads.

Why two judges: shapely (GEOS, what QGIS/geopandas use on the client) and PostGIS
(``ST_IsValid(ST_GeomFromGeoJSON(...))``), as the issue measured. Used by the import tests
on synthetic data, by the demo-data test and by the real-sample end-to-end test.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import orjson
import pyogrio
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.settings import Settings

BANDS = ("full", "z12", "z9", "z6")
OGC_CRS = (
    "http://www.opengis.net/def/crs/EPSG/0/3405",
    "http://www.opengis.net/def/crs/EPSG/0/4756",
)


def invalid_geojson(engine: Engine, body: bytes, seen: set[str] | None = None) -> list[str]:
    """Ids of features whose geometry shapely or PostGIS finds invalid (or unparsable).

    ``seen``: geometry texts already judged valid by an earlier call; the same text gets the
    same verdict, so it is not judged again (precisions past the stored 6-decimal grid emit
    the same coordinates, and both judges were most of the demo check's minutes)."""
    fc = orjson.loads(body)
    bad: list[str] = []
    texts = []
    for f in fc["features"]:
        if f["geometry"] is None:
            continue
        text_ = orjson.dumps(f["geometry"]).decode()
        if seen is not None and text_ in seen:
            continue
        geom = shapely.from_geojson(text_)
        if not geom.is_valid:
            bad.append(str(f["id"]))
        texts.append((str(f["id"]), text_))
    if texts:
        with engine.connect() as conn:
            bad += (
                conn.execute(
                    text(
                        "select i from unnest(cast(:ids as text[]), cast(:gs as text[])) t(i, g)"
                        " where not ST_IsValid(ST_GeomFromGeoJSON(g))"
                    ),
                    {"ids": [i for i, _ in texts], "gs": [g for _, g in texts]},
                )
                .scalars()
                .all()
            )
    if seen is not None:
        failed = set(bad)
        seen.update(t for i, t in texts if i not in failed)
    return sorted(set(bad))


def assert_served_valid(
    url: str,
    engine: Engine,
    *,
    province: str,
    precisions: Iterable[int] = (0, 3, 5, 6, 9, 15),
    all_communes: bool = False,
    communes_of: Iterable[str] = (),
) -> int:
    """Every province and the province's communes at every band and precision, OGC items in
    VN-2000, CSV WKT and GPKG downloads: all valid. Returns how many geometries were read.

    ``all_communes``: every commune of the country at every band and precision, not just
    ``province``'s; ``communes_of``: the communes of these provinces instead (the real
    sample's five in a database that also holds the demo's, which
    test_served_validity checks)."""
    checked = 0
    seen: set[str] = set()
    if all_communes:
        communes = ["/api/v1/communes"]
    else:
        communes = [f"/api/v1/provinces/{p}/communes" for p in (communes_of or (province,))]
    with TestClient(create_app(Settings(database_url=url))) as c:
        for precision in precisions:
            for band in BANDS:
                for path in ("/api/v1/provinces", *communes):
                    params = {"precision": precision, "resolution": band, "limit": 5000}
                    r = c.get(path, params=params)
                    assert r.status_code == 200, (path, params, r.text[:200])
                    bad = invalid_geojson(engine, r.content, seen)
                    assert not bad, f"{path} {params}: invalid {bad[:10]}"
                    checked += len(orjson.loads(r.content)["features"])
        for crs in OGC_CRS:
            for coll, extra in (("provinces", {}), ("communes", {"province_code": province})):
                r = c.get(
                    f"/ogc/collections/{coll}/items", params={"crs": crs, "limit": 1000, **extra}
                )
                assert r.status_code == 200, r.text[:200]
                fc = orjson.loads(r.content)
                bad = [
                    f["id"] for f in fc["features"]
                    if not shapely.geometry.shape(f["geometry"]).is_valid
                ]  # fmt: skip
                assert not bad, f"OGC {coll} crs={crs}: invalid {bad[:10]}"
                checked += len(fc["features"])
        for precision in (3, 6):
            r = c.get(
                "/api/v1/download/communes.csv",
                params={"province": province, "wkt": "true", "precision": precision},
            )
            assert r.status_code == 200
            import pandas as pd

            table = pd.read_csv(io.StringIO(r.content.decode("utf-8-sig")))
            geoms = shapely.from_wkt(table["wkt"].tolist())
            assert shapely.is_valid(geoms).all(), f"CSV WKT precision {precision}"
            checked += len(geoms)
        r = c.get("/api/v1/download/provinces.gpkg")
        assert r.status_code == 200
        gdf = pyogrio.read_dataframe(io.BytesIO(r.content))
        assert gdf.geometry.is_valid.all(), "GPKG provinces"
        checked += len(gdf)
    return checked


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The Web Mercator tile (x, y) holding a point at zoom ``z``."""
    import math

    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def assert_tiles_valid(
    url: str, points: Iterable[tuple[float, float]], tmp_path, zooms: Iterable[int] = range(5, 13)
) -> int:
    """The MVT tiles of both layers holding each point, at each zoom, decoded by GDAL's
    MVT driver (``mapbox_vector_tile`` is not a dependency): every polygon valid. Returns
    how many features were read."""
    read = 0
    with TestClient(create_app(Settings(database_url=url))) as c:
        tiles = {(z, *tile_of(lon, lat, z)) for z in zooms for lon, lat in points}
        for layer in ("provinces", "communes"):
            for z, x, y in sorted(tiles):
                r = c.get(
                    f"/tiles/{layer}/{z}/{x}/{y}.mvt", headers={"Accept-Encoding": "identity"}
                )
                assert r.status_code in (200, 204), (layer, z, x, y, r.text[:200])
                if r.status_code == 204:
                    continue
                path = tmp_path / layer / str(z) / str(x) / f"{y}.pbf"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(r.content)
                gdf = pyogrio.read_dataframe(path)
                bad = gdf[~gdf.geometry.is_valid]
                assert bad.empty, f"{layer} tile {z}/{x}/{y}: invalid {list(bad.index[:5])}"
                read += len(gdf)
    return read
