"""Fixtures for the import tests: scratch databases and real files built on the spot.

Why scratch databases: imports change units, tasks and the data version; other tests in
the session read the demo database and must not see that. The template database holding the
schema and the demo data (``tests/db_template.py``) is built once and reused across sessions
while the migrations and the demo generator are unchanged; each test that writes gets a
``CREATE DATABASE … TEMPLATE`` copy (≈1 s) and drops it afterwards.

Why hand-built files: the issue asks for the files provincial offices really send, so each
builder writes a real Shapefile/GeoPackage/GeoJSON/XLSX/CSV with pyogrio or openpyxl.
"""

from __future__ import annotations

import itertools
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from geo.db import make_engine
from tests.db_template import create_copy

_counter = itertools.count()


def _admin(url):
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def import_template(db_url: str) -> str:
    """Name of the database with the schema and the demo data, used only as a template
    (the session's test database is a copy of it too: ``tests/db_template.py``)."""
    from tests.db_template import ensure_template

    url = make_url(db_url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = url.set(database=url.database.removesuffix(f"_{worker}")) if worker else url
    return ensure_template(base)


@pytest.fixture
def scratch_url(db_url: str, import_template: str) -> Iterator[str]:
    """A private copy of the demo database for one test (dropped afterwards)."""
    url = make_url(db_url)
    name = f"{url.database}_scratch_{next(_counter)}"
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))
        create_copy(conn, name, import_template)
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture
def scratch(scratch_url: str) -> Iterator[Engine]:
    """An engine on the test's private database."""
    engine = make_engine(scratch_url)
    yield engine
    engine.dispose()


# --- file builders -----------------------------------------------------------------------
def demo_communes(province: str) -> gpd.GeoDataFrame:
    """The demo communes of one province (code, name, kind, province_code, geometry)."""
    from geo.demo.loader import demo_layers
    from geo.official import official_names

    layer = demo_layers()["communes"]
    names = official_names()[["code", "name", "kind"]]
    out = layer[layer.province_code == province].merge(names, on="code")
    return out.sort_values("code").reset_index(drop=True)


def write_layer(gdf: gpd.GeoDataFrame, path: Path, **kw) -> Path:
    """pyogrio writer that creates the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(gdf, path, **kw)
    return path


def zip_shapefile(shp: Path, target: Path) -> Path:
    """The shapefile's parts in one .zip, as it is usually mailed."""
    with zipfile.ZipFile(target, "w") as z:
        for part in shp.parent.glob(shp.stem + ".*"):
            z.write(part, part.name)
    return target


def bowtie_around(lon: float, lat: float, d: float = 0.01) -> shapely.Polygon:
    """A self-intersecting ring (figure eight) centred on a point."""
    return shapely.Polygon(
        [(lon - d, lat - d), (lon + d, lat + d), (lon + d, lat - d), (lon - d, lat + d)]
    )


def table_versions(engine: Engine) -> dict:
    """Counts and md5 of every data table (see geo.ingest.report.checksums)."""
    from geo.ingest.report import row_versions

    with engine.connect() as conn:
        return row_versions(conn)


def scalar(engine: Engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine: Engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def write_xlsx(path: Path, header: list[str], data: list[list], title: str | None = None) -> Path:
    """An office-style workbook: an optional title row above the header."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Nhiệm vụ"
    if title:
        ws.append([title])
    ws.append(header)
    for r in data:
        ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv(path: Path, header: list[str], data: list[list], encoding: str = "utf-8-sig") -> Path:
    """A CSV in the given encoding (``cp1258`` writes tones as combining marks, as Windows)."""
    import csv
    import io

    from geo.ingest.encodings import encode_cp1258

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(data)
    text_ = buf.getvalue()
    raw = encode_cp1258(text_) if encoding == "cp1258" else text_.encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return path


def coords(geom) -> np.ndarray:
    return shapely.get_coordinates(geom)
