"""The child's side of reading a boundary file: sniff, check archives, count, read.

Runs only in the sandbox's child (``geo.ingest.sandbox``; ``vector.read_layer`` sends the
file there): GDAL never opens an upload in a serving process. Why so guarded even there:
GDAL opens far more than we support — an OGR VRT renamed ``.geojson`` can read
``/etc/passwd`` or fetch a URL, ``/vsicurl/`` makes the server call anyone, a zip named
``.shz`` is still a zip. So only four formats reach GDAL (GeoJSON, Shapefile — plain or
zipped —, GeoPackage, FlatGeobuf), recognised by their bytes, never by their name; the
driver GDAL then picks must be the one we sniffed; network and virtual file systems are
switched off (``harden_gdal``); every archive, whatever its name, goes through the
zip-bomb check.

Counted before GDAL parses (``scan_geojson``): GDAL's GeoJSON reader builds the whole
document as objects, so a 1.7 MB feature of 100,000 properties or a 67 MB ring of 3
million vertices cost gigabytes and a minute of CPU before any limit of ours ran. The scan
streams the file with ijson (yajl in C) and refuses at the first property, vertex or level
of nesting past the limit. Other formats declare their fields (checked from the layer's
info) and are read feature by feature by GDAL.

What goes back: attribute columns as JSON lists and the geometries as one WKB blob.

Why one module (≈460 lines): each guard is a few lines, and they only make sense in the
order a file is opened (sniff → archive → count → layer → fields → read → limits); split
apart, the order that keeps GDAL away from unsupported input would be spread over files.
"""

from __future__ import annotations

import functools
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from geo.errors import BadInput, LimitExceeded
from geo.ingest import sandbox

ZIP_MAX_MEMBERS = 1000
ZIP_MAX_UNPACKED = 4 << 30  # 4 GiB
ZIP_MAX_RATIO = 200  # deflate rarely beats ~10:1 on real vector data
MAX_CRS_CHARS = 20_000  # a WKT with every parameter is a few KB

# What we let GDAL open: our format name → the GDAL driver that must be the one used.
DRIVERS = {
    "geojson": "GeoJSON",
    "shapefile": "ESRI Shapefile",
    "gpkg": "GPKG",
    "fgb": "FlatGeobuf",
}


@dataclass(frozen=True)
class VectorLimits:
    """What one boundary file may hold (documented in docs/untrusted-files.md): far above
    any real file (3,321 communes; the largest commune outline has ~100,000 vertices), low
    enough that a crafted file cannot exhaust memory or time."""

    max_features: int = 20_000
    max_vertices_per_feature: int = 2_000_000
    max_vertices_per_file: int = 50_000_000
    max_vertices_per_ring: int = 500_000  # one list of positions (GeoJSON, counted early)
    max_properties: int = 1_000  # attributes of one feature (a DBF allows 255)
    max_depth: int = 32  # JSON nesting (a MultiPolygon feature needs 7)


_configured = VectorLimits()


def configure(limits: VectorLimits) -> None:
    """This process's limits for boundary files (the API and CLI, from ``Settings``)."""
    global _configured
    _configured = limits


def configured() -> VectorLimits:
    return _configured


def limit(name: str, what: str, what_vi: str, key: str, value: int, stage: str) -> LimitExceeded:
    """A refusal naming the file, the limit and the stage, Vietnamese first."""
    return LimitExceeded(
        f"Tệp {name}: {what_vi} (giới hạn {key}={value:,}) — {name}: {what}"
        f" (limit {key}={value:,})",
        file=name, limit=key, value=value, stage=stage,
    )  # fmt: skip


@functools.cache
def harden_gdal() -> None:
    """Switch off what an uploaded file could use to reach the network or other files.

    Set once per process, before the first open. GDAL reads these at open time: no curl
    handler accepts any extension, HTTP has no time to connect, no proxy can be auto-found,
    and drivers are never asked to list directories around the file."""
    import pyogrio

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
    """(what to hand GDAL, expected format); refuses anything outside the allow-list.
    GDAL is not loaded yet (``harden_gdal`` comes before the first GDAL call)."""
    fmt = sniff(path)
    if fmt == "zip":
        return _zip_target(path, name)
    return str(path), fmt


def choose_layer(source: str, level: str, layer: str | None, name: str) -> tuple[str | None, list]:
    """The layer to read: the one asked for, the only one, or the one named for the level."""
    import pyogrio

    from geo.ingest.sheets import LEVEL_WORDS, header_key

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(source)]
    except Exception as exc:  # pyogrio.errors.DataSourceError and friends
        if isinstance(exc, MemoryError):  # the sandbox's memory limit: named by it
            raise
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
    named = [ly for ly in layers if any(w in header_key(ly) for w in LEVEL_WORDS[level])]
    if len(named) == 1:
        return named[0], layers
    raise BadInput(
        f"{name} has {len(layers)} layers ({', '.join(layers)}); choose one with --layer",
        file=name,
        field="layer",
    )


def scan_geojson(stream: IO[bytes], name: str, lim: VectorLimits) -> None:
    """Stream a GeoJSON document once and refuse it at the first feature, property,
    position or nesting level past ``lim`` — before GDAL builds any of it.

    Counts per container: keys of a ``properties`` object, members of the top-level
    ``features`` array, and members of every array under ``coordinates`` (a ring's
    positions). Malformed JSON is left for GDAL to name."""
    import ijson

    caps = {
        "properties": (lim.max_properties, "properties in one feature",
                       "thuộc tính trong một đối tượng", "max_properties"),
        "features": (lim.max_features, "features", "đối tượng", "max_features"),
        "coordinates": (lim.max_vertices_per_ring, "positions in one ring or line",
                        "đỉnh trong một vòng", "max_vertices_per_ring"),
    }  # fmt: skip
    unbounded = 1 << 62
    max_numbers = 3 * lim.max_vertices_per_file
    numbers = 0
    # per open container: [members so far, cap, role, is an object]
    stack: list[list] = [[0, unbounded, "", False]]  # a sentinel: the document itself
    key: str | None = None
    for event, value in ijson.basic_parse(stream, use_float=True, buf_size=1 << 16):
        if event == "number":  # the bulk of a boundary file: coordinates
            numbers += 1
            if numbers > max_numbers:
                what, vi = f"more than {max_numbers:,} numbers", f"có hơn {max_numbers:,} số"
                cap = lim.max_vertices_per_file
                raise limit(name, what, vi, "max_vertices_per_file", cap, "count")
            top = stack[-1]
            if not top[3]:
                top[0] += 1
                if top[0] > top[1]:
                    _refuse(top, caps, name)
            continue
        if event == "end_array" or event == "end_map":
            stack.pop()
            continue
        top = stack[-1]
        if top[3] is (event == "map_key"):  # a key of an object, a member of an array
            top[0] += 1
            if top[0] > top[1]:
                _refuse(top, caps, name)
        if event == "map_key":
            key = value
            continue
        if event == "start_array":
            if key == "coordinates" or top[2] == "coordinates":
                stack.append([0, lim.max_vertices_per_ring, "coordinates", False])
            elif key == "features" and len(stack) == 2:
                stack.append([0, lim.max_features, "features", False])
            else:
                stack.append([0, unbounded, "", False])
        elif event == "start_map":
            if key == "properties":
                stack.append([0, lim.max_properties, "properties", True])
            else:
                stack.append([0, unbounded, "", True])
        key = None
        if len(stack) > lim.max_depth + 1:
            raise limit(name, f"JSON nested deeper than {lim.max_depth} levels",
                        f"lồng sâu hơn {lim.max_depth} cấp", "max_depth", lim.max_depth,
                        "count")  # fmt: skip


def _refuse(frame: list, caps: dict, name: str) -> None:
    cap, what, vi, limit_name = caps[frame[2]]
    raise limit(name, f"more than {cap:,} {what}", f"có hơn {cap:,} {vi}", limit_name, cap, "count")


def _scan_or_leave(stream: IO[bytes], name: str, lim: VectorLimits) -> None:
    """``scan_geojson``, leaving malformed JSON for GDAL to name."""
    import ijson

    try:
        scan_geojson(stream, name, lim)
    except ijson.common.IncompleteJSONError:
        return  # not JSON, or cut short: GDAL says what is wrong with it


def _open_stream(path: Path, source: str):
    """A byte stream of the dataset GDAL will read (a zip member streams, uninflated)."""
    if source.startswith("/vsizip/"):
        member = source[len("/vsizip/") + len(str(path)) + 1 :]
        z = zipfile.ZipFile(path)
        return z, z.open(member)
    f = path.open("rb")
    return f, f


def vector_task(path: Path, name: str, args: dict) -> tuple[dict, bytes]:
    """The child's work on a boundary file: sniff, count, read; columns and WKB back."""
    lim = VectorLimits(**args["limits"])
    sandbox.stage("sniff")
    source, fmt = open_target(path, name)
    if fmt == "geojson":
        sandbox.stage("count")
        holder, stream = _open_stream(path, source)
        with holder, stream:
            _scan_or_leave(stream, name, lim)
    sandbox.stage("parse")
    import pyogrio  # only now: counting a hostile file does not wait for GDAL to load

    harden_gdal()
    layer = args.get("layer")
    single = fmt == "geojson" and not layer  # one layer; listing it parses the whole file
    chosen, layers = (None, []) if single else choose_layer(source, args["level"], layer, name)
    try:
        info = pyogrio.read_info(source, layer=chosen)
    except Exception as exc:  # noqa: BLE001 - pyogrio.errors.DataSourceError and friends
        if isinstance(exc, MemoryError):  # the sandbox's memory limit: named by it
            raise
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
    if count > lim.max_features:
        what = f"{count:,} features (limit {lim.max_features:,} per file)"
        raise limit(
            name, what, f"có {count:,} đối tượng", "max_features", lim.max_features, "parse"
        )
    fields = list(info.get("fields") if info.get("fields") is not None else [])
    if len(fields) > lim.max_properties:
        raise limit(name, f"{len(fields):,} fields", f"có {len(fields):,} trường",
                    "max_properties", lim.max_properties, "parse")  # fmt: skip
    shapefile = driver == "ESRI Shapefile"
    try:
        meta, _, geometry, field_data = pyogrio.raw.read(
            source, layer=chosen, encoding="latin1" if shapefile else None,
            max_features=lim.max_features + 1,
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001
        if isinstance(exc, MemoryError):  # the sandbox's memory limit: named by it
            raise
        raise BadInput(f"{name}: cannot read features ({_short(exc)})", file=name) from exc
    if geometry is None:
        raise BadInput(f"{name}: the layer has no geometry column", file=name)
    if len(geometry) > lim.max_features:
        raise limit(name, f"more than {lim.max_features:,} features (limit per file)",
                    f"có hơn {lim.max_features:,} đối tượng", "max_features",
                    lim.max_features, "parse")  # fmt: skip
    geoms, closed = parse_wkb(geometry, name)
    _check_vertices(geoms, name, lim)
    sandbox.stage("return")
    blobs = [b if b is not None else b"" for b in geometry]
    offsets = np.cumsum([0] + [len(b) for b in blobs]).tolist()
    columns = [_column(n, a) for n, a in zip(meta["fields"], field_data, strict=True)]
    crs = meta.get("crs")
    return {
        "driver": driver,
        "layers": layers,
        "chosen": chosen,
        "crs": crs[:MAX_CRS_CHARS] if isinstance(crs, str) else None,
        "encoding": meta.get("encoding"),
        "columns": columns,
        "offsets": offsets,
        "missing": [i for i, b in enumerate(geometry) if b is None],
        "closed": closed,
    }, b"".join(blobs)


def _column(name: str, values: np.ndarray) -> dict:
    """One attribute column as JSON: numbers and booleans as they are, dates as text."""
    kind = values.dtype.kind
    if kind in "Mm":
        return {"name": str(name), "dtype": "datetime", "values": [
            None if np.isnat(v) else str(v) for v in values]}  # fmt: skip
    if kind in "biuf":
        return {"name": str(name), "dtype": str(values.dtype), "values": values.tolist()}
    return {"name": str(name), "dtype": "object", "values": [
        v if v is None or isinstance(v, str) else str(v) for v in values.tolist()]}  # fmt: skip


def parse_wkb(blobs: np.ndarray, name: str) -> tuple[np.ndarray, list[int]]:
    """WKB → geometries, rings left open closed: GDAL passes a GeoJSON ring whose last
    position is not its first as it is (converters that drop the repeated point are common),
    and GEOS refuses it. Returns the geometries and the indexes of the features closed."""
    import shapely

    geoms = shapely.from_wkb(blobs, on_invalid="ignore")
    broken = [i for i, (g, b) in enumerate(zip(geoms, blobs, strict=True)) if g is None and b]
    if broken:
        fixed = shapely.from_wkb(blobs[broken], on_invalid="fix")
        lost = [i for i, g in zip(broken, fixed, strict=True) if g is None]
        if lost:
            raise BadInput(
                f"{name}: feature {lost[0]}: geometry not readable (WKB)", file=name, row=lost[0]
            )
        geoms[broken] = fixed
    return geoms, broken


def _check_vertices(geoms: np.ndarray, name: str, lim: VectorLimits) -> None:
    """Vertices per feature and per file bounded (what the geometry steps' time grows with)."""
    import shapely

    counts = shapely.get_num_coordinates(geoms)
    big = np.flatnonzero(counts > lim.max_vertices_per_feature)
    if len(big):
        i = int(big[0])
        raise limit(name, f"feature {i} has {int(counts[i]):,} vertices (limit"
                    f" {lim.max_vertices_per_feature:,} per feature)",
                    f"đối tượng {i} có {int(counts[i]):,} đỉnh", "max_vertices_per_feature",
                    lim.max_vertices_per_feature, "parse")  # fmt: skip
    if counts.sum() > lim.max_vertices_per_file:
        raise limit(name, f"{int(counts.sum()):,} vertices (limit"
                    f" {lim.max_vertices_per_file:,})", f"có {int(counts.sum()):,} đỉnh",
                    "max_vertices_per_file", lim.max_vertices_per_file, "parse")  # fmt: skip


def _short(exc: Exception) -> str:
    """GDAL's message without server paths (the temp folder of an upload means nothing to
    the sender, and error bodies must not show them)."""
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _ABSOLUTE_PATH.sub("<file>", msg)[:300]


# an absolute path (``/vsizip//srv/x/var/…/a.zip``, ``/tmp/…``): anything from a slash that
# does not follow a word character up to the next space or quote
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/[^\s'\"]+")
