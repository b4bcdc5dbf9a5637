"""The analyst formats beyond GeoJSON/GPKG/FGB/CSV: zipped Shapefile, GeoParquet, XLSX,
and the CSV ``wkt`` column made to fit a spreadsheet cell.

Why apart from ``downloads.py``: each format has one rule an analyst trips over, kept
next to its writer —

- **Shapefile**: DBF field names hold 10 characters. ``SHAPEFILE_FIELDS`` is the
  documented short name of every property (``completion_pct`` → ``compl_pct``); an
  indicator code is cut to 10 (``<code>_rank`` to ``<code[:8]>_r``) and made unique with a
  digit. The zip carries ``fields.csv`` (short name → full name) next to ``.shp/.shx/.dbf``,
  ``.prj`` and ``.cpg`` (``UTF-8``, so QGIS/ArcGIS read the Vietnamese names right).
- **GeoParquet**: geopandas writes the ``geo`` metadata; our metadata (source, data
  version, licence, …) is added to the Parquet schema's key-value metadata as ``iocmap``.
- **XLSX**: a sheet per layer (Tỉnh/thành, Xã/phường) with Vietnamese headers, no
  geometry, every text cell neutralised against formula injection (``geo/safe_text.py``),
  and a ``Thông tin`` sheet with the metadata.
- **In a child process**: ``write_task`` runs in ``geo.ingest.sandbox``'s limited child
  (task ``download``). The server reads the rows and the WKB and hands them over as plain
  data (``sheet_payload``, ``write_wkb``: JSON and length-prefixed WKB, never pickle); the
  child builds the frames (geopandas, pyproj), snaps them to the output grid and writes the
  file. So the serving worker never imports geopandas, pyarrow or GDAL's writers, and what
  they allocate is returned to the system when the child exits.
- **CSV WKT**: Excel cuts a cell at 32,767 characters; a WKT longer than that is simplified
  (shapely ``simplify`` with ``preserve_topology``, tolerance doubled from 1e-5° until it
  fits, islets smaller than the tolerance squared dropped, made valid) and flagged in the
  ``wkt_simplified`` column (the tolerance used, in the output CRS's units; empty when the
  geometry is exact).

Why one module (over 400 lines): the writers share the header names, the neutralised
cells and the child's payload format (``sheet_payload``, ``write_wkb``, ``write_task``);
split apart, a change to one format's columns would be made in three files.
"""

from __future__ import annotations

import csv
import os
import struct
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import orjson

from geo.safe_text import neutralise_frame, spreadsheet_cell

EXCEL_CELL_CHARS = 32_767
WKT_FIRST_TOLERANCE = 1e-5  # degrees (≈ 1 m); metres are scaled by 1e5 (see fit_wkt)
SHAPEFILE_FIELDS: dict[str, str] = {
    "code": "code",
    "name": "name",
    "kind": "kind",
    "full_name": "full_name",
    "tasks_total": "tasks_tot",
    "tasks_completed": "tasks_done",
    "tasks_completed_late": "tasks_late",
    "tasks_on_time": "tasks_ontm",
    "tasks_overdue": "tasks_over",
    "completion_pct": "compl_pct",
    "geometry_quality": "geom_qual",
    "communes": "communes",
    "communes_all_groups_done": "comm_alldn",
    "province_code": "prov_code",
    "province_name": "prov_name",
    "groups_done": "grp_done",
    "groups_total": "grp_total",
    "area_km2": "area_km2",
    "area_source": "area_src",
    "population": "population",
    "population_source": "pop_src",
    "label_lon": "label_lon",
    "label_lat": "label_lat",
    "source": "source",
    "valid_from": "valid_from",
    "source_attributes": "src_attrs",
}
XLSX_HEADERS: dict[str, str] = {
    "code": "Mã",
    "name": "Tên",
    "kind": "Loại",
    "full_name": "Tên đầy đủ",
    "tasks_total": "Tổng số nhiệm vụ",
    "tasks_completed": "Đã hoàn thành",
    "tasks_completed_late": "Hoàn thành trễ hạn",
    "tasks_on_time": "Đang thực hiện trong hạn",
    "tasks_overdue": "Quá hạn",
    "completion_pct": "Tỷ lệ hoàn thành (%)",
    "geometry_quality": "Chất lượng ranh giới",
    "communes": "Số xã, phường",
    "communes_all_groups_done": "Số xã hoàn thành đủ nhóm",
    "province_code": "Mã tỉnh",
    "province_name": "Tỉnh/thành",
    "groups_done": "Số nhóm hoàn thành",
    "groups_total": "Tổng số nhóm",
    "area_km2": "Diện tích (km²)",
    "area_source": "Nguồn diện tích",
    "population": "Dân số",
    "population_source": "Nguồn dân số",
    "label_lon": "Kinh độ nhãn",
    "label_lat": "Vĩ độ nhãn",
    "source": "Nguồn",
    "valid_from": "Hiệu lực từ",
    "source_attributes": "Thuộc tính nguồn",
    # the rows behind a figure (GET /api/v1/explain?f=xlsx)
    "external_id": "Mã nhiệm vụ",
    "program": "Chương trình",
    "group_no": "Nhóm nhiệm vụ",
    "year": "Năm",
    "title": "Tên nhiệm vụ",
    "unit_code": "Mã đơn vị",
    "agency_code": "Mã bộ, ngành",
    "unit_name": "Tên đơn vị",
    "deadline": "Hạn hoàn thành",
    "completed_at": "Ngày hoàn thành",
    "status": "Tình trạng",
    "import_id": "Mã lần nhập",
    "source_file": "Tệp nguồn",
    "source_sha256": "SHA-256 của tệp",
    "source_row": "Dòng trong tệp",
}
SHEET_TITLES = {
    "province": "Tỉnh, thành phố",
    "commune": "Xã, phường, đặc khu",
    "explain": "Số liệu và nguồn",  # GET /api/v1/explain?f=xlsx: the rows behind a figure
}
META_LABELS = {
    "title": "Tiêu đề",
    "source": "Nguồn",
    "data_version": "Phiên bản dữ liệu",
    "data_as_of": "Dữ liệu đến ngày",
    "as_of": "Trạng thái tính đến ngày",
    "licence": "Giấy phép",
    "geometry_quality": "Chất lượng ranh giới",
    "crs": "Hệ tọa độ",
    "indicator_period": "Kỳ chỉ số",
}


def shapefile_names(columns: Iterable[str]) -> dict[str, str]:
    """Full name → DBF name (≤ 10 characters, unique) for every column but geometry."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        if col == "geometry":
            continue
        short = SHAPEFILE_FIELDS.get(col)
        if short is None:
            short = (
                col if len(col) <= 10 else (col[:8] + "_r" if col.endswith("_rank") else col[:10])
            )
        base, n = short, 1
        while short.lower() in taken:
            suffix = str(n)
            short, n = base[: 10 - len(suffix)] + suffix, n + 1
        taken.add(short.lower())
        out[col] = short
    return out


def write_shapefile_zip(gdf, layer: str, out: str) -> None:
    """A zip of one ESRI Shapefile (UTF-8 ``.cpg``, ``.prj``) plus ``fields.csv``."""
    import pyogrio

    names = shapefile_names(gdf.columns)
    renamed = gdf.rename(columns=names)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(out)) as tmp:
        shp = Path(tmp) / f"{layer}.shp"
        pyogrio.write_dataframe(
            renamed,
            shp,
            layer=layer,
            driver="ESRI Shapefile",
            encoding="UTF-8",
            promote_to_multi=True,
        )
        with open(Path(tmp) / "fields.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["shapefile_field", "field", "tiêu_đề"])
            for full, short in names.items():
                w.writerow([short, full, XLSX_HEADERS.get(full, "")])
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, arcname=part.name)


def write_geoparquet(gdf, meta: dict, out: str) -> None:
    """GeoParquet (geopandas/pyarrow) with our metadata in the schema as ``iocmap``."""
    import pyarrow.parquet as pq

    gdf.to_parquet(out, index=False)
    table = pq.read_table(out)
    merged = {**(table.schema.metadata or {}), b"iocmap": orjson.dumps(meta)}
    pq.write_table(table.replace_schema_metadata(merged), out)


def xlsx_header(column: str, indicator_names: dict[str, str]) -> str:
    """The Vietnamese header of a column (indicators by their Vietnamese name)."""
    if column in XLSX_HEADERS:
        return XLSX_HEADERS[column]
    if column.endswith("_rank") and column[:-5] in indicator_names:
        return f"Hạng: {indicator_names[column[:-5]]}"
    if column in indicator_names:
        return indicator_names[column]
    return column


def write_xlsx(
    sheets: Sequence[tuple[str, object]], meta: dict, indicator_names: dict[str, str], out: str
) -> None:
    """One sheet per layer (``sheets``: (level, DataFrame without geometry)) and a metadata
    sheet; written with openpyxl's write-only mode (bounded memory)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for level, frame in sheets:
        ws = wb.create_sheet(SHEET_TITLES[level])
        columns = list(frame.columns)  # type: ignore[attr-defined]
        ws.append([spreadsheet_cell(xlsx_header(c, indicator_names)) for c in columns])
        for row in frame.itertuples(index=False, name=None):  # type: ignore[attr-defined]
            ws.append([_cell(v) for v in row])
    info = wb.create_sheet("Thông tin")
    info.append(["Mục", "Giá trị", "key"])
    for key, value in meta.items():
        info.append([META_LABELS.get(key, key), spreadsheet_cell(str(value)), key])
    wb.save(out)


def _cell(value: object) -> object:
    """A value openpyxl can store, neutralised (NaN → empty; dates stay dates)."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, dict | list):
        value = orjson.dumps(value).decode()
    return spreadsheet_cell(value)


def fit_wkt(geom, rounding: int, degrees: bool) -> tuple[str, float | None]:
    """WKT of ``geom`` within Excel's cell limit: (text, tolerance used or None if exact).

    Simplified with ``preserve_topology`` (no self-intersections, no ring lost to
    collapse), the tolerance doubling until the text fits (the reported tolerance is the
    sum of the rounds', a bound on how far a vertex moved); parts smaller than the
    tolerance squared (islets below the simplification's resolution, which
    ``preserve_topology`` must keep as 4-point rings) are dropped, the largest part always
    kept; ``make_valid`` as a last guard. Same geometry type as the input."""
    import shapely

    if geom is None:
        return "", None
    text = shapely.to_wkt(geom, rounding_precision=rounding)
    if len(text) <= EXCEL_CELL_CHARS:
        return text, None
    tolerance = WKT_FIRST_TOLERANCE * (1 if degrees else 1e5)
    simple, spent = geom, 0.0
    for _ in range(30):
        # each round simplifies the last one (fast on big provinces): the distance from
        # the input stays within the sum of the tolerances, which is what is reported
        simple = _drop_specks(
            shapely.simplify(simple, tolerance, preserve_topology=True), tolerance
        )
        spent += tolerance
        if not simple.is_valid:
            simple = shapely.make_valid(simple)
        if geom.geom_type == "MultiPolygon" and simple.geom_type == "Polygon":
            simple = shapely.MultiPolygon([simple])  # the column keeps one geometry type
        text = shapely.to_wkt(simple, rounding_precision=rounding)
        if len(text) <= EXCEL_CELL_CHARS:
            return text, spent
        tolerance *= 2
    return shapely.to_wkt(geom.envelope, rounding_precision=rounding), float("inf")


def _drop_specks(geom, tolerance: float):
    """A MultiPolygon without the parts whose area is under ``tolerance``² (largest kept)."""
    import shapely

    if geom.geom_type != "MultiPolygon":
        return geom
    parts = list(geom.geoms)
    kept = [p for p in parts if p.area >= tolerance * tolerance]
    if not kept:
        kept = [max(parts, key=lambda p: p.area)]
    return shapely.MultiPolygon(kept) if len(kept) < len(parts) else geom


# --- across the process boundary ---------------------------------------------------------
def sheet_payload(level: str, rows: list[dict]) -> dict:
    """One frame's properties as plain JSON for the child (``sandbox.pack_rows``: texts
    once, values tagged); JSON columns (``source_attributes``) become JSON text."""
    from geo.ingest.sandbox import pack_rows

    columns = list(rows[0]) if rows else []
    packed = pack_rows(
        [
            (i, [orjson.dumps(v).decode() if isinstance(v, dict | list) else v for v in r.values()])
            for i, r in enumerate(rows)
        ]
    )
    return {"level": level, "columns": columns, "rows": packed}


def write_wkb(path: Path, geometries: Iterable[bytes]) -> None:
    """Geometries as WKB, each after its length (4 bytes, little-endian)."""
    with open(path, "wb") as fh:
        for wkb in geometries:
            fh.write(struct.pack("<I", len(wkb)))
            fh.write(wkb)


def read_wkb(path: Path) -> list[bytes]:
    """``write_wkb`` undone."""
    data = Path(path).read_bytes()
    out, at = [], 0
    while at < len(data):
        (n,) = struct.unpack_from("<I", data, at)
        out.append(data[at + 4 : at + 4 + n])
        at += 4 + n
    return out


def _table(sheet: dict):
    """The properties of one sheet as a DataFrame (as the server's rows would make it)."""
    import pandas as pd

    from geo.ingest.sandbox import unpack_rows

    columns = sheet["columns"]
    rows = [dict(zip(columns, cells, strict=True)) for _, cells in unpack_rows(sheet["rows"])]
    return pd.DataFrame(rows)


def _geo_frame(sheet: dict, wkb_path: Path, epsg: int, precision: int):
    """Properties and geometries (from WKB) as a GeoDataFrame in ``epsg`` (pyproj through
    geopandas), snapped to ``precision`` decimals of its unit."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from geo.read.features import output_grid, snap_round

    props = _table(sheet)
    geoms = read_wkb(wkb_path)
    series = shapely.from_wkb(geoms) if geoms else []
    if len(series) and epsg != 4326:
        series = gpd.GeoSeries(series, crs=4326).to_crs(epsg).values
    grid = output_grid(precision, epsg)
    if len(series) and grid is not None:  # snap-round (valid), never round when printing
        series = snap_round(np.asarray(series, dtype=object), grid)
    return gpd.GeoDataFrame(props, geometry=list(series), crs=epsg)


EXTENSIONS = {"shp": "shp.zip"}  # the file name's extension when not the format's name


def write_in_child(
    wkb: Path,
    file: str,
    out: Path,
    *,
    fmt: str,
    layer: str,
    sheets: list[dict],
    meta: dict,
    epsg: int = 4326,
    precision: int = 6,
    wkt: bool = False,
    indicator_names: dict[str, str] | None = None,
) -> None:
    """The server's side of ``write_task``: the request the child reads, in one place for
    every caller (a layer's download, a figure's rows), and the child run; the file lands
    at ``out`` without passing through this process. ``wkb``: the geometries, in the
    order of the first sheet's rows (an empty file for a sheet without geometry)."""
    from geo.ingest import sandbox

    args = {
        "fmt": fmt, "ext": EXTENSIONS.get(fmt, fmt), "layer": layer, "epsg": epsg,
        "precision": precision, "wkt": wkt, "meta": meta,
        "indicator_names": indicator_names or {}, "sheets": sheets,
    }  # fmt: skip
    sandbox.run("download", wkb, file, args, output=out, bounded=False)


def write_task(path: Path, name: str, args: dict) -> tuple[dict, None]:
    """The child's side (``sandbox`` task ``download``): write the file ``args`` describe
    from the rows in ``args`` and the WKB at ``path``, as ``result.bin`` in the child's
    working folder."""
    import sys

    from geo.ingest.sandbox import stage

    stage("parse")
    fmt, epsg, precision = args["fmt"], int(args["epsg"]), int(args["precision"])
    if fmt != "parquet" and "pandas" not in sys.modules:
        # pandas imports pyarrow whenever it is installed (~35 MB resident); only the
        # GeoParquet writer uses it: for the others the child stays that much smaller
        sys.modules["pyarrow"] = None  # type: ignore[assignment]
    meta = args["meta"]
    # the extension stays last: GDAL picks the driver's behaviour from it (FlatGeobuf
    # writes a directory for a name without .fgb)
    out = str(Path.cwd() / f"file.{args['ext']}")
    if fmt == "xlsx":
        sheets = [(s["level"], _table(s)) for s in args["sheets"]]
        write_xlsx(sheets, meta, args["indicator_names"], out)
    else:
        gdf = _geo_frame(args["sheets"][0], path, epsg, precision)
        _write_frame(gdf, fmt, args["layer"], meta, bool(args["wkt"]), precision, epsg, out)
    stage("return")
    size = os.path.getsize(out)
    os.replace(out, Path.cwd() / "result.bin")
    return {"bytes": size}, None


def _write_frame(
    gdf, fmt: str, layer: str, meta: dict, wkt: bool, precision: int, epsg: int, out: str
) -> None:
    """CSV, zipped Shapefile, GeoParquet, GeoPackage or FlatGeobuf of one frame."""
    if fmt == "csv":
        table = gdf.drop(columns="geometry")
        if wkt:
            fitted = [fit_wkt(g, precision, epsg in (4326, 4756)) for g in gdf.geometry]
            table["wkt"] = [t for t, _ in fitted]
            table["wkt_simplified"] = [None if tol is None else f"{tol:g}" for _, tol in fitted]
        # a spreadsheet runs cells that start with = + - @ (OWASP CSV injection)
        neutralise_frame(table).to_csv(out, index=False, encoding="utf-8-sig")
        return
    import pyogrio

    if fmt == "shp":
        write_shapefile_zip(gdf, layer, out)
    elif fmt == "parquet":
        write_geoparquet(gdf, meta, out)
    elif fmt == "gpkg":
        pyogrio.write_dataframe(
            gdf,
            out,
            layer=layer,
            driver="GPKG",
            layer_metadata=meta,
            layer_options={"IDENTIFIER": meta["title"], "DESCRIPTION": orjson.dumps(meta).decode()},
            promote_to_multi=True,
        )
    else:
        pyogrio.write_dataframe(
            gdf,
            out,
            layer=layer,
            driver="FlatGeobuf",
            layer_options={"TITLE": meta["title"], "DESCRIPTION": orjson.dumps(meta).decode()},
            promote_to_multi=True,
        )
