"""What a boundary import will change, and the staged swap that changes it.

Why apart from the geometry work: this is the part that touches the database — the stored
layer the file is compared with (``load_layer``), the hierarchy (every commune needs an
existing province), the plan (new / changed / identical units: identical ones are not
written, so the same file twice changes nothing), and the swap: rows COPYed into temp
tables, then one upsert and one replacement of the display levels, inside the import's
transaction. Units are upserted by code and never deleted.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
import shapely
from sqlalchemy import Connection, text

from geo.ingest import store
from geo.ingest.report import ImportReport
from geo.ingest.unitfields import Features
from geo.official import official_units
from geo.text import normalise_name, search_key

REORGANISATION = dt.date(2025, 7, 1)


@dataclass
class Layer:
    """The units of one level as stored: what the file is compared with and merged into."""

    codes: list[str]
    name: dict[str, str]
    kind: dict[str, str]
    parent: dict[str, str | None]
    geom: dict[str, shapely.Geometry]
    quality: dict[str, str]
    source: dict[str, str]
    label: dict[str, shapely.Geometry]
    tasks: dict[str, int]
    population: dict[str, int | None] = field(default_factory=dict)
    area: dict[str, float | None] = field(default_factory=dict)
    attributes: dict[str, dict | None] = field(default_factory=dict)
    sources: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    outline_kept: dict[str, bool] = field(default_factory=dict)


def load_layer(conn: Connection, level: str) -> Layer:
    """The stored units of a level (geometry as shapely) and how many tasks each holds."""
    rows = conn.execute(
        text(
            "select u.code, u.name, u.kind, u.parent_code, ST_AsBinary(u.geom) wkb,"
            " ST_AsBinary(u.label_point) label, u.geometry_quality, u.source, u.population,"
            " u.area_km2, u.source_attributes, u.area_source, u.population_source,"
            " u.outline_kept, (select count(*) from task t where t.unit_code = u.code) tasks"
            " from admin_unit u where u.level = :l order by u.code"
        ),
        {"l": level},
    ).all()
    codes = [r.code for r in rows]
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows]) if rows else []
    labels = shapely.from_wkb([bytes(r.label) if r.label else None for r in rows]) if rows else []
    return Layer(
        codes=codes,
        name={r.code: r.name for r in rows},
        kind={r.code: r.kind for r in rows},
        parent={r.code: r.parent_code for r in rows},
        geom=dict(zip(codes, geoms, strict=True)),
        quality={r.code: r.geometry_quality for r in rows},
        source={r.code: r.source for r in rows},
        label=dict(zip(codes, labels, strict=True)),
        tasks={r.code: int(r.tasks) for r in rows},
        population={r.code: r.population for r in rows},
        area={r.code: r.area_km2 for r in rows},
        attributes={r.code: r.source_attributes for r in rows},
        sources={r.code: (r.area_source, r.population_source) for r in rows},
        outline_kept={r.code: bool(r.outline_kept) for r in rows},
    )


def check_parents(
    feats: Features, communes: Layer, provinces: Layer, report: ImportReport, skip: bool
) -> Features:
    """Every commune needs a province: from the file, else the database, else the official
    list, else the province containing it; a parent that does not exist is an error (a
    rejection with ``skip``). Returns the features that keep a parent."""
    official = official_units()
    derived = 0
    prov_codes = list(provinces.codes)
    prov_geoms = np.array([provinces.geom[c] for c in prov_codes], dtype=object)
    tree = shapely.STRtree(prov_geoms) if len(prov_geoms) else None
    problem = report.reject if skip else report.error
    for j, code in enumerate(feats.codes):
        parent = feats.parents[j]
        if parent is None:
            derived += 1
            parent = communes.parent.get(code)
            if parent is None and code in official:
                parent = official[code].parent
            if parent is None and tree is not None:
                hits = tree.query(shapely.point_on_surface(feats.geoms[j]), predicate="within")
                parent = prov_codes[hits[0]] if len(hits) else None
            if parent is None:
                problem(
                    "no parent province in the file and none can be derived",
                    row=feats.index[j], code=code,
                )  # fmt: skip
                continue
            feats.parents[j] = parent
        if parent not in provinces.name:
            problem(
                f"parent province '{parent}' does not exist (load provinces first)",
                row=feats.index[j], field=report.fields.get("parent"), code=code,
            )  # fmt: skip
            feats.parents[j] = None
            continue
        if code in official and official[code].parent != parent:
            report.warn(
                f"commune {code} is in province {official[code].parent} in the official"
                f" list, the file says {parent}",
                row=feats.index[j], code=code,
            )  # fmt: skip
    if derived:
        report.notes.append(
            f"{derived} feature(s) without a parent code: province taken from the database,"
            " the official list or the containing province"
        )
    return feats.subset([j for j, p in enumerate(feats.parents) if p is not None])


@dataclass
class Unit:
    """One row to write into ``admin_unit`` (new or changed)."""

    code: str
    level: str
    name: str
    kind: str
    parent_code: str | None
    geometry: shapely.Geometry
    label_point: shapely.Geometry
    source: str
    area_km2: float | None
    area_source: str | None
    population: int | None
    population_source: str | None
    attributes: dict | None
    outline_kept: bool = False
    quality: str = "official"


def unit_rows(
    feats: Features, level: str, current: Layer, source: str, outline_kept: bool = False
) -> list[Unit]:
    """What each file unit would be stored as: the file's figures first, the official list
    as fallback (with the source of each value)."""
    official = official_units()
    out = []
    for j, code in enumerate(feats.codes):
        off = official.get(code)
        name = feats.names[j] or current.name.get(code) or (off.name if off else code)
        kind = (
            feats.kinds[j]
            or current.kind.get(code)
            or (off.kind if off else ("Tỉnh" if level == "province" else "Xã"))
        )
        area_src: str | None
        pop_src: str | None
        area, area_src = feats.area_km2[j], "file"
        if area is None:
            area, area_src = (off.area_km2, "official") if off and off.area_km2 else (None, None)
        pop, pop_src = feats.population[j], "file"
        if pop is None:
            pop, pop_src = current.population.get(code), current.sources.get(code, (None, None))[1]
        g = feats.geoms[j]
        anchor = shapely.Point(off.lon, off.lat) if off and off.lon is not None else None
        out.append(
            Unit(
                code, level, normalise_name(name), kind,
                feats.parents[j] if level == "commune" else None, g,
                label_for(g, anchor, current.label.get(code)), source, area, area_src, pop,
                pop_src, feats.attributes[j] or None, outline_kept,
            )
        )  # fmt: skip
    return out


def label_for(geom, anchor, previous):
    """The official centroid when inside; else the previous label when still inside; else a
    point on the surface (a centroid can fall outside a crescent-shaped commune)."""
    for p in (anchor, previous):
        if p is not None and not p.is_empty and geom.contains(p):
            return p
    return geom.point_on_surface()


def differs(u: Unit, current: Layer) -> bool | None:
    """None when the unit is new, else whether storing it would change anything."""
    code = u.code
    if code not in current.name:
        return None
    stored = current.geom.get(code)
    return (
        stored is None
        or not shapely.equals_exact(u.geometry, stored, tolerance=0.0)
        or u.name != current.name[code]
        or u.kind != current.kind[code]
        or u.parent_code != current.parent.get(code)
        or current.quality[code] != u.quality
        or current.source[code] != u.source
        or u.population != current.population.get(code)
        or u.area_km2 != current.area.get(code)
        or (u.attributes or None) != (current.attributes.get(code) or None)
        or u.outline_kept != current.outline_kept.get(code, False)
    )


_COLS = ("code", "level", "name", "name_key", "kind", "parent_code", "area_km2", "area_source",
         "population", "population_source", "source_attributes", "geom", "label_point",
         "source", "geometry_quality", "valid_from", "outline_kept", "imported_by")  # fmt: skip


def stage(conn: Connection, units: list[Unit], levels: dict[str, dict], actor: str) -> None:
    """Temp tables dropped at commit: the units to upsert and all the recomputed levels."""
    conn.execute(
        text(
            "create temp table import_unit (like admin_unit including defaults) on commit drop;"
            " create temp table import_level (like unit_geometry_level) on commit drop"
        )
    )

    geoms = store.ewkb_many([u.geometry for u in units])
    labels = store.ewkb_many([u.label_point for u in units])

    def rows():
        for u, geom, label in zip(units, geoms, labels, strict=True):
            attrs = json.dumps(u.attributes, ensure_ascii=False) if u.attributes else None
            yield (
                u.code, u.level, u.name, search_key(u.name), u.kind, u.parent_code, u.area_km2,
                u.area_source, u.population, u.population_source, attrs,
                geom, label, u.source, u.quality, REORGANISATION, u.outline_kept, actor,
            )  # fmt: skip

    store.copy_rows(conn, "import_unit", _COLS, rows())
    staged = [
        (code, band, g)
        for band, by_code in levels.items()
        for code, g in by_code.items()
        if g is not None and not g.is_empty
    ]
    hexes = store.ewkb_many([g for _, _, g in staged])
    store.copy_rows(
        conn,
        "import_level",
        ("unit_code", "band", "geom"),
        ((code, band, h) for (code, band, _), h in zip(staged, hexes, strict=True)),
    )


def invalid_staged(conn: Connection) -> list[str]:
    """Codes whose staged geometry PostGIS finds invalid or empty (a last safety net)."""
    return list(
        conn.execute(
            text(
                "select code from import_unit where geom is null or ST_IsEmpty(geom)"
                " or not ST_IsValid(geom) union select unit_code from import_level"
                " where not ST_IsValid(geom) order by 1"
            )
        ).scalars()
    )


def swap(conn: Connection) -> None:
    """Upsert the staged units (keeping valid_from of existing ones) and replace the display
    levels of every unit that got new ones."""
    conn.execute(
        text(
            """
            insert into admin_unit (code, level, name, name_key, kind, parent_code, area_km2,
                                    area_source, population, population_source,
                                    source_attributes, geom, label_point, source,
                                    geometry_quality, valid_from, outline_kept, imported_by,
                                    updated_at)
            select code, level, name, name_key, kind, parent_code, area_km2, area_source,
                   population, population_source, source_attributes, geom, label_point,
                   source, geometry_quality, valid_from, outline_kept, imported_by, now()
            from import_unit
            on conflict (code) do update set
              level = excluded.level, name = excluded.name, name_key = excluded.name_key,
              kind = excluded.kind, parent_code = excluded.parent_code,
              area_km2 = excluded.area_km2, area_source = excluded.area_source,
              population = excluded.population, population_source = excluded.population_source,
              source_attributes = excluded.source_attributes, geom = excluded.geom,
              label_point = excluded.label_point, source = excluded.source,
              geometry_quality = excluded.geometry_quality,
              outline_kept = excluded.outline_kept, imported_by = excluded.imported_by,
              updated_at = now()
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


def stored_levels(conn: Connection, level: str) -> dict[str, dict[str, shapely.Geometry]]:
    """band → code → stored display geometry of every unit of a level."""
    rows = conn.execute(
        text(
            "select l.unit_code, l.band, ST_AsBinary(l.geom) wkb from unit_geometry_level l"
            " join admin_unit u on u.code = l.unit_code where u.level = :level"
        ),
        {"level": level},
    ).all()
    out: dict[str, dict[str, shapely.Geometry]] = {}
    for r in rows:
        out.setdefault(r.band, {})[r.unit_code] = shapely.from_wkb(bytes(r.wkb))
    return out
