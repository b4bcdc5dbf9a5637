"""Read a boundary file safely: the file is opened, sniffed, counted and read in a sandboxed
child (``vector_files``, run by ``geo.ingest.sandbox``); here the plain data it hands back
(attribute columns, WKB) becomes a frame, the fields are found and legacy DBF text decoded.

Why the split: GDAL must never parse an upload in a serving process (a feature of 100,000
properties held a worker's GIL for 67 s), so everything that touches the file's bytes is
in ``vector_files``; what stays here works on bounded, already-parsed values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import BadInput
from geo.ingest import encodings, sandbox, vector_files
from geo.ingest.report import ImportReport
from geo.ingest.sheets import LEVEL_WORDS, header_key
from geo.ingest.vector_files import DRIVERS, VectorLimits
from geo.official import official_units, split_kind
from geo.text import normalise_name

# Limits (documented in the README): far above any real boundary file, low enough that a
# crafted file cannot exhaust memory.
MAX_FEATURES = 20_000  # the country has 3,321 communes
MAX_VERTICES_PER_FEATURE = 2_000_000  # the largest real commune outline has ~100k
MAX_VERTICES_PER_FILE = 50_000_000
DETECT_SAMPLE = 1000  # names enough to tell encodings apart
__all__ = ["DRIVERS", "VectorLimits"]


def current_limits() -> VectorLimits:
    """The configured limits (``vector_files.configure``), lowered by this module's
    constants when those are lower (tests lower them)."""
    configured = vector_files.configured()
    return replace(
        configured,
        max_features=min(MAX_FEATURES, configured.max_features),
        max_vertices_per_feature=min(MAX_VERTICES_PER_FEATURE, configured.max_vertices_per_feature),
        max_vertices_per_file=min(MAX_VERTICES_PER_FILE, configured.max_vertices_per_file),
    )


SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml")

# Field names seen in Vietnamese and English files, best first (compared as header keys:
# no case, no diacritics, no separators — "MA_XA", "MaXa", "Mã xã" are all "maxa").
FIELD_ALIASES: dict[str, dict[str, list[str]]] = {
    "commune": {
        "code": ["ma_xa", "maxa", "ma_phuong_xa", "ma_xa_phuong", "ma_dvhc", "ma_dv", "madonvi",
                 "ward_code", "commune_code", "unit_code", "code", "ma", "id"],
        "name": ["ten_xa", "tenxa", "ten_phuong_xa", "ten_xa_phuong", "ten_dvhc", "ten_dv",
                 "ward_name", "commune_name", "name_vi", "name", "ten"],
        "parent": ["ma_tinh", "matinh", "ma_tp", "ma_tinh_tp", "province_code", "parent_code",
                   "provincecode", "parent"],
        "population": ["dan_so", "danso", "population", "pop", "so_dan", "tong_dan_so"],
        "area": ["dien_tich_km2", "dientich_km2", "dien_tich", "dientich", "area_km2", "area"],
    },
    "province": {
        "code": ["ma_tinh", "matinh", "ma_tp", "ma_tinh_tp", "ma_dvhc", "province_code", "code",
                 "ma", "id"],
        "name": ["ten_tinh", "tentinh", "ten_tp", "ten_tinh_tp", "ten_dvhc", "province_name",
                 "name_vi", "name", "ten"],
        "parent": [],
        "population": ["dan_so", "danso", "population", "pop", "so_dan", "tong_dan_so"],
        "area": ["dien_tich_km2", "dientich_km2", "dien_tich", "dientich", "area_km2", "area"],
    },
}  # fmt: skip
REQUIRED = ("code",)
# the words that say which level a layer holds are the sheets' (one rule: sheets.LEVEL_WORDS)
LAYER_WORDS = LEVEL_WORDS


def detect_fields(
    columns: list[str], level: str, given: dict[str, str | None], name: str
) -> dict[str, str]:
    """Our field (code/name/parent/population/area) → the file's column: flags first, then
    the aliases (first match wins)."""
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(header_key(c), c)
    out: dict[str, str] = {}
    for fld, aliases in FIELD_ALIASES[level].items():
        flag = given.get(fld)
        if flag:
            match = flag if flag in columns else by_key.get(header_key(flag))
            if match is None:
                raise BadInput(
                    f"{name}: no field '{flag}' for the {fld} (fields: {', '.join(columns)})",
                    file=name,
                    field=flag,
                )
            out[fld] = match
            continue
        for alias in aliases:
            col = by_key.get(header_key(alias))
            if col is not None and col not in out.values():
                out[fld] = col
                break
    if "code" not in out:
        raise BadInput(
            f"{name}: no {level} code field found"
            f" (tried {', '.join(FIELD_ALIASES[level]['code'][:6])} …);"
            f" fields: {', '.join(columns)}; pass --code-field",
            file=name,
            field="code",
        )
    return out


@dataclass
class RawLayer:
    """The file's features as read: attributes, geometry (file CRS), fields, driver."""

    frame: gpd.GeoDataFrame
    fields: dict[str, str]
    columns: list[str]
    driver: str


def read_layer(
    path: Path, level: str, report: ImportReport, *, layer: str | None, given: dict,
    encoding: str | None,
) -> RawLayer:  # fmt: skip
    """Read the file in the sandbox (allow-listed, counted, limited), then build the frame,
    find the fields and decode DBF text here."""
    name = report.file
    args = {"level": level, "layer": layer, "limits": current_limits().__dict__}
    out = sandbox.run("vector", path, name, args)
    got = out.result
    layers = [str(x) for x in got["layers"]]
    if len(layers) > 1:
        report.notes.append(f"layer '{got['chosen']}' of {len(layers)} ({', '.join(layers)})")
    gdf = _frame(got, out.blob or b"")
    report.read = len(gdf)
    if closed := got.get("closed"):
        report.notes.append(
            f"{len(closed)} features with a ring not closed (first: feature {closed[0]});"
            " closed by repeating its first point"
        )
    if not len(gdf):
        raise BadInput(f"{name}: the layer has no features", file=name)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    fields = detect_fields(columns, level, given, name)
    report.fields = dict(fields)
    if got["driver"] == "ESRI Shapefile":
        decode_dbf(gdf, columns, fields, got.get("encoding"), encoding, report)
    return RawLayer(gdf, fields, columns, str(got["driver"]))


def _frame(got: dict, blob: bytes) -> gpd.GeoDataFrame:
    """The child's columns and WKB → a GeoDataFrame in the file's CRS."""
    offsets = got["offsets"]
    missing = set(got.get("missing") or ())
    wkb = np.array(
        [
            None if i in missing else blob[offsets[i] : offsets[i + 1]]
            for i in range(len(offsets) - 1)
        ],
        dtype=object,
    )
    geoms = shapely.from_wkb(wkb, on_invalid="fix")  # the child found every one fixable
    data = {}
    for col in got["columns"]:
        values = col["values"]
        if col["dtype"] == "datetime":
            data[col["name"]] = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")
        elif col["dtype"] == "object":
            data[col["name"]] = pd.Series(values, dtype=object)
        else:
            data[col["name"]] = pd.Series(np.asarray(values, dtype=col["dtype"]))
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(geoms)))
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=got.get("crs"))


@functools.lru_cache(maxsize=1)
def official_name_keys() -> frozenset[str]:
    """Name keys of every official unit: confirms an encoding guess on a DBF."""
    return frozenset(name_key(u.name) for u in official_units().values())


def name_key(text_: str) -> str:
    """How names are compared with the official list: kind prefix dropped, lower case, NFC."""
    return normalise_name(split_kind(text_)[1]).lower()


def decode_dbf(gdf, columns, fields, declared, encoding, report: ImportReport) -> None:
    """DBF text arrives as raw bytes (read as Latin-1); find the encoding and decode it."""
    text_cols = [c for c in columns if pd.api.types.is_string_dtype(gdf[c])]
    if not text_cols:
        return
    raw = {
        c: [v.encode("latin-1") if isinstance(v, str) else None for v in gdf[c]] for c in text_cols
    }
    probe = fields.get("name") if fields.get("name") in raw else text_cols[0]
    if encoding:
        chosen = encodings.normalise_encoding_name(encoding)
        report.notes.append(
            f"DBF text decoded as {encodings.LABELS.get(chosen, chosen)} (--encoding)"
        )
    else:
        found = encodings.detect(
            [v for v in raw[probe] if v][:DETECT_SAMPLE],
            official=set(official_name_keys()),
            key=name_key,
            declared=declared,
        )
        if not found.confirmed:
            raise BadInput(
                f"{report.file}: field '{probe}': cannot tell the text encoding; suspected"
                f" {found.label} ({found.score:.0%} of words read as Vietnamese"
                + ("" if found.matched is None else f", {found.matched:.0%} of names official")
                + "); convert the DBF to UTF-8 or pass --encoding (utf-8, cp1258, tcvn3, vni)",
                file=report.file,
                field=probe,
            )
        chosen = found.encoding
        if chosen != "utf-8" or (declared and declared.upper() != "UTF-8"):
            matched = "" if found.matched is None else f"; {found.matched:.0%} of names official"
            report.notes.append(
                f"DBF text is {found.label} (detected from field '{probe}'{matched})"
            )
    for c in text_cols:
        try:
            gdf[c] = [encodings.decode(v, chosen) if v is not None else None for v in raw[c]]
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"{report.file}: field '{c}' is not valid {encodings.LABELS.get(chosen, chosen)}",
                file=report.file,
                field=c,
            ) from exc
