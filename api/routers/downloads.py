"""Downloads for GIS analysts: GeoJSON, GeoPackage, FlatGeobuf, CSV, zipped Shapefile,
GeoParquet and XLSX, with metadata, in any output CRS of ``_out_crs``.

Why files and not just the API: analysts open a GeoPackage in QGIS or a CSV in Excel.
Each file is written once per data version and query (by a short-lived child process,
see ``_write``, to a temporary file renamed into a cache directory), then streamed from
disk with a dated name, an ETag and the metadata (source, as_of, licence, geometry
quality) both inside the file and in headers. CSV is UTF-8 with a BOM so that Excel shows
Vietnamese correctly. The rules of the Shapefile, GeoParquet and XLSX writers and of the
CSV WKT column live in ``_download_files``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import shutil
import uuid
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy import Connection

from api.cache import ResponseCache, etag_matches, request_key
from api.dbgate import db_gate, work_limit
from api.deps import LazyConnDep, StateDep
from api.errors import BadParameter
from api.instance import private_dir
from api.params import AsOfDay, Bbox, Period, Q, Resolution, Status, Year
from api.routers import _layers
from api.routers._download_files import EXTENSIONS, sheet_payload, write_in_child, write_wkb
from api.routers._out_crs import CRS_DESCRIPTION, content_crs, crs_label
from geo.errors import BadInput, LimitExceeded
from geo.read import queries
from geo.read.features import (
    FULL,
    feature_collection,
    indicator_codes,
    latest_period,
    unit_page,
)
from geo.read.progress import DataState
from geo.read.provenance import database_incarnation
from geo.safe_text import header_value

router = APIRouter(tags=["downloads"])
FORMATS = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "fgb": "application/flatgeobuf",
    "csv": "text/csv; charset=utf-8",
    "shp": "application/zip",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
OTHER_LEVEL = {"province": "commune", "commune": "province"}
LICENCE = "CC BY 4.0"


def cache_dir(request: Request, conn: Connection) -> FsPath:
    """This instance's download cache (``api/instance.py``): never shared with another
    database's instance, nor with an earlier database of the same name; created 0700."""
    state = request.app.state
    incarnation = getattr(state, "database_incarnation", None)
    if incarnation is None:
        incarnation = state.database_incarnation = database_incarnation(conn)
    downloads = private_dir(FsPath(state.work_dir) / "downloads")
    return private_dir(downloads / str(incarnation))


def _metadata(
    conn: Connection, state: DataState, as_of: dt.date, level: str, epsg: int = 4326
) -> dict[str, str]:
    """What the file says about itself (and the response headers repeat)."""
    row = queries.level_provenance(conn, level)
    return {
        "title": f"iocmap — {_layers.PLURAL[level]}",
        "source": row["source"] or "",
        "data_version": str(state.version),
        "data_as_of": state.reporting_date.isoformat() if state.reporting_date else "",
        "as_of": as_of.isoformat(),
        "licence": LICENCE,
        "geometry_quality": row["quality"] or "",
        "crs": crs_label(epsg),
    }


def _sheet(conn: Connection, q) -> tuple[dict, list[str]]:
    """The query's properties as the child reads them, and the codes in their order."""
    page = unit_page(conn, q.__class__(**{**q.__dict__, "geometry": False}), keep_rows=True)
    rows = page.rows or []
    return sheet_payload(q.level, rows), [r["code"] for r in rows]


def _write(
    conn: Connection,
    state: DataState,
    level: str,
    fmt: str,
    q,
    meta: dict,
    wkt: bool,
    out: str,
    other=None,
) -> None:
    """Write one file to ``out`` (a temporary path next to its final place); ``other`` is
    the query of the other layer (XLSX's second sheet).

    GeoJSON is the layers' own output, written here. Every other format is written by a
    child process (``geo.ingest.sandbox``, task ``download``) from the rows and WKB read
    here: geopandas, pyarrow and GDAL's writers never load into the serving worker, and
    the child's memory goes back to the system when it exits."""
    if fmt == "geojson":
        page = unit_page(conn, q)
        features = feature_collection(page, name=_layers.PLURAL[level], metadata=meta)
        FsPath(out).write_bytes(features)
        return
    sheet, codes = _sheet(conn, q)
    sheets = [sheet]
    names: dict[str, str] = {}
    if fmt == "xlsx":
        if other is not None:
            sheets.append(_sheet(conn, other)[0])
        names = {i["code"]: i["name"] for i in queries.indicators(conn)}
        codes = []  # no geometry in a sheet
    wkb = FsPath(out).with_name(FsPath(out).name + ".wkb")
    try:
        geoms = queries.unit_wkb(conn, codes, q.band) if codes else {}
        write_wkb(wkb, (geoms[c] for c in codes))
        del geoms
        file = f"{_layers.PLURAL[level]}.{EXTENSIONS.get(fmt, fmt)}"
        try:
            write_in_child(
                wkb, file, FsPath(out), fmt=fmt, layer=_layers.PLURAL[level], sheets=sheets,
                meta=meta, epsg=q.crs, precision=q.precision, wkt=wkt, indicator_names=names,
            )  # fmt: skip
        except LimitExceeded as exc:  # the file would need more than a child may use
            raise LimitExceeded(
                f"Tệp {file}: vượt giới hạn {exc.limit}={exc.value:,} khi ghi tệp tải xuống,"
                f" hãy thu hẹp bộ lọc — {file}: writing it went over the limit"
                f" {exc.limit}={exc.value:,}; narrow the query (province=, code=, bbox=)",
                file=file, limit=exc.limit, value=exc.value, stage=exc.stage,
            ) from None  # fmt: skip
        except BadInput as exc:  # not the client's doing: a fault of the writer
            raise RuntimeError(f"download writer failed: {exc.message}") from exc
    finally:
        wkb.unlink(missing_ok=True)


def _cached_file(folder: FsPath, version: int, key: str, fmt: str, make) -> FsPath:
    """The file for (version, key), written once; files of older versions are removed."""
    digest = hashlib.sha1(key.encode()).hexdigest()[:20]
    path = folder / f"v{version}-{digest}.{fmt}"
    if path.exists():
        return path
    # The extension must stay last: GDAL picks the driver's behaviour from it (FlatGeobuf
    # writes a directory for a name without .fgb).
    tmp = str(folder / f".tmp-{uuid.uuid4().hex}.{fmt}")
    try:
        make(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for old in folder.glob("v*-*.*"):
        if not old.name.startswith(f"v{version}-") and old.is_file():
            old.unlink(missing_ok=True)
    return path


@router.get(
    "/download/{layer}.{fmt}",
    response_class=Response,
    responses={
        200: {"content": {m: {} for m in FORMATS.values()}, "description": "the file"},
        404: {"description": "unknown layer, format or code"},
    },
    summary="Download a layer as GeoJSON, GeoPackage, FlatGeobuf, CSV, Shapefile (zip),"
    " GeoParquet or XLSX",
)
async def download(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    layer: Annotated[str, Path(description="provinces | communes")],
    fmt: Annotated[str, Path(description="geojson | gpkg | fgb | csv | shp | parquet | xlsx")],
    code: Annotated[
        str | None, Query(pattern=r"^\d{2}(\d{3})?$", description="one unit only")
    ] = None,
    province: Annotated[str | None, Query(pattern=r"^\d{2}$")] = None,
    status: Status = None,
    q: Q = None,
    bbox: Bbox = None,
    year: Year = None,
    period: Period = None,
    resolution: Resolution = None,
    precision: Annotated[int, Query(ge=0, le=15)] = 6,
    wkt: Annotated[
        bool,
        Query(
            description="CSV: add the geometry as a WKT column (simplified to fit Excel's "
            "32,767-character cell when longer; see the wkt_simplified column)"
        ),
    ] = False,
    crs: Annotated[str | None, Query(max_length=100, description=CRS_DESCRIPTION)] = None,
    name: Annotated[
        str | None, Query(max_length=100, description="name match, as on the layers")
    ] = None,
):
    """Every attribute (figures, indicators of the period, area, label point, source) with
    a dated file name such as ``communes_2025-11-13.gpkg``. ``shp`` is a zip
    (``communes_2025-11-13.shp.zip``) with 10-character field names (``fields.csv`` inside
    maps them); ``xlsx`` has a sheet per layer (the other layer with the same filters),
    Vietnamese headers and no geometry."""
    level = {"provinces": "province", "communes": "commune"}.get(layer)
    if level is None:
        raise BadParameter("layer", f"unknown layer '{layer}'; use provinces or communes", 404)
    if fmt not in FORMATS:
        raise BadParameter("format", f"unknown format '{fmt}'; use {', '.join(FORMATS)}", 404)
    params = _layers.LayerParams.parse(
        province=province, status=status, q=q, bbox=bbox, as_of=day, year=year,
        period=period, precision=precision, resolution=resolution, crs=crs, name=name,
    )  # fmt: skip
    epsg = params.epsg
    cache: ResponseCache = request.app.state.cache
    key = request_key(request.scope)
    etag = cache.etag_for(state.version, key)
    name = f"{layer}_{code}_{day.isoformat()}" if code else f"{layer}_{day.isoformat()}"

    def build() -> tuple[FsPath, dict]:
        try:
            return write(db.conn)
        finally:
            db.close()  # on the lane thread that used it, before the slot is given back

    def write(conn: Connection) -> tuple[FsPath, dict]:
        folder = cache_dir(request, conn)
        if province:
            _layers.ensure_province(conn, province)
        uq = _full_query(conn, level, params, day, epsg, code)
        period_used = uq.period
        other = None
        if fmt == "xlsx" and not code:
            other = _full_query(conn, OTHER_LEVEL[level], params, day, epsg, None)
        meta = _metadata(conn, state, day, level, epsg)
        meta["indicator_period"] = period_used or ""
        if (
            code
            and unit_page(conn, uq.__class__(**{**uq.__dict__, "geometry": False})).number_returned
            == 0
        ):
            raise BadParameter("code", f"no {level} with code '{code}'", 404)
        path = _cached_file(
            folder,
            state.version,
            key,
            EXTENSIONS.get(fmt, fmt),
            lambda out: _write(conn, state, level, fmt, uq, meta, wkt, out, other),
        )
        return path, meta

    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "X-Data-Version": str(state.version),
        "X-As-Of": day.isoformat(),
        "Content-Crs": content_crs(epsg),
    }
    if state.reporting_date:
        headers["X-Data-As-Of"] = state.reporting_date.isoformat()
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    async with work_limit(request, "downloads").slot():
        path, meta = await db_gate(request).run(build)
    headers.update(
        {
            "X-Source": header_value(meta["source"]),
            "X-Licence": header_value(meta["licence"]),
            "X-Geometry-Quality": header_value(meta["geometry_quality"]),
        }
    )
    filename = f"{name}.{EXTENSIONS.get(fmt, fmt)}"
    if fmt in TEXT_FORMATS:
        headers["Vary"] = "Accept-Encoding"
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            packed = await db_gate(request).run(_gzipped, path)
            headers["Content-Encoding"] = "gzip"
            return FileResponse(packed, media_type=FORMATS[fmt], filename=filename, headers=headers)
    return FileResponse(path, media_type=FORMATS[fmt], filename=filename, headers=headers)


TEXT_FORMATS = ("geojson", "csv")  # sent gzipped when asked (a national GeoJSON: 13 → 3 MB)


def _gzipped(path: FsPath) -> FsPath:
    """``path``'s gzip copy beside it, written once (the cache removes both with the version)."""
    packed = path.with_name(path.name + ".gz")
    if not packed.exists():
        tmp = packed.with_name(f".tmp-{uuid.uuid4().hex}.gz")
        try:
            with path.open("rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            os.replace(tmp, packed)
        finally:
            tmp.unlink(missing_ok=True)
    return packed


def _full_query(conn: Connection, level: str, params, day: dt.date, epsg: int, code: str | None):
    """The layer's query with every property, the indicators of the period, no paging."""
    uq = _layers.unit_query(conn, level, params, day)
    return uq.__class__(
        **{
            **uq.__dict__,
            "fields": FULL[level],
            "indicators": tuple(indicator_codes(conn, level)),
            "period": uq.period or latest_period(conn, level),
            "code": code or uq.code,
            "limit": None,
            "offset": 0,
            "crs": epsg,
        }
    )
