"""Read a boundary file safely: sniff its format, check archives, pick the layer and fields,
read the features within limits and decode legacy DBF text.

Why so guarded: the file comes from an upload, and GDAL opens far more than we support —
an OGR VRT renamed ``.geojson`` can read ``/etc/passwd`` or fetch a URL, ``/vsicurl/`` makes
the server call anyone, a zip named ``.shz`` is still a zip. So only four formats reach GDAL
(GeoJSON, Shapefile — plain or zipped —, GeoPackage, FlatGeobuf), recognised by their bytes,
never by their name; the driver GDAL then picks must be the one we sniffed; network and
virtual file systems are switched off for the whole process (``harden_gdal``); every
archive, whatever its name, goes through the zip-bomb check; features per file and vertices
per feature are bounded while reading.

Why one module (≈400 lines): each guard is a few lines, and they only make sense in the order
a file is opened (sniff → archive → layer → fields → limits → decode); split apart, the
order that keeps GDAL away from unsupported input would be spread over several files.
"""

from __future__ import annotations

import functools
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.errors import BadInput, LimitExceeded
from geo.ingest import encodings
from geo.ingest.report import ImportReport
from geo.ingest.sheets import LEVEL_WORDS, header_key
from geo.official import official_units, split_kind
from geo.text import normalise_name

# Limits (documented in the README): far above any real boundary file, low enough that a
# crafted file cannot exhaust memory.
MAX_FEATURES = 20_000  # the country has 3,321 communes
MAX_VERTICES_PER_FEATURE = 2_000_000  # the largest real commune outline has ~100k
MAX_VERTICES_PER_FILE = 50_000_000
ZIP_MAX_MEMBERS = 1000
ZIP_MAX_UNPACKED = 4 << 30  # 4 GiB
ZIP_MAX_RATIO = 200  # deflate rarely beats ~10:1 on real vector data
DETECT_SAMPLE = 1000  # names enough to tell encodings apart

# What we let GDAL open: our format name → the GDAL driver that must be the one used.
DRIVERS = {
    "geojson": "GeoJSON",
    "shapefile": "ESRI Shapefile",
    "gpkg": "GPKG",
    "fgb": "FlatGeobuf",
}
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


@functools.cache
def harden_gdal() -> None:
    """Switch off what an uploaded file could use to reach the network or other files.

    Set once per process, before the first open. GDAL reads these at open time: no curl
    handler accepts any extension, HTTP has no time to connect, no proxy can be auto-found,
    and drivers are never asked to list directories around the file."""
    pyogrio.set_gdal_config_options(
        {
            "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".iocmap-never",
            "GDAL_HTTP_TIMEOUT": "1",
            "GDAL_HTTP_CONNECTTIMEOUT": "1",
            "GDAL_HTTP_MAX_RETRY": "0",
            "GDAL_HTTP_PROXY": "127.0.0.1:9",
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
            "OGR_GEOJSON_MAX_OBJ_SIZE": "500",  # MB per GeoJSON object (GDAL's default: 200)
            "GDAL_NUM_THREADS": "1",
        }
    )


def sniff(path: Path) -> str:
    """The format of a file from its first bytes: zip, geojson, shapefile, gpkg, fgb.

    Anything else (XML/VRT, CSV, SQLite that is not a GeoPackage, HTML error pages) is
    refused here, before GDAL sees it."""
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"fgb\x03"):
        return "fgb"
    if head.startswith(b"SQLite format 3\x00"):
        if head[68:72] in (b"GPKG", b"GP10", b"GP11"):
            return "gpkg"
        raise BadInput(f"{path.name}: an SQLite database that is not a GeoPackage", file=path.name)
    if len(head) >= 100 and head[:4] == b"\x00\x00\x27\x0a":
        return "shapefile"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        return "geojson"
    kind = "XML (an OGR VRT?)" if text.startswith(b"<") else "not a supported vector format"
    raise BadInput(
        f"{path.name}: {kind}; send GeoJSON, a Shapefile (.shp or .zip), GeoPackage or FlatGeobuf",
        file=path.name,
    )


def check_zip(path: Path, name: str) -> list[zipfile.ZipInfo]:
    """Refuse zip bombs and odd archives before GDAL reads inside them (whatever the name).

    GDAL reads members in place (/vsizip/), so nothing is extracted, but a crafted archive
    can still expand to terabytes while being read or name members outside the archive."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise BadInput(f"{name}: not a valid zip archive ({exc})", file=name) from exc
    if len(members) > ZIP_MAX_MEMBERS:
        raise BadInput(f"{name}: {len(members)} files in the archive (max {ZIP_MAX_MEMBERS})")
    total = 0
    for m in members:
        parts = m.filename.replace("\\", "/").split("/")
        if m.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise BadInput(f"{name}: archive member '{m.filename}' points outside the archive")
        total += m.file_size
        if m.compress_size and m.file_size > (1 << 20):
            ratio = m.file_size / m.compress_size
            if ratio > ZIP_MAX_RATIO:
                raise BadInput(
                    f"{name}: archive member '{m.filename}' expands {ratio:.0f}× (limit"
                    f" {ZIP_MAX_RATIO}×; a zip bomb?)",
                    file=name,
                )
    if total > ZIP_MAX_UNPACKED:
        raise BadInput(f"{name}: archive unpacks to {total >> 20} MiB (limit 4 GiB)", file=name)
    return members


def _zip_target(path: Path, name: str) -> tuple[str, str]:
    """(GDAL path, format) of the one dataset inside an archive, its bytes sniffed too."""
    members = [m for m in check_zip(path, name) if not m.is_dir()]
    data = [m for m in members if not Path(m.filename).name.startswith(("._", "."))]
    by_suffix: dict[str, list[zipfile.ZipInfo]] = {}
    for m in data:
        by_suffix.setdefault(Path(m.filename).suffix.lower(), []).append(m)
    shp = by_suffix.get(".shp", [])
    others = [m for s in (".geojson", ".json", ".gpkg", ".fgb") for m in by_suffix.get(s, [])]
    if len(shp) + len(others) != 1:
        found = ", ".join(m.filename for m in shp + others) or "none"
        raise BadInput(
            f"{name}: the archive must hold exactly one vector dataset (found: {found})",
            file=name,
        )
    member = (shp or others)[0]
    with zipfile.ZipFile(path) as zf, zf.open(member) as f:
        head = f.read(4096)
    probe = path.with_name(path.name + ".sniff")
    probe.write_bytes(head)
    try:
        fmt = sniff(probe)
    finally:
        probe.unlink(missing_ok=True)
    if fmt == "zip":
        raise BadInput(f"{name}: an archive inside the archive ({member.filename})", file=name)
    return f"/vsizip/{path}/{member.filename}", fmt


def open_target(path: Path, name: str) -> tuple[str, str]:
    """(what to hand GDAL, expected format); refuses anything outside the allow-list."""
    harden_gdal()
    fmt = sniff(path)
    if fmt == "zip":
        return _zip_target(path, name)
    return str(path), fmt


def choose_layer(source: str, level: str, layer: str | None, name: str) -> tuple[str | None, list]:
    """The layer to read: the one asked for, the only one, or the one named for the level."""
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(source)]
    except Exception as exc:  # pyogrio.errors.DataSourceError and friends
        raise BadInput(f"{name}: cannot open as a vector file ({_short(exc)})", file=name) from exc
    if layer:
        if layer not in layers:
            raise BadInput(
                f"{name}: no layer '{layer}' (layers: {', '.join(layers)})",
                file=name,
                field="layer",
            )
        return layer, layers
    if len(layers) <= 1:
        return (layers[0] if layers else None), layers
    named = [ly for ly in layers if any(w in header_key(ly) for w in LAYER_WORDS[level])]
    if len(named) == 1:
        return named[0], layers
    raise BadInput(
        f"{name} has {len(layers)} layers ({', '.join(layers)}); choose one with --layer",
        file=name,
        field="layer",
    )


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
    """Open (allow-listed), choose the layer, check the limits, read, decode DBF text."""
    name = report.file
    source, fmt = open_target(path, name)
    # A GeoJSON file is one layer, and listing it parses the whole file (0.7 s nationally)
    single = fmt == "geojson" and not layer
    chosen, layers = (None, []) if single else choose_layer(source, level, layer, name)
    if len(layers) > 1:
        report.notes.append(f"layer '{chosen}' of {len(layers)} ({', '.join(layers)})")
    try:
        info = pyogrio.read_info(source, layer=chosen)
    except Exception as exc:
        what = "open as a vector file" if single else "read the layer"
        raise BadInput(f"{name}: cannot {what} ({_short(exc)})", file=name) from exc
    driver = str(info.get("driver"))
    if driver != DRIVERS[fmt]:
        raise BadInput(
            f"{name}: looks like {fmt} but GDAL reads it as {driver}; not a supported file",
            file=name,
        )
    if info.get("geometry_type") in (None, "Unknown") and not info.get("features"):
        raise BadInput(f"{name}: the layer has no geometry", file=name)
    count = int(info.get("features") or 0)
    if count > MAX_FEATURES:
        raise LimitExceeded(
            f"{name}: {count:,} features (limit {MAX_FEATURES:,} per file)",
            file=name, limit="max_features", value=MAX_FEATURES,
        )  # fmt: skip
    shapefile = driver == "ESRI Shapefile"
    try:
        gdf = pyogrio.read_dataframe(
            source, layer=chosen, encoding="latin1" if shapefile else None,
            max_features=MAX_FEATURES + 1,
        )  # fmt: skip
    except Exception as exc:
        raise BadInput(f"{name}: cannot read features ({_short(exc)})", file=name) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise BadInput(f"{name}: the layer has no geometry column", file=name)
    if len(gdf) > MAX_FEATURES:
        raise LimitExceeded(
            f"{name}: more than {MAX_FEATURES:,} features (limit per file)",
            file=name, limit="max_features", value=MAX_FEATURES,
        )  # fmt: skip
    report.read = len(gdf)
    if not len(gdf):
        raise BadInput(f"{name}: the layer has no features", file=name)
    _check_vertices(gdf, report)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    fields = detect_fields(columns, level, given, name)
    report.fields = dict(fields)
    if shapefile:
        decode_dbf(gdf, columns, fields, info.get("encoding"), encoding, report)
    return RawLayer(gdf, fields, columns, driver)


def _check_vertices(gdf: gpd.GeoDataFrame, report: ImportReport) -> None:
    """Vertices per feature and per file bounded (what the geometry steps' time grows with)."""
    counts = shapely.get_num_coordinates(np.asarray(gdf.geometry.values, dtype=object))
    big = np.flatnonzero(counts > MAX_VERTICES_PER_FEATURE)
    if len(big):
        i = int(big[0])
        raise LimitExceeded(
            f"{report.file}: feature {i} has {int(counts[i]):,} vertices (limit"
            f" {MAX_VERTICES_PER_FEATURE:,} per feature)",
            file=report.file,
            limit="max_vertices_per_feature",
            value=MAX_VERTICES_PER_FEATURE,
        )
    if counts.sum() > MAX_VERTICES_PER_FILE:
        raise LimitExceeded(
            f"{report.file}: {int(counts.sum()):,} vertices (limit {MAX_VERTICES_PER_FILE:,})",
            file=report.file,
            limit="max_vertices_per_file",
            value=MAX_VERTICES_PER_FILE,
        )


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


def _short(exc: Exception) -> str:
    """GDAL's message without server paths (the temp folder of an upload means nothing to
    the sender, and error bodies must not show them)."""
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _ABSOLUTE_PATH.sub("<file>", msg)[:300]


# an absolute path (``/vsizip//srv/x/var/…/a.zip``, ``/tmp/…``): anything from a slash that
# does not follow a word character up to the next space or quote
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/[^\s'\"]+")
