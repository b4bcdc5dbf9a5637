"""Import official boundary files: read any vector format, fix CRS, text and geometry,
check the hierarchy, recompute the display levels, and swap them in atomically.

Why so much care: this replaces the geometry every map and every spatial join uses, and
the files that arrive are the real ones — VN-2000 TM-3 shapefiles with TCVN3 DBFs,
self-intersecting rings, empty features, GeoPackages with two layers. The rules:

- units are upserted by code and never deleted: tasks and history hang on them; codes the
  file lacks are reported (``missing``);
- geometry is repaired (polygonal parts of ``make_valid``), forced to MultiPolygon with
  RFC 7946 rings; empty features are dropped and reported;
- display levels are recomputed for the whole layer with coverage simplification (shared
  borders stay shared at every level); province levels are the union of their communes'
  levels when the province is the union of its communes, so borders match across layers;
- a province whose geometry is still approximate becomes the union of its communes once
  all of them are official;
- everything happens in one transaction (``geo.ingest.report.import_transaction``); the same
  file imported twice changes nothing and does not bump the data version.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from sqlalchemy import Connection, Engine, text

from geo import crs as vncrs
from geo.errors import BadInput
from geo.ingest import encodings, store
from geo.ingest.report import ImportReport, Progress, fail_point, finish, import_transaction
from geo.ingest.sheets import CellError, header_key, normalise_code
from geo.ingest.topology import DEFAULT_LEVELS, _as_multipolygon, coverage_levels
from geo.official import official_units, split_kind
from geo.safe_text import file_label
from geo.text import normalise_name, search_key

LEVELS = ("province", "commune")
WIDTH = {"province": 2, "commune": 5}
REORGANISATION = dt.date(2025, 7, 1)
VECTOR_SUFFIXES = (".geojson", ".json", ".shp", ".zip", ".gpkg", ".fgb")
DEFAULT_OVERLAP_M2 = 1000.0  # overlaps/outside-province areas below this are digitising noise
M_PER_DEG = 111_320.0
DETECT_SAMPLE = 1000  # names enough to tell encodings apart

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
    },
    "province": {
        "code": ["ma_tinh", "matinh", "ma_tp", "ma_tinh_tp", "ma_dvhc", "province_code", "code",
                 "ma", "id"],
        "name": ["ten_tinh", "tentinh", "ten_tp", "ten_tinh_tp", "ten_dvhc", "province_name",
                 "name_vi", "name", "ten"],
        "parent": [],
    },
}  # fmt: skip
LAYER_WORDS = {"commune": ("xa", "phuong", "commune", "ward"), "province": ("tinh", "province")}


@dataclass
class Features:
    """The file's features after reading, reprojection and repair, one row per unit."""

    codes: list[str]
    names: list[str | None]
    kinds: list[str | None]
    parents: list[str | None]
    geoms: np.ndarray  # MultiPolygons in EPSG:4326, RFC 7946 rings
    index: list[int]  # feature index in the file (for the report)
    notes: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def official_name_keys() -> frozenset[str]:
    """Name keys of every official unit: confirms an encoding guess on a DBF."""
    return frozenset(_name_key(u.name) for u in official_units().values())


def _name_key(text_: str) -> str:
    """How names are compared with the official list: kind prefix dropped, lower case, NFC."""
    return normalise_name(split_kind(text_)[1]).lower()


# --- reading -----------------------------------------------------------------------------
ZIP_MAX_MEMBERS = 1000
ZIP_MAX_UNPACKED = 4 << 30  # 4 GiB: far above any real boundary file
ZIP_MAX_RATIO = 200  # deflate rarely beats ~10:1 on real vector data


def check_zip(path: str, name: str) -> None:
    """Refuse zip bombs and odd archives before GDAL reads inside them.

    GDAL reads members in place (/vsizip/), so nothing is extracted to disk, but a crafted
    archive can still expand to terabytes while being read, or name members outside the
    archive; both are refused with a message naming the member."""
    import zipfile

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
        big = m.file_size > (64 << 20)
        if big and m.compress_size and m.file_size / m.compress_size > ZIP_MAX_RATIO:
            raise BadInput(
                f"{name}: archive member '{m.filename}' expands {m.file_size // m.compress_size}×"
                " (a zip bomb?)",
                file=name,
            )
    if total > ZIP_MAX_UNPACKED:
        raise BadInput(f"{name}: archive unpacks to {total >> 20} MiB (max 4 GiB)", file=name)


def choose_layer(path: str, level: str, layer: str | None, name: str) -> tuple[str | None, list]:
    """The layer to read: the one asked for, the only one, or the one named for the level."""
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio.errors.DataSourceError and friends
        raise BadInput(f"{name}: cannot open as a vector file ({exc})", file=name) from exc
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
    """Our field (code/name/parent) → the file's column: flags first, then the aliases."""
    by_key = {}
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


def read_features(
    path: str | Path,
    level: str,
    report: ImportReport,
    *,
    layer: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
) -> Features:
    """Read, decode, reproject and repair; per-feature problems go to the report."""
    name = report.file
    source = str(path)
    if source.lower().endswith(".zip"):
        check_zip(source, name)
    chosen, layers = choose_layer(source, level, layer, name)
    if len(layers) > 1:
        report.notes.append(f"layer '{chosen}' of {len(layers)} ({', '.join(layers)})")
    info = pyogrio.read_info(source, layer=chosen)
    shapefile = info.get("driver") == "ESRI Shapefile"
    try:
        gdf = pyogrio.read_dataframe(source, layer=chosen, encoding="latin1" if shapefile else None)
    except Exception as exc:
        raise BadInput(f"{name}: cannot read features ({exc})", file=name) from exc
    report.read = len(gdf)
    if not len(gdf):
        raise BadInput(f"{name}: the layer has no features", file=name)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    fields = detect_fields(
        columns, level, {"code": code_field, "name": name_field, "parent": parent_field}, name
    )
    report.fields = dict(fields)
    if shapefile:
        _decode_dbf(gdf, columns, fields, info.get("encoding"), encoding, level, report)
    geoms = _to_wgs84(gdf, crs, report)
    return _normalise(gdf, fields, geoms, level, report)


def _decode_dbf(gdf, columns, fields, declared, encoding, level, report) -> None:
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
            official=official_name_keys(),
            key=_name_key,
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


def _to_wgs84(gdf, crs_text: str | None, report: ImportReport) -> np.ndarray:
    """Reproject to EPSG:4326 (VN-2000 pinned to EPSG:6960); catch files without a CRS and
    coordinates that land outside Vietnam (swapped X/Y, wrong --crs)."""
    geoms = shapely.force_2d(np.asarray(gdf.geometry.values, dtype=object))
    bounds = tuple(float(b) for b in shapely.total_bounds(geoms))
    if crs_text:
        src = vncrs.parse_crs(crs_text)
        if gdf.crs is not None and not CRS(gdf.crs).equals(src):
            report.notes.append(f"--crs {crs_text} overrides the file's CRS ({CRS(gdf.crs).name})")
    elif gdf.crs is not None:
        src = CRS(gdf.crs)
    elif vncrs.looks_geographic(bounds):
        src = CRS.from_epsg(4326)
        report.notes.append("the file has no CRS; its coordinates are degrees: read as WGS 84")
    else:
        raise BadInput(
            f"{report.file}: the file has no CRS and its coordinates look projected"
            f" (x {bounds[0]:.0f}…{bounds[2]:.0f}, y {bounds[1]:.0f}…{bounds[3]:.0f});"
            " pass --crs, e.g. --crs vn2000:tm3:105.5 (the province's TM-3 meridian)"
            " or --crs EPSG:5897",
            file=report.file,
            field="crs",
        )
    transformer, notes = vncrs.wgs84_transformer(src)
    report.notes.append(f"CRS {src.name}" + (f"; {notes[0]}" if notes else ""))
    report.notes.extend(notes[1:])
    if src.equals(CRS.from_epsg(4326)):
        out = geoms
    else:
        out = shapely.transform(
            geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    _check_in_vietnam(out, geoms, report)
    return out


def _check_in_vietnam(out: np.ndarray, original: np.ndarray, report: ImportReport) -> None:
    ok = ~shapely.is_missing(out)
    ok[ok] = ~shapely.is_empty(out[ok])
    if not ok.any():
        return
    box = shapely.bounds(out[ok])  # the box centre: cheap, and enough to spot a wrong CRS
    lon, lat = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    inside = vncrs.in_vietnam(lon, lat)
    if inside.all():
        return
    swapped = vncrs.in_vietnam(lat, lon)
    idx = np.flatnonzero(ok)
    hint = (
        "X and Y look swapped (lat/lon order); fix the file or its CRS"
        if swapped[~inside].mean() > 0.5
        else "wrong CRS? pass --crs (e.g. vn2000:tm3:105.5 or EPSG:5897)"
    )
    for i in np.flatnonzero(~inside)[:50]:
        report.error(
            f"lies at lon {lon[i]:.5f}, lat {lat[i]:.5f}, outside Vietnam — {hint}",
            row=int(idx[i]),
        )
    if (~inside).sum() > 50:
        report.error(f"… and {(~inside).sum() - 50} more features outside Vietnam — {hint}")


def _normalise(gdf, fields, geoms: np.ndarray, level: str, report: ImportReport) -> Features:
    """Codes, names, kinds, parents and geometry per feature; bad features → report."""
    official = official_units()
    values = {fld: gdf[col].tolist() for fld, col in fields.items()}
    codes, names, kinds, parents, keep, index = [], [], [], [], [], []
    seen: dict[str, int] = {}
    for i in range(len(gdf)):
        try:
            code = normalise_code(values["code"][i], WIDTH[level])
        except CellError as exc:
            report.error(f"{level} code: {exc}", row=i, field=fields["code"])
            continue
        if code in seen:
            report.error(
                f"duplicate code {code} (also feature {seen[code]})",
                row=i,
                field=fields["code"],
                code=code,
            )
            continue
        seen[code] = i
        raw_name = values["name"][i] if "name" in fields else None
        kind, short = (
            split_kind(str(raw_name))
            if isinstance(raw_name, str) and raw_name.strip()
            else (None, None)
        )
        parent = None
        if "parent" in fields:
            value = values["parent"][i]
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                try:
                    parent = normalise_code(value, 2)
                except CellError as exc:
                    report.error(f"parent code: {exc}", row=i, field=fields["parent"], code=code)
                    continue
        off = official.get(code)
        if off is not None and short:
            if off.level != level:
                report.error(f"code {code} is a {off.level} code", row=i, code=code)
                continue
            if _name_key(short) != _name_key(off.name):
                report.warn(
                    f"name '{short}' differs from the official name '{off.name}'",
                    row=i,
                    field=fields.get("name"),
                    code=code,
                )
        codes.append(code)
        names.append(short)
        kinds.append(kind)
        parents.append(parent)
        keep.append(i)
        index.append(i)
    fixed, repaired, problems = repair(geoms[keep])
    report.repaired = repaired
    ok = []
    for j, problem in enumerate(problems):
        if problem:
            report.reject(problem, row=index[j], code=codes[j])
        else:
            ok.append(j)
    pick = lambda xs: [xs[j] for j in ok]  # noqa: E731
    return Features(pick(codes), pick(names), pick(kinds), pick(parents), fixed[ok], pick(index))


def repair(geoms: np.ndarray) -> tuple[np.ndarray, int, list[str | None]]:
    """Valid MultiPolygons with RFC 7946 rings; (geoms, how many repaired, problem per geom).

    Invalid rings go through ``make_valid`` (structure method: shells bound area, holes
    remove it) and only the polygonal parts are kept; an empty or non-areal result is a
    problem, reported and dropped."""
    out = np.empty(len(geoms), dtype=object)
    problems: list[str | None] = [None] * len(geoms)
    repaired = 0
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(np.where(missing, shapely.Point(), geoms))
    valid = np.zeros(len(geoms), dtype=bool)
    valid[~empty] = shapely.is_valid(geoms[~empty])
    for i, g in enumerate(geoms):
        if empty[i]:
            problems[i] = "empty geometry (dropped)"
            out[i] = shapely.MultiPolygon()
            continue
        if g.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            problems[i] = f"{g.geom_type} is not a polygon (dropped)"
            out[i] = shapely.MultiPolygon()
            continue
        fixed = g
        changed = False
        if not valid[i]:
            fixed = shapely.make_valid(g, method="structure", keep_collapsed=False)
            changed = True
        mp = _as_multipolygon(fixed)
        if g.geom_type == "GeometryCollection" or (
            fixed.geom_type not in ("Polygon", "MultiPolygon")
        ):
            changed = True  # lines/points dropped from a collection
        if mp.is_empty or mp.area <= 0:
            problems[i] = "geometry has no area after repair (dropped)"
        repaired += changed
        out[i] = mp
    return shapely.orient_polygons(out, exterior_cw=False), repaired, problems


# --- the import --------------------------------------------------------------------------
@dataclass
class Layer:
    """The units of one level as stored: what the file is compared with and merged into."""

    codes: list[str]
    name: dict[str, str]
    kind: dict[str, str]
    parent: dict[str, str | None]
    geom: dict[str, object]
    quality: dict[str, str]
    source: dict[str, str]
    label: dict[str, object]
    tasks: dict[str, int]


def load_layer(conn: Connection, level: str) -> Layer:
    """The stored units of a level (geometry as shapely) and how many tasks each holds."""
    rows = conn.execute(
        text(
            "select u.code, u.name, u.kind, u.parent_code, ST_AsBinary(u.geom) wkb,"
            " ST_AsBinary(u.label_point) label, u.geometry_quality, u.source,"
            " (select count(*) from task t where t.unit_code = u.code) tasks"
            " from admin_unit u where u.level = :l order by u.code"
        ),
        {"l": level},
    ).all()
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows]) if rows else []
    labels = shapely.from_wkb([bytes(r.label) if r.label else None for r in rows]) if rows else []
    return Layer(
        codes=[r.code for r in rows],
        name={r.code: r.name for r in rows},
        kind={r.code: r.kind for r in rows},
        parent={r.code: r.parent_code for r in rows},
        geom=dict(zip((r.code for r in rows), geoms, strict=True)),
        quality={r.code: r.geometry_quality for r in rows},
        source={r.code: r.source for r in rows},
        label=dict(zip((r.code for r in rows), labels, strict=True)),
        tasks={r.code: int(r.tasks) for r in rows},
    )


def import_boundaries(
    engine: Engine,
    path: str | Path,
    level: str,
    *,
    code_field: str | None = None,
    name_field: str | None = None,
    parent_field: str | None = None,
    crs: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    overlap_tolerance_m2: float = DEFAULT_OVERLAP_M2,
    display_name: str | None = None,
    fail_at: str | None = None,
    lock_timeout_s: float | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a province or commune boundary file (see the module docstring)."""
    if level not in LEVELS:
        raise BadInput(f"level must be province or commune, not '{level}'", field="level")
    path = Path(path)
    name = file_label(display_name or path.name)  # stored as source, shown in headers
    report = ImportReport(kind="boundaries", file=name, dry_run=dry_run)
    step = progress or (lambda *_: None)
    step("read", 0, 6)
    feats = read_features(
        path, level, report, layer=layer, code_field=code_field, name_field=name_field,
        parent_field=parent_field, crs=crs, encoding=encoding,
    )  # fmt: skip
    if report.errors and not skip_invalid:
        return finish(report)
    if skip_invalid and report.errors:
        report.rejected.extend(report.errors)
        report.errors = []
        bad = {p.row for p in report.rejected}
        keep = [j for j, i in enumerate(feats.index) if i not in bad]
        feats = _subset(feats, keep)
    if not feats.codes:
        report.error("no usable feature in the file")
        return finish(report)
    step("validate", 1, 6)
    with import_transaction(engine, "boundaries", report, lock_timeout_s) as conn:
        provinces = load_layer(conn, "province")
        current = provinces if level == "province" else load_layer(conn, "commune")
        if level == "commune":
            _check_parents(feats, current, provinces, report, skip_invalid)
            if report.errors:
                return finish(report)
        plan = _plan(feats, current, level, name)
        report.created, report.updated = len(plan.new), len(plan.changed)
        report.unchanged = len(feats.codes) - report.created - report.updated
        missing = [c for c in current.codes if c not in set(feats.codes)]
        report.missing = missing
        if missing:
            held = sum(current.tasks[c] for c in missing)
            report.warn(
                f"{len(missing)} {level}(s) in the database are not in the file; kept"
                f" ({held} task(s) attached): {', '.join(missing[:20])}"
                + (" …" if len(missing) > 20 else "")
            )
        if not plan.new and not plan.changed:
            return finish(report)
        step("simplify", 2, 6)
        units, levels = _rebuild(
            conn, level, feats, plan, current, provinces, report, overlap_tolerance_m2
        )
        step("stage", 3, 6)
        _stage(conn, units, levels)
        invalid = (
            conn.execute(
                text("select code from import_unit where not ST_IsValid(geom) order by code")
            )
            .scalars()
            .all()
        )
        for code in invalid:
            report.error("PostGIS finds the repaired geometry invalid", code=code)
        if report.errors:
            return finish(report)
        fail_point("staged", fail_at)
        step("swap", 4, 6)
        _swap(conn, levels)
        fail_point("swapped", fail_at)
        report.version = store.bump_version(conn, None, f"boundaries ({level}): {name}")
        step("done", 6, 6)
    return finish(report)


def _subset(feats: Features, keep: list[int]) -> Features:
    pick = lambda xs: [xs[j] for j in keep]  # noqa: E731
    return Features(
        pick(feats.codes), pick(feats.names), pick(feats.kinds), pick(feats.parents),
        feats.geoms[keep], pick(feats.index), feats.notes,
    )  # fmt: skip


def _check_parents(feats: Features, communes: Layer, provinces: Layer, report, skip) -> None:
    """Every commune needs a province: from the file, else the database, else the official
    list, else the province containing it; a parent that does not exist is an error."""
    official = official_units()
    derived = 0
    prov_codes = list(provinces.codes)
    prov_geoms = np.array([provinces.geom[c] for c in prov_codes], dtype=object)
    tree = shapely.STRtree(prov_geoms) if len(prov_geoms) else None
    for j, code in enumerate(feats.codes):
        parent = feats.parents[j]
        if parent is None:
            derived += 1
            parent = communes.parent.get(code)
            if parent is None and code in official:
                parent = official[code].parent
            if parent is None and tree is not None:
                pt = shapely.point_on_surface(feats.geoms[j])
                hits = tree.query(pt, predicate="within")
                parent = prov_codes[hits[0]] if len(hits) else None
            if parent is None:
                (report.reject if skip else report.error)(
                    "no parent province in the file and none can be derived",
                    row=feats.index[j],
                    code=code,
                )
                continue
            feats.parents[j] = parent
        if parent not in provinces.name:
            (report.reject if skip else report.error)(
                f"parent province '{parent}' does not exist (load provinces first)",
                row=feats.index[j],
                field=report.fields.get("parent"),
                code=code,
            )
            feats.parents[j] = None
            continue
        if code in official and official[code].parent != parent:
            report.warn(
                f"commune {code} is in province {official[code].parent} in the official"
                f" list, the file says {parent}",
                row=feats.index[j],
                code=code,
            )
    if derived:
        report.notes.append(
            f"{derived} feature(s) without a parent code: province taken from the database,"
            " the official list or the containing province"
        )
    if skip:
        keep = [j for j, p in enumerate(feats.parents) if p is not None]
        if len(keep) != len(feats.codes):
            sub = _subset(feats, keep)
            feats.codes, feats.names, feats.kinds = sub.codes, sub.names, sub.kinds
            feats.parents, feats.geoms, feats.index = sub.parents, sub.geoms, sub.index


@dataclass
class Plan:
    """Which file units are new, which changed (and how), which are identical."""

    new: list[int]
    changed: list[int]
    name: list[str]
    kind: list[str]


def _plan(feats: Features, current: Layer, level: str, source: str) -> Plan:
    official = official_units()
    new, changed, names, kinds = [], [], [], []
    stored = np.array([current.geom.get(c) for c in feats.codes], dtype=object)
    has = np.array([g is not None for g in stored])
    same_geom = np.zeros(len(feats.codes), dtype=bool)
    if has.any():
        same_geom[has] = shapely.equals_exact(feats.geoms[has], stored[has], tolerance=0.0)
    for j, code in enumerate(feats.codes):
        off = official.get(code)
        name = feats.names[j] or current.name.get(code) or (off.name if off else None)
        kind = (
            feats.kinds[j]
            or current.kind.get(code)
            or (off.kind if off else ("Tỉnh" if level == "province" else "Xã"))
        )
        names.append(name or code)
        kinds.append(kind)
        if code not in current.name:
            new.append(j)
        elif (
            not same_geom[j]
            or names[-1] != current.name[code]
            or kind != current.kind[code]
            or (level == "commune" and feats.parents[j] != current.parent[code])
            or current.quality[code] != "official"
            or current.source[code] != source
        ):
            changed.append(j)
    return Plan(new, changed, names, kinds)


def _area_m2(geoms) -> np.ndarray:
    """Approximate area in m² of small lon/lat geometries (good enough for a tolerance)."""
    bounds = shapely.bounds(geoms)  # NaN for empty geometries, whose area is 0 anyway
    lat = np.nan_to_num((bounds[:, 1] + bounds[:, 3]) / 2)
    return shapely.area(geoms) * (M_PER_DEG**2) * np.cos(np.radians(lat))


def _rebuild(conn, level, feats, plan, current, provinces, report, tolerance_m2):
    """The rows to stage (new/changed units, derived provinces) and the display levels."""
    touched = sorted(set(plan.new) | set(plan.changed))
    rows = _unit_rows(feats, plan, touched, level, current, report.file)
    staged = {r["code"] for r in rows}
    geom = dict(current.geom) | {r["code"]: r["geometry"] for r in rows}
    codes = sorted(geom)
    geoms = np.array([geom[c] for c in codes], dtype=object)
    clean = bool(shapely.coverage_is_valid(geoms))  # edge-matched, no overlaps
    if not clean:
        _report_overlaps(codes, geoms, staged, report, tolerance_m2)
    if level == "commune":
        simplified = _levels(geoms, clean, report)
        levels = {b: dict(zip(codes, g, strict=True)) for b, g in simplified.items()}
        parent = dict(current.parent) | {r["code"]: r["parent_code"] for r in rows}
        quality = dict(current.quality) | {c: "official" for c in staged}
        prov_rows, prov_levels = _provinces_from_communes(
            provinces, codes, geoms, parent, quality, levels, report
        )
        rows.extend(prov_rows)
        derived = {r["code"] for r in prov_rows}
        check = [c for c in staged if parent[c] not in derived]
        _report_outside(check, geom, parent, provinces.geom, report, tolerance_m2)
        for band, by_code in prov_levels.items():
            levels[band].update(by_code)
    else:
        communes = load_layer(conn, "commune")
        check = [c for c in communes.codes if communes.parent[c] in staged]
        _report_outside(check, communes.geom, communes.parent, geom, report, tolerance_m2)
        levels = _province_levels_from_stored_communes(conn, geom, communes)
        if levels is None:
            simplified = _levels(geoms, clean, report)
            levels = {b: dict(zip(codes, g, strict=True)) for b, g in simplified.items()}
        else:
            report.notes.append("province display levels: union of their communes' levels")
    return rows, levels


def _unit_rows(feats, plan, touched, level, current: Layer, source: str) -> list[dict]:
    """Rows for the units the file creates or changes (area and label from the official
    list when known)."""
    official = official_units()
    rows = []
    for j in touched:
        code = feats.codes[j]
        off = official.get(code)
        anchor = shapely.Point(off.lon, off.lat) if off and off.lon is not None else None
        g = feats.geoms[j]
        rows.append(
            {
                "code": code, "level": level, "name": plan.name[j], "kind": plan.kind[j],
                "parent_code": feats.parents[j] if level == "commune" else None,
                "area_km2": off.area_km2 if off else None,
                "geometry": g, "label_point": _label(g, anchor, current.label.get(code)),
                "source": source, "geometry_quality": "official",
            }
        )  # fmt: skip
    return rows


def _label(geom, anchor, previous):
    """The official centroid when inside; else the previous label when still inside; else a
    point on the surface (a centroid can fall outside a crescent-shaped commune)."""
    for p in (anchor, previous):
        if p is not None and not p.is_empty and geom.contains(p):
            return p
    return geom.point_on_surface()


def _levels(geoms: np.ndarray, clean: bool, report: ImportReport) -> dict[str, np.ndarray]:
    """Coverage-simplified display levels; an unclean coverage is cleaned first (a copy:
    the stored full geometry stays as delivered)."""
    source = geoms
    if not clean:
        edges = shapely.coverage_invalid_edges(source)
        bad = int((~shapely.is_empty(edges)).sum())
        report.warn(
            f"{bad} unit(s) have borders that do not match their neighbours (not a clean"
            " coverage); display levels are computed from a cleaned copy"
        )
        cleaned = shapely.coverage_clean(source)
        source = np.array([_as_multipolygon(g) for g in cleaned], dtype=object)
    return coverage_levels(source, DEFAULT_LEVELS)


def _report_overlaps(codes, geoms, staged: set, report, tolerance_m2) -> None:
    """Overlaps between neighbours beyond the tolerance (possible only when the layer is not
    a clean coverage), for pairs that involve a unit this import writes."""
    idx = np.array([i for i, c in enumerate(codes) if c in staged])
    left, right = shapely.STRtree(geoms).query(geoms[idx], predicate="overlaps")
    a, b = idx[left], right
    keep = (a != b) & ((a < b) | ~np.isin(np.asarray(codes, dtype=object)[b], list(staged)))
    a, b = a[keep], b[keep]
    if not len(a):
        return
    areas = _area_m2(shapely.intersection(geoms[a], geoms[b]))
    big = np.flatnonzero(areas > tolerance_m2)
    for k in big[:100]:
        report.warn(
            f"{codes[a[k]]} overlaps {codes[b[k]]} by {areas[k]:,.0f} m²"
            f" (tolerance {tolerance_m2:,.0f} m²)",
            code=codes[a[k]],
        )
    if len(big) > 100:
        report.warn(f"… and {len(big) - 100} more overlapping pairs")


def _report_outside(codes, geom: dict, parent: dict, prov_geom: dict, report, tol) -> None:
    """Communes that stick out of their province by more than the tolerance."""
    codes = [c for c in codes if parent.get(c) in prov_geom]
    if not codes:
        return
    inner = np.array([geom[c] for c in codes], dtype=object)
    outer = np.array([prov_geom[parent[c]] for c in codes], dtype=object)
    shapely.prepare(outer)
    out_idx = np.flatnonzero(~shapely.covered_by(inner, outer))
    if not len(out_idx):
        return
    areas = _area_m2(shapely.difference(inner[out_idx], outer[out_idx]))
    big = [(codes[k], a) for k, a in zip(out_idx, areas, strict=True) if a > tol]
    for code, area in big[:100]:
        report.warn(
            f"commune {code} lies {area:,.0f} m² outside its province {parent[code]}", code=code
        )
    if len(big) > 100:
        report.warn(f"… and {len(big) - 100} more communes outside their province")


def _provinces_from_communes(provinces, codes, geoms, parent, quality, levels, report):
    """Province rows to update (approximate provinces whose communes are all official
    become their union) and province display levels (union of commune levels)."""
    by_prov: dict[str, list[int]] = {}
    for i, c in enumerate(codes):
        by_prov.setdefault(parent.get(c), []).append(i)
    rows, prov_levels = [], {band: {} for band in levels}
    derived = []
    for p, idx in sorted(by_prov.items(), key=lambda kv: str(kv[0])):
        if p is None or p not in provinces.geom:
            continue
        union = None
        if provinces.quality[p] != "official" and all(quality[codes[i]] == "official" for i in idx):
            union = _union(geoms[idx])
            derived.append(p)
            rows.append(
                {
                    "code": p, "level": "province", "name": provinces.name[p],
                    "kind": provinces.kind[p], "parent_code": None, "area_km2": None,
                    "geometry": union, "source": f"union of communes: {report.file}",
                    "geometry_quality": "official",
                    "label_point": _label(union, None, provinces.label.get(p)),
                }
            )  # fmt: skip
        full = union if union is not None else provinces.geom[p]
        if union is not None or _matches(full, _union(geoms[idx])):
            for band in levels:
                prov_levels[band][p] = _union(
                    np.array([levels[band][codes[i]] for i in idx], dtype=object)
                )
    if derived:
        report.notes.append(
            f"{len(derived)} province(s) with approximate geometry replaced by the union of"
            f" their official communes: {', '.join(derived)}"
        )
    return rows, {b: v for b, v in prov_levels.items() if v}


def _union(geoms: np.ndarray):
    """Union of a clean coverage (fast path) or of anything (robust path)."""
    try:
        merged = shapely.coverage_union_all(geoms)
        if merged.is_valid:
            return shapely.orient_polygons(_as_multipolygon(merged), exterior_cw=False)
    except shapely.errors.GEOSException:
        pass
    return shapely.orient_polygons(_as_multipolygon(shapely.union_all(geoms)), exterior_cw=False)


def _matches(a, b, rel: float = 1e-3) -> bool:
    """Whether a province is (up to ``rel``) the union of its communes: same area and same
    boundary length. Cheap, and decisive in practice: an outline from another source
    differs in length by far more than 0.1 % (the detail of a border is in its length)."""
    if a is None or b is None or a.is_empty or b.is_empty:
        return False
    close = lambda x, y: abs(x - y) <= rel * max(abs(x), 1e-12)  # noqa: E731
    return close(a.area, b.area) and close(a.length, b.length)


def _province_levels_from_stored_communes(conn, prov_geom: dict, communes: Layer):
    """On a province import: if every province is the union of its stored communes, its
    levels are the union of the communes' stored levels (so borders match)."""
    by_prov: dict[str, list[str]] = {}
    for c in communes.codes:
        by_prov.setdefault(communes.parent[c], []).append(c)
    if not by_prov or set(prov_geom) - set(by_prov):
        return None
    for p, g in prov_geom.items():
        if not _matches(g, _union(np.array([communes.geom[c] for c in by_prov[p]], dtype=object))):
            return None
    rows = conn.execute(
        text(
            "select l.unit_code, l.band, ST_AsBinary(l.geom) wkb from unit_geometry_level l"
            " join admin_unit u on u.code = l.unit_code where u.level = 'commune'"
        )
    ).all()
    stored: dict[str, dict[str, object]] = {}
    for r in rows:
        stored.setdefault(r.band, {})[r.unit_code] = shapely.from_wkb(bytes(r.wkb))
    out: dict[str, dict] = {}
    for band, by_code in stored.items():
        out[band] = {
            p: _union(np.array([by_code[c] for c in cs if c in by_code], dtype=object))
            for p, cs in by_prov.items()
            if p in prov_geom
        }
    return out


def _stage(conn: Connection, units: list[dict], levels: dict[str, dict[str, object]]) -> None:
    """Temp tables dropped at commit: the units to upsert and all the recomputed levels."""
    conn.execute(
        text(
            "create temp table import_unit (like admin_unit including defaults) on commit drop;"
            " create temp table import_level (like unit_geometry_level) on commit drop"
        )
    )
    cols = ("code", "level", "name", "name_key", "kind", "parent_code", "area_km2", "geom",
            "label_point", "source", "geometry_quality", "valid_from")  # fmt: skip

    def rows():
        for r in units:
            yield (
                r["code"], r["level"], normalise_name(r["name"]), search_key(r["name"]),
                r["kind"], r["parent_code"], r["area_km2"],
                store.ewkb(r["geometry"]), store.ewkb(r["label_point"]), r["source"],
                r["geometry_quality"], REORGANISATION,
            )  # fmt: skip

    store.copy_rows(conn, "import_unit", cols, rows())
    store.copy_rows(
        conn,
        "import_level",
        ("unit_code", "band", "geom"),
        (
            (code, band, store.ewkb(g))
            for band, by_code in levels.items()
            for code, g in by_code.items()
        ),
    )


def _swap(conn: Connection, levels: dict[str, dict[str, object]]) -> None:
    """Upsert the staged units (keeping area and valid_from of existing ones) and replace the
    display levels of every unit that got new ones."""
    conn.execute(
        text(
            """
            insert into admin_unit (code, level, name, name_key, kind, parent_code, area_km2,
                                    geom, label_point, source, geometry_quality, valid_from,
                                    updated_at)
            select code, level, name, name_key, kind, parent_code, area_km2, geom, label_point,
                   source, geometry_quality, valid_from, now()
            from import_unit
            on conflict (code) do update set
              level = excluded.level, name = excluded.name, name_key = excluded.name_key,
              kind = excluded.kind, parent_code = excluded.parent_code, geom = excluded.geom,
              label_point = excluded.label_point, source = excluded.source,
              geometry_quality = excluded.geometry_quality, updated_at = now()
            """
        )
    )
    conn.execute(
        text(
            "delete from unit_geometry_level where unit_code in (select distinct unit_code"
            " from import_level)"
        )
    )
    conn.execute(
        text("insert into unit_geometry_level (unit_code, band, geom) select * from import_level")
    )
