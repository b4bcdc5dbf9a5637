"""Build and load the demo data set: approximate geometry + figures that match the reports.

Why cached: the geometry takes tens of seconds to generate but is deterministic, so the
first run writes ``data/boundaries/demo-<key>.gpkg`` (git-ignored) and later runs
(``make demo``, ``make test``) read it back. The key changes with the generator and the
``vietnamadminunits`` version, so a stale cache is never used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, text

from geo.demo import central
from geo.demo import figures as demo_figures
from geo.ingest import coverage, store
from geo.ingest.difficulty_write import refresh as refresh_difficulties
from geo.ingest.topology import coverage_levels, dissolved_levels
from geo.levels import DEFAULT_LEVELS
from geo.official import official_names

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / "data" / "boundaries"
SOURCE = "iocmap demo: generated from vietnamadminunits (MIT) centroids and areas"
VALID_FROM = dt.date(2025, 7, 1)


def _cache_path() -> Path:
    """Cache file name keyed by the generator's source and the package version."""
    geo_dir = Path(__file__).resolve().parents[1]
    digest = hashlib.sha1()
    for name in ("demo/geometry.py", "ingest/topology.py", "demo/loader.py"):
        digest.update((geo_dir / name).read_bytes())
    digest.update(metadata.version("vietnamadminunits").encode())
    return CACHE_DIR / f"demo-{digest.hexdigest()[:12]}.gpkg"


def _build_layers() -> dict[str, gpd.GeoDataFrame]:
    from geo.demo.geometry import build_demo_geometries, province_geometries

    communes = build_demo_geometries()
    provinces = province_geometries(communes)
    layers = {"communes": communes, "provinces": provinces}
    commune_levels = coverage_levels(communes.geometry.values, DEFAULT_LEVELS)
    province_levels = dissolved_levels(commune_levels, communes.province_code.tolist())
    for band, geoms in commune_levels.items():
        layers[f"communes_{band}"] = gpd.GeoDataFrame(
            {"code": communes.code.values}, geometry=list(geoms), crs=4326
        )
        by_code = province_levels[band]
        layers[f"provinces_{band}"] = gpd.GeoDataFrame(
            {"code": list(by_code)}, geometry=list(by_code.values()), crs=4326
        )
    return layers


def demo_layers(use_cache: bool = True) -> dict[str, gpd.GeoDataFrame]:
    """All demo geometry layers, from the cache when it is current."""
    import pyogrio

    path = _cache_path()
    if use_cache and path.exists():
        return {name: gpd.read_file(path, layer=name) for name, _ in pyogrio.list_layers(path)}
    layers = _build_layers()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    for name, gdf in layers.items():
        gdf.to_file(tmp, layer=name, driver="GPKG")
    tmp.replace(path)
    for old in CACHE_DIR.glob("demo-*.gpkg"):  # earlier generator versions
        if old != path:
            old.unlink(missing_ok=True)
    return layers


def demo_units(layers: dict[str, gpd.GeoDataFrame]) -> tuple[gpd.GeoDataFrame, dict]:
    """Units table rows (provinces + communes) and their display levels by band."""
    names = official_names()
    communes = layers["communes"].merge(
        names[["code", "name", "kind", "area_km2", "lon", "lat"]], on="code", how="left"
    )
    communes = communes.assign(
        level="commune",
        parent_code=communes.province_code,
        label_point=gpd.points_from_xy(communes.lon, communes.lat),
    )
    prov_names = names.groupby("province_code").agg(
        name=("province_name", "first"),
        full=("province_full", "first"),
        area_km2=("area_km2", "sum"),
    )
    provinces = layers["provinces"].merge(prov_names, left_on="province_code", right_index=True)
    provinces = provinces.assign(
        code=provinces.province_code,
        level="province",
        parent_code=None,
        kind=provinces.full.str.startswith("Thành phố").map({True: "Thành phố", False: "Tỉnh"}),
    )
    provinces = provinces.assign(label_point=store.label_points(provinces.geometry))
    cols = ["code", "level", "name", "kind", "parent_code", "area_km2", "label_point", "geometry"]
    units = gpd.GeoDataFrame(
        pd.concat([provinces[cols], communes[cols]], ignore_index=True), crs=4326
    ).assign(
        population=None,
        source=SOURCE,
        geometry_quality="approximate",
        valid_from=VALID_FROM,
    )
    levels: dict[str, dict] = {}
    for name, gdf in layers.items():
        if "_" not in name:
            continue
        band = name.split("_", 1)[1]
        code_col = "code" if "code" in gdf else gdf.columns[0]
        snapped, _ = coverage.snap(gdf.geometry.values)
        levels.setdefault(band, {}).update(zip(gdf[code_col], snapped, strict=True))
    # on the stored grid like imported geometry (served at 6 decimals without rounding)
    units = units.set_geometry(list(coverage.snap(units.geometry.values)[0]), crs=4326)
    return units, levels


def load_demo(engine: Engine, use_cache: bool = True) -> dict[str, int]:
    """Replace everything in the database with the demo data, in one transaction."""
    layers = demo_layers(use_cache)
    units, levels = demo_units(layers)
    figures = demo_figures.generate(
        units[units.level == "commune"].rename(columns={"parent_code": "province_code"})
    )
    provinces = sorted(units.code[units.level == "province"])
    tasks = pd.concat([figures.tasks, central.agency_tasks()], ignore_index=True)
    with engine.begin() as conn:
        store.clear_all(conn)
        n_units = store.insert_units(conn, units, levels)
        conn.execute(
            text("update admin_unit set area_source = 'official' where area_km2 is not null")
        )
        central.load_central(conn, provinces)
        n_tasks = store.insert_tasks(conn, tasks, actor="demo", source="iocmap demo")
        refresh_difficulties(conn, None, actor="demo", source="iocmap demo")
        n_values = store.insert_indicators(
            conn, figures.indicators, central.pin_dak_lak(figures.indicator_values)
        )
        central.load_central_after(conn, provinces)
        version = store.bump_version(conn, figures.reporting_date, SOURCE)
    analyze(engine)
    return {"units": n_units, "tasks": n_tasks, "indicator_values": n_values, "version": version}


def analyze(engine: Engine) -> None:
    """Planner statistics for the freshly loaded tables, now. Why: until autovacuum gets
    to them the planner guesses their sizes, and the tile and layer queries took minutes
    instead of 0.3 s; a database copied from this one (the tests' template) never gets
    them at all, since the copy starts with no changes counted."""
    with engine.begin() as conn:
        conn.execute(text("analyze"))


BOUNDARY_SUFFIXES = (".geojson", ".json", ".shp", ".zip", ".gpkg", ".fgb")
_PROVINCE_WORDS = ("tinh", "province", "provinces")


# code fields that name one level only (compared as header keys); a generic code field
# (``ma_dvhc``, ``code``) is read instead: 5-digit codes are communes, 2-digit provinces
_COMMUNE_CODE_FIELDS = ("maxa", "maphuongxa", "maxaphuong", "wardcode", "communecode")
_PROVINCE_CODE_FIELDS = ("matinh", "matp", "matinhtp", "provincecode")
_GENERIC_CODE_FIELDS = ("madvhc", "madv", "madonvi", "unitcode", "code", "ma", "id")


def file_level(path: Path) -> str:
    """Which level a boundary file holds, from its fields (a commune code field, or the
    length of its codes); the file's name decides only when its fields say nothing."""
    import pyogrio

    from geo.ingest.sheets import header_key

    try:
        fields = [str(f) for f in pyogrio.read_info(path)["fields"]]
    except Exception:  # noqa: BLE001 - unreadable here: the import will say why
        fields = []
    keys = {header_key(f).replace(" ", ""): f for f in fields}
    if any(k in keys for k in _COMMUNE_CODE_FIELDS):
        return "commune"
    if any(k in keys for k in _PROVINCE_CODE_FIELDS):
        return "province"
    generic = next((keys[k] for k in _GENERIC_CODE_FIELDS if k in keys), None)
    if generic is not None:
        frame = pyogrio.read_dataframe(
            path, columns=[generic], read_geometry=False, max_features=50
        )
        lengths = {len(str(v).strip().split(".")[0]) for v in frame[generic].dropna()}
        if lengths and max(lengths) >= 4:
            return "commune"
        if lengths:
            return "province"
    words = header_key(path.stem)
    return "province" if any(w in words for w in _PROVINCE_WORDS) else "commune"


def boundary_files(folder: Path) -> dict[str, list[Path]]:
    """The boundary files of a folder by level, read from each file's fields
    (``file_level``)."""
    found: dict[str, list[Path]] = {"commune": [], "province": []}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in BOUNDARY_SUFFIXES or not path.is_file():
            continue
        found[file_level(path)].append(path)
    return found


def load_demo_on_boundaries(
    engine: Engine, folder: Path, use_cache: bool = True, echo=print
) -> dict[str, int]:
    """The demo figures on real shapes: the demo data set, then the folder's commune files
    and province files imported over it (figures hang on unit codes, so every task and
    indicator stays where it was; units the files lack keep their approximate shape).

    Raises ``BadInput`` naming the file when an import is rejected (the demo data stay)."""
    from geo.errors import BadInput
    from geo.ingest.boundaries import BoundaryOptions, import_boundaries

    files = boundary_files(folder)
    if not files["commune"] and not files["province"]:
        raise BadInput(f"{folder}: no boundary file (GeoJSON, Shapefile, GPKG, FlatGeobuf)")
    counts = load_demo(engine, use_cache)
    for level in ("commune", "province"):  # communes first: provinces become their union
        for path in files[level]:
            report = import_boundaries(engine, path, level, BoundaryOptions(actor="demo"))
            echo(f"{path.name} ({level}s): {report.summary()}")
            if not report.ok:
                first = report.errors[0] if report.errors else None
                reason = f"{first.where()}: {first.reason}" if first else report.summary()
                raise BadInput(f"{path.name}: import rejected — {reason}", file=path.name)
            counts[f"{level}s_imported"] = counts.get(f"{level}s_imported", 0) + (
                report.created + report.updated
            )
            if report.version is not None:
                counts["version"] = report.version
    return counts
