"""The hierarchy's geometry: display levels of a layer, and provinces as the union of their
communes.

Why its own module: this is the rule that makes "borders match at every zoom" true. A
province whose communes are all official is their union (no sliver holes: the communes
are a clean coverage), and its display levels are the union of its communes' levels;
only when the operator keeps the province file's outline (``--province-outline``), or the
communes are still approximate, does a province get levels of its own, simplified as a
coverage of provinces.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from sqlalchemy import Connection

from geo.ingest import coverage, plan
from geo.ingest.coverage import area_m2
from geo.ingest.parallel import INLINE, Workers
from geo.ingest.report import ImportReport
from geo.ingest.topology import as_multipolygon, start_levels
from geo.ingest.unitfields import Features
from geo.levels import DEFAULT_LEVELS

Layer = plan.Layer
OUTSIDE_M2 = 1000.0  # communes sticking out of their province by less are digitising noise
SHOWN = 20


def _group(touched: list[plan.Unit], current: Layer) -> tuple[list[str], np.ndarray]:
    """The coverage whose display levels are recomputed: the units written now plus the
    stored official units of the level (approximate ones keep their levels)."""
    geom = {c: current.geom[c] for c in current.codes if current.quality[c] == "official"}
    geom.update({u.code: u.geometry for u in touched})
    codes = sorted(geom)
    return codes, np.array([geom[c] for c in codes], dtype=object)


def _levels(
    codes: list[str], geoms: np.ndarray, clean: bool = False, workers: Workers = INLINE
) -> Callable[[], dict[str, dict[str, shapely.Geometry]]]:
    """Coverage-simplified levels, begun (call the result to get them: helpers work on the
    coarser levels meanwhile). A group that is not a clean coverage (official units of
    separate imports that disagree) is simplified from a cleaned copy. ``clean``: the group
    is one file's cleaned layer (no need to check it again)."""
    if len(geoms) and not clean and not shapely.coverage_is_valid(geoms):
        geoms, _ = coverage.snap(
            np.array([as_multipolygon(g) for g in shapely.coverage_clean(geoms)], dtype=object)
        )
    pending = start_levels(geoms, DEFAULT_LEVELS, checked=True, workers=workers)

    def collect() -> dict[str, dict[str, shapely.Geometry]]:
        simplified = pending.result()
        return {band: dict(zip(codes, g, strict=True)) for band, g in simplified.items()}

    return collect


def commune_levels(
    conn: Connection, touched, current: Layer, provinces: Layer, report,
    workers: Workers = INLINE,
):  # fmt: skip
    """Commune levels, plus the province rows that become the union of their communes (all
    official, outline not kept) and the province levels dissolved from the communes'."""
    if not touched:
        return [], {}
    codes, geoms = _group(touched, current)
    collect = _levels(codes, geoms, clean=len(codes) == len(touched), workers=workers)
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
    unions: dict[str, list[str]] = {}  # province → its communes, where it is their union
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
        unions[p] = members
    levels = collect()
    for p, members in unions.items():
        for band in levels:
            parts = [levels[band].get(c, stored.get(band, {}).get(c)) for c in members]
            levels[band][p] = coverage.level_union(
                np.array([g for g in parts if g is not None], dtype=object)
            )
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
            pop, pop_src = int(sum(x for x in pops if x is not None)), "sum of communes"
    source = provinces.source.get(p) or ""
    if provinces.quality.get(p) != "official":
        source = f"union of communes: {report.file}"
    return plan.Unit(
        p, "province", provinces.name[p], provinces.kind[p], None, merged,
        plan.label_for(merged, None, provinces.label.get(p)), source, provinces.area.get(p),
        area_src, pop, pop_src, provinces.attributes.get(p),
    )  # fmt: skip


def _report_outside(codes, geom: dict, outline, p: str, report, tol: float = OUTSIDE_M2):
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


def province_units(conn, feats: Features, current: Layer, report, keep_outline: bool):
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


def province_levels(conn: Connection, touched, current: Layer, report: ImportReport):
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
        levels = _levels(codes, geoms)()
        mine = {u.code for u in own}
        levels = {b: {c: g for c, g in by.items() if c in mine} for b, by in levels.items()}
    for u in touched:
        if u in own:
            continue
        for band in DEFAULT_LEVELS:
            parts = [stored.get(band, {}).get(c) for c in members[u.code]]
            parts = [g for g in parts if g is not None]
            if parts:
                levels.setdefault(band, {})[u.code] = coverage.level_union(
                    np.array(parts, dtype=object)
                )
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
