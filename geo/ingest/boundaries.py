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
- ``plan``: upsert by code (never delete), identical units not written — the same file
  twice changes nothing —, the staged swap;
- ``topology``: display levels by coverage simplification, province levels as the union of
  their communes' levels, so borders match at every zoom.

Any unexpected error becomes one report error naming the file and the step (no
traceback, no 5xx); ``raise_unexpected`` (the CLI's ``--debug``) re-raises it instead.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Connection, Engine

from geo.errors import BadInput, IocmapError
from geo.ingest import coverage, plan, store
from geo.ingest.coverage import area_m2
from geo.ingest.repair import repair
from geo.ingest.report import (
    ImportReport,
    InjectedFailure,
    Progress,
    fail_point,
    finish,
    import_transaction,
)
from geo.ingest.reproject import to_wgs84
from geo.ingest.topology import DEFAULT_LEVELS, as_multipolygon, coverage_levels
from geo.ingest.unitfields import Features, unit_fields
from geo.ingest.vector import read_layer

log = logging.getLogger(__name__)
LEVELS = ("province", "commune")
DEFAULT_OVERLAP_M2 = 1000.0  # overlaps/outside-province areas below this are digitising noise
SHOWN = 20  # places listed per kind of problem in the report
Layer = plan.Layer


def read_features(
    path: str | Path, level: str, report: ImportReport, *, layer: str | None = None,
    code_field: str | None = None, name_field: str | None = None,
    parent_field: str | None = None, crs: str | None = None, encoding: str | None = None,
    allow_new_units: bool = False, engine: Engine | None = None,
) -> Features:  # fmt: skip
    """Read, decode, reproject, take the attributes and repair; per-feature problems go to
    the report (the file-level ones raise ``BadInput``)."""
    given = {"code": code_field, "name": name_field, "parent": parent_field}
    raw = read_layer(Path(path), level, report, layer=layer, given=given, encoding=encoding)
    geoms = to_wgs84(raw.frame, crs, report)
    feats, _ = unit_fields(raw, geoms, level, report, allow_new_units=allow_new_units)
    fixed, repaired, problems, notes = repair(feats.geoms, engine)
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
    gap_max_width_m: float = coverage.GAP_MAX_WIDTH_M,
    allow_new_units: bool = False,
    province_outline: bool = False,
    actor: str = "cli",
    display_name: str | None = None,
    fail_at: str | None = None,
    lock_timeout_s: float | None = None,
    progress: Progress | None = None,
    raise_unexpected: bool = False,
) -> ImportReport:
    """Import a province or commune boundary file (see the module docstring)."""
    if level not in LEVELS:
        raise BadInput(f"level must be province or commune, not '{level}'", field="level")
    path = Path(path)
    report = ImportReport(kind="boundaries", file=display_name or path.name, dry_run=dry_run)
    step = ["read"]

    def advance(name: str, done: int) -> None:
        step[0] = name
        if progress:
            progress(name, done, 6)

    options = dict(
        code_field=code_field, name_field=name_field, parent_field=parent_field, crs=crs,
        layer=layer, encoding=encoding, skip_invalid=skip_invalid,
        overlap_tolerance_m2=overlap_tolerance_m2, gap_max_width_m=gap_max_width_m,
        allow_new_units=allow_new_units, province_outline=province_outline, actor=actor,
        fail_at=fail_at, lock_timeout_s=lock_timeout_s,
    )  # fmt: skip
    try:
        _run(engine, path, level, report, advance, **options)
    except (IocmapError, InjectedFailure):
        raise
    except Exception as exc:
        if raise_unexpected:
            raise
        log.exception("boundary import of %s failed at %s", report.file, step[0])
        first = (str(exc).splitlines() or [""])[0][:300]
        report.error(f"unexpected error while {step[0]}: {type(exc).__name__}: {first}")
    if actor:
        report.notes.append(f"imported by {actor}")
    return finish(report)


def _run(engine, path, level, report: ImportReport, advance, *, skip_invalid, fail_at,
         lock_timeout_s, overlap_tolerance_m2, gap_max_width_m, province_outline, actor,
         **read) -> None:  # fmt: skip
    advance("read", 0)
    feats = read_features(path, level, report, engine=engine, **read)
    if report.errors and skip_invalid:
        report.rejected.extend(report.errors)
        report.errors = []
        bad = {p.row for p in report.rejected}
        feats = feats.subset([j for j, i in enumerate(feats.index) if i not in bad])
    if report.errors:
        return
    if not feats.codes:
        report.error("no usable feature in the file")
        return
    advance("clean coverage", 1)
    feats.geoms = _clean(feats, level, report, gap_max_width_m)
    if report.errors:
        return
    advance("validate", 2)
    with import_transaction(engine, "boundaries", report, lock_timeout_s) as conn:
        provinces = plan.load_layer(conn, "province")
        current = provinces if level == "province" else plan.load_layer(conn, "commune")
        if level == "commune":
            feats = plan.check_parents(feats, current, provinces, report, skip_invalid)
            if report.errors:
                return
        _against_stored(feats, current, report, overlap_tolerance_m2)
        if report.errors:
            return
        if level == "commune":
            units = plan.unit_rows(feats, level, current, report.file)
        else:
            units = _province_units(conn, feats, current, report, province_outline)
        _count(units, current, feats, report, level)
        touched = [u for u in units if plan.differs(u, current) is not False]
        advance("simplify", 3)
        if level == "commune":
            extra, levels = _commune_levels(conn, touched, current, provinces, report)
            touched += extra
        else:
            levels = _province_levels(conn, touched, current, report)
        if not touched:
            return
        advance("stage", 4)
        plan.stage(conn, touched, levels, actor)
        for code in plan.invalid_staged(conn):
            report.error("PostGIS finds the cleaned geometry invalid or empty", code=code)
        if report.errors:
            return
        fail_point("staged", fail_at)
        advance("swap", 5)
        plan.swap(conn)
        fail_point("swapped", fail_at)
        report.version = store.bump_version(conn, None, f"boundaries ({level}): {report.file}")
        advance("done", 6)


def _clean(feats: Features, level: str, report: ImportReport, gap_max_width_m: float):
    """The file's clean coverage; what moved and what is left goes to the report."""
    cleaned, stats = coverage.clean(feats.codes, feats.geoms, gap_max_width_m=gap_max_width_m)
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
    for area, lon, lat, near in stats.gaps_left[:SHOWN]:
        report.warn(
            f"gap of {area:,.0f} m² at lon {lon:.5f}, lat {lat:.5f} between"
            f" {', '.join(near[:6])} kept (wider than {gap_max_width_m:g} m)"
        )
    if len(stats.gaps_left) > SHOWN:
        report.warn(f"… and {len(stats.gaps_left) - SHOWN} more gaps kept")
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
    if not len(left):
        return
    areas = area_m2(shapely.intersection(feats.geoms[left], geoms[right]))
    approx = 0
    for j, k, a in zip(left.tolist(), right.tolist(), areas.tolist(), strict=True):
        code, other = feats.codes[j], others[k]
        if a <= tolerance_m2:
            continue
        new = code not in current.name
        if new or current.quality[other] == "official":
            report.error(
                f"{'new unit ' if new else ''}{code} overlaps the stored"
                f" {current.quality[other]} unit {other} by {a:,.0f} m² (tolerance"
                f" {tolerance_m2:,.0f} m²); import them together in one file or fix the file",
                row=feats.index[j], code=code,
            )  # fmt: skip
        else:
            approx += 1
    if approx:
        report.notes.append(
            f"{approx} overlap(s) with units whose geometry is still approximate (expected)"
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


def _group(touched: list[plan.Unit], current: Layer) -> tuple[list[str], np.ndarray]:
    """The coverage whose display levels are recomputed: the units written now plus the
    stored official units of the level (approximate ones keep their levels)."""
    geom = {c: current.geom[c] for c in current.codes if current.quality[c] == "official"}
    geom.update({u.code: u.geometry for u in touched})
    codes = sorted(geom)
    return codes, np.array([geom[c] for c in codes], dtype=object)


def _levels(codes: list[str], geoms: np.ndarray) -> dict[str, dict[str, shapely.Geometry]]:
    """Coverage-simplified levels; a group that is not a clean coverage (official units of
    separate imports that disagree) is simplified from a cleaned copy."""
    if len(geoms) and not shapely.coverage_is_valid(geoms):
        geoms, _ = coverage.snap(
            np.array([as_multipolygon(g) for g in shapely.coverage_clean(geoms)], dtype=object)
        )
    simplified = coverage_levels(geoms, DEFAULT_LEVELS)
    return {band: dict(zip(codes, g, strict=True)) for band, g in simplified.items()}


def _commune_levels(conn: Connection, touched, current: Layer, provinces: Layer, report):
    """Commune levels, plus the province rows that become the union of their communes (all
    official, outline not kept) and the province levels dissolved from the communes'."""
    if not touched:
        return [], {}
    codes, geoms = _group(touched, current)
    levels = _levels(codes, geoms)
    geom = dict(current.geom) | {u.code: u.geometry for u in touched}
    parent = dict(current.parent) | {u.code: u.parent_code for u in touched}
    official = {c for c in current.codes if current.quality[c] == "official"}
    official |= {u.code for u in touched}
    stored = plan.stored_levels(conn, "commune")
    by_prov: dict[str, list[str]] = {}
    for c in geom:
        by_prov.setdefault(parent.get(c) or "", []).append(c)
    affected = {u.parent_code for u in touched}
    rows: list[plan.Unit] = []
    for p in sorted(affected):
        if p not in provinces.name or not by_prov.get(p):
            continue
        members = sorted(by_prov[p])
        if not all(c in official for c in members) or provinces.outline_kept.get(p):
            _report_outside([c for c in members if c in {u.code for u in touched}],
                            geom, provinces.geom.get(p), p, report)  # fmt: skip
            continue
        merged = coverage.union(np.array([geom[c] for c in members], dtype=object))
        rows.append(_province_from_communes(p, merged, provinces, members, touched, report))
        for band in levels:
            parts = [levels[band].get(c, stored.get(band, {}).get(c)) for c in members]
            levels[band][p] = coverage.union(np.array([g for g in parts if g is not None]))
    changed = [r for r in rows if plan.differs(r, provinces) is not False]
    if changed:
        report.notes.append(
            f"{len(changed)} province(s) are now the union of their official communes:"
            f" {', '.join(r.code for r in changed)}"
        )
    keep = set(codes) | {r.code for r in rows}
    levels = {b: {c: g for c, g in by.items() if c in keep} for b, by in levels.items()}
    return changed, levels


def _province_from_communes(p, merged, provinces: Layer, members, touched, report) -> plan.Unit:
    """A province row whose geometry is the union of its communes; its figures stay the
    province's own (file or official), or the sum of its communes' populations."""
    pop, pop_src = provinces.population.get(p), provinces.sources.get(p, (None, None))[1]
    area_src = provinces.sources.get(p, (None, None))[0]
    if pop is None:
        by_code = {u.code: u.population for u in touched}
        pops = [by_code.get(c) for c in members]
        if all(x is not None for x in pops):
            pop, pop_src = int(sum(pops)), "sum of communes"
    source = provinces.source.get(p) or ""
    if provinces.quality.get(p) != "official":
        source = f"union of communes: {report.file}"
    return plan.Unit(
        p, "province", provinces.name[p], provinces.kind[p], None, merged,
        plan.label_for(merged, None, provinces.label.get(p)), source, provinces.area.get(p),
        area_src, pop, pop_src, provinces.attributes.get(p),
    )  # fmt: skip


def _report_outside(codes, geom: dict, outline, p: str, report, tol: float = DEFAULT_OVERLAP_M2):
    """Communes that stick out of their province (when the province is not their union)."""
    if outline is None or not codes:
        return
    inner = np.array([geom[c] for c in codes], dtype=object)
    shapely.prepare(outline)
    out_idx = np.flatnonzero(~shapely.covered_by(inner, outline))
    if not len(out_idx):
        return
    areas = area_m2(shapely.difference(inner[out_idx], outline))
    big = [(codes[k], a) for k, a in zip(out_idx, areas, strict=True) if a > tol]
    for code, area in big[:SHOWN]:
        report.warn(f"commune {code} lies {area:,.0f} m² outside its province {p}", code=code)


def _province_units(conn, feats: Features, current: Layer, report, keep_outline: bool):
    """Province rows: the union of their communes when all are official (the file's outline
    compared and the difference reported), else the file's own outline."""
    communes = plan.load_layer(conn, "commune")
    members: dict[str, list[str]] = {}
    for c in communes.codes:
        members.setdefault(communes.parent[c] or "", []).append(c)
    units = plan.unit_rows(feats, "province", current, report.file, outline_kept=keep_outline)
    diffs: list[tuple[float, str]] = []
    for u, outline in zip(units, feats.geoms, strict=True):
        cs = members.get(u.code, [])
        if not cs or not all(communes.quality[c] == "official" for c in cs):
            continue
        merged = coverage.union(np.array([communes.geom[c] for c in cs], dtype=object))
        diffs.append((coverage.outline_difference(outline, merged), u.code))
        if not keep_outline:
            u.geometry = merged
            u.label_point = plan.label_for(merged, None, u.label_point)
    if diffs:
        shares = sorted(d for d, _ in diffs)
        worst = max(diffs)
        report.notes.append(
            f"province outline vs the union of its communes ({len(diffs)} province(s)):"
            f" median {100 * shares[len(shares) // 2]:.2f} %, max {100 * worst[0]:.2f} %"
            f" ({worst[1]}); "
            + ("the file's outlines are kept (--province-outline)" if keep_outline
               else "provinces stored as the union of their communes")
        )  # fmt: skip
    return units


def _province_levels(conn: Connection, touched, current: Layer, report: ImportReport):
    """Province levels: the union of their communes' levels where the province is that
    union, else coverage-simplified from the provinces' own outlines."""
    if not touched:
        return {}
    communes = plan.load_layer(conn, "commune")
    stored = plan.stored_levels(conn, "commune")
    members: dict[str, list[str]] = {}
    for c in communes.codes:
        members.setdefault(communes.parent[c] or "", []).append(c)
    own = [u for u in touched if u.outline_kept or not _is_union(u, members, communes)]
    if len(own) < len(touched):
        report.notes.append("province display levels: union of their communes' levels")
    levels: dict[str, dict] = {band: {} for band in DEFAULT_LEVELS}
    if own:
        codes, geoms = _group(own, current)
        levels = _levels(codes, geoms)
        mine = {u.code for u in own}
        levels = {b: {c: g for c, g in by.items() if c in mine} for b, by in levels.items()}
    for u in touched:
        if u in own:
            continue
        for band in DEFAULT_LEVELS:
            parts = [stored.get(band, {}).get(c) for c in members[u.code]]
            parts = [g for g in parts if g is not None]
            if parts:
                levels.setdefault(band, {})[u.code] = coverage.union(np.array(parts, dtype=object))
    return levels


def _is_union(u: plan.Unit, members: dict, communes: Layer) -> bool:
    """Whether the province is the union of its stored communes (all official, or equal)."""
    cs = members.get(u.code, [])
    if not cs:
        return False
    if all(communes.quality[c] == "official" for c in cs):
        return True
    merged = coverage.union(np.array([communes.geom[c] for c in cs], dtype=object))
    return coverage.matches(u.geometry, merged)
