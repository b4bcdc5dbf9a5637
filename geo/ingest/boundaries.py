"""Import official boundary files — the orchestration: read → reproject → attributes →
repair → clean coverage → plan → levels → stage → swap, in one transaction.

Why this order and these rules (each step lives in its own module):

- ``vector``: only GeoJSON, Shapefile (plain/zipped), GeoPackage and FlatGeobuf reach GDAL,
  sniffed by content; archives checked; features and vertices bounded;
- ``reproject``: EPSG:4326, VN-2000 with EPSG:6960; files outside Vietnam reported;
- ``unitfields``: codes, names, parents, population/area and the file's other columns;
- ``repair``: a fallback chain per feature — one bad ring rejects that feature, never the
  import;
- ``coverage``: overlaps resolved, slivers closed, snapped to the stored grid, so every
  geometry served is valid at every precision and a province is the union of its communes
  without sliver holes (unless ``province_outline`` keeps the province file's outline);
- ``borders``: a commune file fitted to the stored units it borders (official neighbours
  keep their land, approximate ones give way, border gaps closed to the file's units;
  overlaps beyond the tolerance are warnings, errors with ``strict_borders``);
- ``plan``: upsert by code (never delete), identical units not written — the same file
  twice changes nothing —, the staged swap;
- ``topology``: display levels by coverage simplification, province levels as the union of
  their communes' levels, so borders match at every zoom.

Any unexpected error becomes one report error naming the file and the step (no
traceback, no 5xx); ``raise_unexpected`` (the CLI's ``--debug``) re-raises it instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Engine

from geo.errors import BadInput, IocmapError
from geo.ingest import borders, coverage, parallel, plan, store
from geo.ingest import provinces as hierarchy
from geo.ingest.coverage import area_m2
from geo.ingest.repair import repair
from geo.ingest.report import (
    ImportHook,
    ImportReport,
    InjectedFailure,
    Progress,
    fail_point,
    finish,
    import_transaction,
)
from geo.ingest.reproject import to_wgs84
from geo.ingest.unitfields import Features, unit_fields
from geo.ingest.vector import read_layer
from geo.safe_text import file_label

log = logging.getLogger(__name__)
LEVELS = ("province", "commune")
DEFAULT_OVERLAP_M2 = 1000.0  # overlaps/outside-province areas below this are digitising noise
SHOWN = 20  # places listed per kind of problem in the report
PARALLEL_MIN_BYTES = 2_000_000  # smaller files are done before a helper process is ready
Layer = plan.Layer


@dataclass(frozen=True)
class BoundaryOptions:
    """How to run one boundary import: built once by the CLI's flags or the API's query
    (the same fields either way, like ``sheet_import.ImportOptions``) and passed whole, so
    no option is re-spelled on its way down."""

    code_field: str | None = None
    name_field: str | None = None
    parent_field: str | None = None
    crs: str | None = None
    layer: str | None = None
    encoding: str | None = None
    dry_run: bool = False
    skip_invalid: bool = False
    overlap_tolerance_m2: float = DEFAULT_OVERLAP_M2
    gap_max_width_m: float = coverage.GAP_MAX_WIDTH_M
    allow_new_units: bool = False
    province_outline: bool = False  # keep the province file's outline (not the union)
    strict_borders: bool = False  # refuse overlaps with stored neighbours beyond the tolerance
    actor: str = "cli"
    display_name: str | None = None  # the name the user knows (an upload's file name)
    fail_at: ImportHook | str | None = None  # tests: fail or pause there (``fail_point``)
    lock_timeout_s: float | None = None
    progress: Progress | None = None
    raise_unexpected: bool = False  # the CLI's --debug: re-raise instead of reporting
    processes: int | None = None  # helper processes for big files; None = per core
    file_sha256: str | None = None  # the kept original (``geo.ingest.files``)


def read_features(
    path: str | Path,
    level: str,
    report: ImportReport,
    opts: BoundaryOptions = BoundaryOptions(),
    engine: Engine | None = None,
    workers: parallel.Workers = parallel.INLINE,
) -> Features:
    """Read, decode, reproject, take the attributes and repair; per-feature problems go to
    the report (the file-level ones raise ``BadInput``)."""
    given = {"code": opts.code_field, "name": opts.name_field, "parent": opts.parent_field}
    raw = read_layer(
        Path(path), level, report, layer=opts.layer, given=given, encoding=opts.encoding
    )
    workers.start()  # a readable layer: helpers get ready while it is reprojected
    geoms = to_wgs84(raw.frame, opts.crs, report)
    feats, _ = unit_fields(raw, geoms, level, report, allow_new_units=opts.allow_new_units)
    fixed, repaired, problems, notes = repair(feats.geoms, engine, workers)
    report.repaired = repaired
    report.notes.extend(notes)
    ok = []
    for j, problem in enumerate(problems):
        if problem:
            report.reject(problem, row=feats.index[j], code=feats.codes[j])
        else:
            ok.append(j)
    feats.geoms = fixed
    return feats.subset(ok)


def import_boundaries(
    engine: Engine,
    path: str | Path,
    level: str,
    opts: BoundaryOptions = BoundaryOptions(),
) -> ImportReport:
    """Import a province or commune boundary file (see the module docstring)."""
    if level not in LEVELS:
        raise BadInput(f"level must be province or commune, not '{level}'", field="level")
    path = Path(path)
    report = ImportReport(
        kind="boundaries", file=file_label(opts.display_name or path.name), dry_run=opts.dry_run
    )
    report.file_sha256 = opts.file_sha256
    step = ["read"]

    def advance(name: str, done: int) -> None:
        step[0] = name
        if opts.progress:
            opts.progress(name, done, 6)

    try:
        _run(engine, path, level, report, advance, opts)
    except (IocmapError, InjectedFailure):
        raise
    except Exception as exc:
        if opts.raise_unexpected:
            raise
        log.exception("boundary import of %s failed at %s", report.file, step[0])
        first = (str(exc).splitlines() or [""])[0][:300]
        report.error(f"unexpected error while {step[0]}: {type(exc).__name__}: {first}")
    if opts.actor:
        report.notes.append(f"actor: {opts.actor}")
    return finish(report)


def _run(engine, path, level, report: ImportReport, advance, opts: BoundaryOptions) -> None:
    advance("read", 0)
    big = Path(path).stat().st_size >= PARALLEL_MIN_BYTES
    with parallel.Workers(opts.processes) if big else parallel.INLINE as workers:
        feats = read_features(path, level, report, opts, engine=engine, workers=workers)
        if report.errors and opts.skip_invalid:
            report.rejected.extend(report.errors)
            report.errors = []
            bad = {p.row for p in report.rejected}
            feats = feats.subset([j for j, i in enumerate(feats.index) if i not in bad])
        if report.errors:
            return
        if not feats.codes:
            report.error("no usable feature in the file")
            return
        _build(engine, feats, level, report, advance, workers, opts)


def _build(engine, feats: Features, level, report: ImportReport, advance, workers,
           opts: BoundaryOptions) -> None:  # fmt: skip
    """Clean, validate against the stored units, simplify, stage and swap."""
    advance("clean coverage", 1)
    feats.geoms = _clean(feats, level, report, opts.gap_max_width_m, workers)
    if report.errors:
        return
    advance("validate", 2)
    with import_transaction(
        engine, "boundaries", report, opts.lock_timeout_s, actor=opts.actor
    ) as conn:
        provinces = plan.load_layer(conn, "province")
        current = provinces if level == "province" else plan.load_layer(conn, "commune")
        fitted = borders.Fit()
        if level == "commune":
            feats = plan.check_parents(feats, current, provinces, report, opts.skip_invalid)
            if report.errors:
                return
            fitted = borders.fit(feats, current, opts.overlap_tolerance_m2, opts.gap_max_width_m)
            borders.report_fit(
                fitted, report, opts.overlap_tolerance_m2, opts.gap_max_width_m,
                opts.strict_borders,
            )  # fmt: skip
            if report.errors:
                return
        _against_stored(feats, current, report, opts.overlap_tolerance_m2)
        if report.errors:
            return
        if level == "commune":
            units = plan.unit_rows(feats, level, current, report.file)
        else:
            units = hierarchy.province_units(conn, feats, current, report, opts.province_outline)
        _count(units, current, feats, report, level)
        touched = [u for u in units if plan.differs(u, current) is not False]
        if level == "commune":
            touched += fitted.neighbours  # approximate neighbours that gave way
        advance("simplify", 3)
        if level == "commune":
            extra, levels = hierarchy.commune_levels(
                conn, touched, current, provinces, report, workers
            )
            touched += extra
        else:
            levels = hierarchy.province_levels(conn, touched, current, report)
        if not touched:
            return
        advance("stage", 4)
        plan.stage(conn, touched, levels, opts.actor)
        for code in plan.invalid_staged(conn):
            report.error("PostGIS finds the cleaned geometry invalid or empty", code=code)
        if report.errors:
            return
        fail_point("staged", opts.fail_at)
        advance("swap", 5)
        plan.swap(conn)
        fail_point("swapped", opts.fail_at)
        report.version = store.bump_version(conn, None, f"boundaries ({level}): {report.file}")
        advance("done", 6)


def _clean(feats: Features, level: str, report: ImportReport, gap_max_width_m: float, workers):
    """The file's clean coverage; what moved and what is left goes to the report."""
    cleaned, stats = coverage.clean(
        feats.codes, feats.geoms, gap_max_width_m=gap_max_width_m, workers=workers
    )
    if stats.overlaps_m2 >= 1:
        worst = ", ".join(f"{c} {m:+,.0f} m²" for c, m in stats.moved[:5])
        report.notes.append(
            f"overlaps between neighbours resolved: {stats.overlaps_m2:,.0f} m² given to one"
            f" side (largest changes: {worst})"
        )
    if stats.gaps_closed:
        report.notes.append(
            f"{stats.gaps_closed} gap(s) narrower than {gap_max_width_m:g} m closed"
            f" ({stats.gaps_closed_m2:,.0f} m², each to the neighbour with the longest"
            " shared edge)"
        )
    # A province file's own gaps matter only where its outline is kept (else the province
    # becomes the union of its communes): there they are notes, for communes warnings.
    say = report.warn if level == "commune" else report.notes.append
    for area, lon, lat, near in stats.gaps_left[:SHOWN]:
        text_ = (
            f"gap of {area:,.0f} m² at lon {lon:.5f}, lat {lat:.5f} between"
            f" {', '.join(near[:6])} kept (wider than {gap_max_width_m:g} m)"
        )
        say(text_)
    if len(stats.gaps_left) > SHOWN:
        say(f"… and {len(stats.gaps_left) - SHOWN} more gaps kept")
    if stats.collapsed_parts:
        report.notes.append(f"{stats.collapsed_parts} part(s) collapsed on the 6-decimal grid")
    for code in stats.emptied:
        j = feats.codes.index(code)
        report.error(
            f"{level} {code}: nothing is left of it once overlaps with its neighbours are"
            " resolved (a duplicate of another feature?)",
            row=feats.index[j], code=code,
        )  # fmt: skip
    return cleaned


def _against_stored(feats: Features, current: Layer, report, tolerance_m2: float) -> None:
    """Overlaps with stored units the file does not carry: a new code overlapping one, or
    any unit overlapping an official one beyond the tolerance, is an error (two imports
    would then disagree about who owns the ground); approximate units are just noted."""
    infile = set(feats.codes)
    others = [c for c in current.codes if c not in infile]
    if not others or not feats.codes:
        return
    geoms = np.array([current.geom[c] for c in others], dtype=object)
    left, right = shapely.STRtree(geoms).query(feats.geoms, predicate="intersects")
    new = np.array([feats.codes[j] not in current.name for j in left], dtype=bool)
    official = np.array([current.quality[others[k]] == "official" for k in right], dtype=bool)
    approx = len({feats.codes[j] for j in left[~(new | official)]})
    keep = new | official
    left, right, is_new = left[keep], right[keep], new[keep]  # only these need the area
    areas: Any = area_m2(shapely.intersection(feats.geoms[left], geoms[right])) if len(left) else []
    for j, k, a, fresh in zip(
        left.tolist(), right.tolist(), list(areas), is_new.tolist(), strict=True
    ):
        code, other = feats.codes[j], others[k]
        if a > tolerance_m2:
            report.error(
                f"{'new unit ' if fresh else ''}{code} overlaps the stored"
                f" {current.quality[other]} unit {other} by {a:,.0f} m² (tolerance"
                f" {tolerance_m2:,.0f} m²); import them together in one file or fix the file",
                row=feats.index[j], code=code,
            )  # fmt: skip
    if approx:
        report.notes.append(
            f"{approx} unit(s) touch or overlap units whose geometry is still approximate"
            " (expected until those are imported too)"
        )


def _count(units, current: Layer, feats: Features, report: ImportReport, level: str) -> None:
    """created / updated / unchanged / missing."""
    state = [plan.differs(u, current) for u in units]
    report.created = sum(s is None for s in state)
    report.updated = sum(s is True for s in state)
    report.unchanged = sum(s is False for s in state)
    infile = set(feats.codes)
    report.missing = [c for c in current.codes if c not in infile]
    if report.missing:
        held = sum(current.tasks[c] for c in report.missing)
        report.warn(
            f"{len(report.missing)} {level}(s) in the database are not in the file; kept"
            f" ({held} task(s) attached): {', '.join(report.missing[:20])}"
            + (" …" if len(report.missing) > 20 else "")
        )
