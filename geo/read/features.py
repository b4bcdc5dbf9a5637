"""RFC 7946 FeatureCollections of units with their progress figures and indicators.

Why this shape: PostGIS does the join, the aggregates and the geometry serialisation
(``ST_AsGeoJSON`` is ~5–10× faster than shapely + json in Python, which is where tipg
spends its time); Python only glues the per-feature pieces together with orjson, which
keeps the JSON compact, the property order stable and the choice of properties free
(``fields``). Every value from the caller is a bound parameter; the only SQL composed here
is chosen from the fixed fragments of ``PROPERTIES`` (names checked against it first).

Why one module (over 400 lines): the property expressions, their types, the filter/sort
plumbing and the one statement that uses them must change together — a property added
here is at once servable, selectable (``fields``/``properties``), filterable (CQL2,
``geo.read.cql2``) and sortable (``sortby``); split apart they drifted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import shapely
from sqlalchemy import Connection, text

from geo.ingest.topology import as_multipolygon
from geo.read.progress import KH02_GROUPS, STATUSES, slice_filter, unit_counts_sql
from geo.read.search import name_filter_sql

LEVELS = ("province", "commune")
STORED_DECIMALS = 6  # stored geometry lies on this grid (geo.ingest.coverage.STORED_DECIMALS)
RESOLUTIONS = ("full", "z12", "z9", "z6")

# name → (SQL expression, levels it exists for). Aliases: u = the unit, c = its task counts,
# r = the Plan 02 rollup (provinces), p = the parent province (communes).
PROPERTIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "code": ("u.code", LEVELS),
    "name": ("u.name", LEVELS),
    "kind": ("u.kind", LEVELS),
    "full_name": ("u.kind || ' ' || u.name", LEVELS),
    "tasks_total": ("coalesce(c.total, 0)", LEVELS),
    "tasks_completed": ("coalesce(c.completed, 0) + coalesce(c.completed_late, 0)", LEVELS),
    "tasks_completed_late": ("coalesce(c.completed_late, 0)", LEVELS),
    "tasks_on_time": ("coalesce(c.on_time, 0)", LEVELS),
    "tasks_overdue": ("coalesce(c.overdue, 0)", LEVELS),
    "completion_pct": (
        "case when coalesce(c.total, 0) = 0 then null else "
        "round(100.0 * (c.completed + c.completed_late) / c.total, 2)::float8 end",
        LEVELS,
    ),
    "geometry_quality": ("u.geometry_quality", LEVELS),
    "communes": ("coalesce(r.communes, 0)", ("province",)),
    "communes_all_groups_done": ("coalesce(r.communes_all_done, 0)", ("province",)),
    "province_code": ("u.parent_code", ("commune",)),
    "province_name": ("p.name", ("commune",)),
    "groups_done": ("coalesce(c.groups_done, 0)", ("commune",)),
    "groups_total": (str(KH02_GROUPS), ("commune",)),
    # not in the lean set: detail pages and downloads
    "area_km2": ("u.area_km2", LEVELS),
    "area_source": ("u.area_source", LEVELS),
    "population": ("u.population", LEVELS),
    "population_source": ("u.population_source", LEVELS),
    "source_attributes": ("u.source_attributes", LEVELS),
    "label_lon": ("round(ST_X(u.label_point)::numeric, 6)::float8", LEVELS),
    "label_lat": ("round(ST_Y(u.label_point)::numeric, 6)::float8", LEVELS),
    "source": ("u.source", LEVELS),
    "valid_from": ("u.valid_from", LEVELS),
}
_COMMON_LEAN = (
    "code",
    "name",
    "kind",
    "full_name",
    "tasks_total",
    "tasks_completed",
    "tasks_completed_late",
    "tasks_on_time",
    "tasks_overdue",
    "completion_pct",
    "geometry_quality",
)
LEAN: dict[str, tuple[str, ...]] = {
    "province": (*_COMMON_LEAN, "communes", "communes_all_groups_done"),
    "commune": (*_COMMON_LEAN, "province_code", "province_name", "groups_done", "groups_total"),
}
_EXTRA = ("area_km2", "area_source", "population", "population_source", "label_lon",
          "label_lat", "source", "valid_from", "source_attributes")  # fmt: skip
FULL: dict[str, tuple[str, ...]] = {level: (*LEAN[level], *_EXTRA) for level in LEVELS}
# Equality filters the OGC items endpoint offers (queryables): name → column.
FILTERABLE: dict[str, str] = {
    "code": "u.code",
    "name": "u.name",
    "kind": "u.kind",
    "geometry_quality": "u.geometry_quality",
    "province_code": "u.parent_code",
}
_STATUS_OF = {s: s for s in STATUSES}
# JSON-Schema type of each property (queryables, the Part 5 schema, filter type checks).
PROPERTY_TYPES: dict[str, str] = {
    **{n: "string" for n in ("code", "name", "kind", "full_name", "geometry_quality",
                              "province_code", "province_name", "area_source",
                              "population_source", "source")},
    **{n: "integer" for n in ("tasks_total", "tasks_completed", "tasks_completed_late",
                               "tasks_on_time", "tasks_overdue", "communes",
                               "communes_all_groups_done", "groups_done", "groups_total",
                               "population")},
    **{n: "number" for n in ("completion_pct", "area_km2", "label_lon", "label_lat")},
    "valid_from": "date",
    "source_attributes": "object",
}  # fmt: skip
_GROUP = re.compile(r"\b([crp])\.")
_INDICATOR_CODE = re.compile(r"[A-Za-z0-9_]{1,64}")


@dataclass(frozen=True)
class UnitFilter:
    """A compiled filter (``geo.read.cql2``): a WHERE fragment over the aliases of
    ``PROPERTIES`` plus ``iv`` (indicator values), its bound parameters, the joins it
    needs (``c`` counts, ``r`` rollup, ``p`` parent, ``iv``) and the indicators it reads."""

    sql: str
    params: tuple[tuple[str, Any], ...]
    groups: frozenset[str]
    indicators: tuple[str, ...] = ()


def property_sql(
    name: str, level: str, indicator_codes: Iterable[str] = ()
) -> tuple[str, str, frozenset[str]] | None:
    """(SQL expression, JSON-Schema type, joins needed) of a filterable/sortable property
    at ``level``, or None. Indicator codes come from our own ``indicator`` table and are
    checked to be identifiers before they are written into the expression as literals."""
    if name in PROPERTIES and level in PROPERTIES[name][1] and name != "source_attributes":
        expr = PROPERTIES[name][0]
        return expr, PROPERTY_TYPES[name], frozenset(_GROUP.findall(expr))
    codes = set(indicator_codes)
    code, rank = (name[:-5], True) if name.endswith("_rank") else (name, False)
    if code in codes and _INDICATOR_CODE.fullmatch(code):
        part, cast, kind = ("1", "int", "integer") if rank else ("0", "float8", "number")
        return f"(iv.v -> '{code}' ->> {part})::{cast}", kind, frozenset({"iv"})
    return None


# Vietnamese alphabetical order (ICU's vi-VN rules: a ă â b c d đ e ê …, tones after letters)
VI_COLLATION = '"vi-VN-x-icu"'


@dataclass(frozen=True)
class UnitQuery:
    """What a caller may ask of the unit layers (all optional but level and as_of).

    ``fields`` None = the lean default (plus indicators when ``period`` is given);
    ``indicators`` are the indicator codes requested as flat properties ``<code>`` and
    ``<code>_rank``; ``filters`` are (queryable name, value) equality pairs.
    """

    level: str  # province | commune
    as_of: dt.date
    program: str | None = None
    year: int | None = None
    parent: str | None = None
    code: str | None = None
    band: str | None = None  # simplified geometry level, None = full resolution
    precision: int = 6
    limit: int | None = None
    offset: int = 0
    status: str | None = None  # units having ≥ 1 task in this status
    q: str | None = None  # diacritic-free search key (geo.text.search_key)
    bbox: tuple[float, float, float, float] | None = None
    fields: tuple[str, ...] | None = None
    period: str | None = None
    indicators: tuple[str, ...] = ()
    filters: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    geometry: bool = True
    crs: int = 4326  # output CRS (EPSG code); 4326 = RFC 7946 lon/lat
    where: UnitFilter | None = None  # a compiled CQL2 filter
    sort: tuple[tuple[str, bool], ...] = ()  # (property, descending); ties by code
    valid_at: tuple[dt.date | None, dt.date | None] | None = None  # OGC datetime interval


@dataclass(frozen=True)
class Page:
    """One page of features: the comma-joined Feature objects and the counts."""

    features: bytes
    number_matched: int
    number_returned: int
    rows: list[dict] | None = None  # properties per feature (when asked for)


def output_grid(precision: int, crs: int) -> float | None:
    """The grid to snap-round output geometry to, or None when it prints as stored.

    Why: rounding coordinates at serialisation collapses narrow parts and holes into rings
    with too few points (invalid GeoJSON). Stored geometry is already snap-rounded to the
    6-decimal grid at import (``geo.ingest.coverage.GRID``), so lon/lat output at 6 or more
    decimals prints it exactly (in PostGIS, ``ST_AsGeoJSON``); fewer decimals, or another
    CRS, are snap-rounded to that grid here (``on_grid_geojson``)."""
    if crs == 4326 and precision >= STORED_DECIMALS:
        return None
    return 10.0 ** -min(max(precision, 0), 15)


def snap_round(geoms: np.ndarray, grid: float) -> np.ndarray:
    """Snap-round to ``grid`` (valid output, collapsed parts dropped); a geometry GEOS
    cannot round (odd rings after a reprojection) is repaired first."""
    try:
        return shapely.set_precision(geoms, grid)
    except shapely.errors.GEOSException:
        out = np.empty(len(geoms), dtype=object)
        for i, g in enumerate(geoms):
            try:
                out[i] = shapely.set_precision(g, grid)
            except shapely.errors.GEOSException:
                out[i] = shapely.set_precision(shapely.make_valid(g), grid)
        return out


def on_grid_geojson(wkbs: Sequence[bytes | None], grid: float) -> list[bytes]:
    """GeoJSON geometries snap-rounded to ``grid`` with shapely (GEOS ≥ 3.12): valid output,
    collapsed parts dropped, RFC 7946 rings.

    Why not ``ST_ReducePrecision`` in PostGIS: with Debian's GEOS 3.11 it returned
    self-intersecting provinces at 3 and 4 decimals (measured on a national layer: 3 of
    34), some of which its own ``ST_IsValid`` called valid."""
    geoms = shapely.from_wkb(np.array(wkbs, dtype=object))
    live = ~shapely.is_missing(geoms)
    out = [b"null"] * len(geoms)
    if not live.any():
        return out
    snapped = snap_round(geoms[live], grid)
    polys = np.array([as_multipolygon(g) for g in snapped], dtype=object)
    text_ = shapely.to_geojson(shapely.orient_polygons(polys, exterior_cw=False))
    for i, t in zip(np.flatnonzero(live).tolist(), text_.tolist(), strict=True):
        out[i] = t.encode()
    return out


def band_for_zoom(zoom: int | None, bands: list[str]) -> str | None:
    """The coarsest stored band made for this web-map zoom (``z6`` serves zooms ≤ 6);
    None (full resolution) past the finest band or when no zoom is given."""
    if zoom is None:
        return None
    for band in sorted(bands, key=lambda b: int(b.lstrip("z"))):
        if zoom <= int(band.lstrip("z")):
            return band
    return None


def property_names(level: str, indicator_codes: Iterable[str] = ()) -> list[str]:
    """Every property a caller may ask for at this level (fixed ones, then indicators)."""
    names = [n for n, (_, levels) in PROPERTIES.items() if level in levels]
    for code in indicator_codes:
        names += [code, f"{code}_rank"]
    return names


def split_fields(
    level: str, fields: Sequence[str], indicator_codes: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """(fixed properties, indicator codes, unknown names) for a ``fields`` list."""
    fixed: list[str] = []
    indicators: list[str] = []
    unknown: list[str] = []
    known_ind = set(indicator_codes)
    for name in fields:
        if name in PROPERTIES and level in PROPERTIES[name][1]:
            fixed.append(name)
        elif name in known_ind or (name.endswith("_rank") and name[:-5] in known_ind):
            code = name[:-5] if name not in known_ind else name
            if code not in indicators:
                indicators.append(code)
        else:
            unknown.append(name)
    return tuple(fixed), tuple(indicators), unknown


def _counts_sql(restrict: str) -> str:
    """Per-unit task counts by derived status, only for the units in ``restrict``."""
    return unit_counts_sql(restrict)


_ROLLUP_TEMPLATE = f"""
select u.parent_code as province_code,
       count(*) as communes,
       count(*) filter (where coalesce(k.groups_done, 0) >= {KH02_GROUPS}) as communes_all_done
from admin_unit u
left join (
  select unit_code,
         count(distinct group_no) filter (where s in ('completed', 'completed_late'))
           as groups_done
  from (
    select unit_code, group_no, task_status(deadline, completed_at, cast(:as_of as date)) as s
    from task
    where program = 'KH02'
      and unit_code in (select code from admin_unit where parent_code in ({{restrict}}))
  ) x
  group by unit_code
) k on k.unit_code = u.code
where u.level = 'commune' and u.parent_code in ({{restrict}})
group by u.parent_code"""


def _rollup_sql(restrict: str) -> str:
    """Plan 02 rollup of the provinces in ``restrict`` (a subquery of our own)."""
    return _ROLLUP_TEMPLATE.format(restrict=restrict)


def _ivals_sql(restrict: str) -> str:
    return (
        "select unit_code, jsonb_object_agg(indicator_code,"
        " jsonb_build_array(value, rank)) as v from indicator_value"
        f" where period = :period and unit_code in ({restrict})"
        " group by unit_code"
    )


def _matched_ctes(q: UnitQuery, params: dict) -> tuple[list[str], set[str]]:
    """The CTEs up to ``matched`` (and the joins computed over the whole level for it)."""
    where = _where(q, params)
    needs = _needs(q)
    every = "select code from admin_unit where level = :level"
    ctes: list[str] = []
    joins: list[str] = []
    if "c" in needs:
        ctes.append(f"counts as ({_counts_sql(every)})")
        joins.append("left join counts c on c.unit_code = u.code")
    if "r" in needs:
        ctes.append(f"rollup as ({_rollup_sql(every)})")
        joins.append("left join rollup r on r.province_code = u.code")
    if "iv" in needs:
        ctes.append(f"ivals as ({_ivals_sql(every)})")
        joins.append("left join ivals iv on iv.unit_code = u.code")
    if "p" in needs:
        joins.append("left join admin_unit p on p.code = u.parent_code")
    keys = "".join(f", {expr} as k{i}" for i, (expr, _) in enumerate(_sort_keys(q)))
    ctes.append(
        f"matched as (select u.code{keys} from admin_unit u {' '.join(joins)} where {where})"
    )
    return ctes, needs


def _where(q: UnitQuery, params: dict) -> str:
    """The filter of the matched units (before paging); values go into ``params``."""
    clauses = ["u.level = :level"]
    if q.parent:
        clauses.append("u.parent_code = :parent")
    if q.code:
        clauses.append("u.code = :code")
    if q.q is not None:  # diacritics, apostrophes, abbreviations, typos: geo.read.search
        clauses.append(name_filter_sql(params, q.q, q.level))
    if q.bbox:
        clauses.append(
            "u.geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326) and "
            "ST_Intersects(u.geom, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))"
        )
        params.update(zip(("minx", "miny", "maxx", "maxy"), q.bbox, strict=True))
    if q.status:
        if q.status not in _STATUS_OF:
            raise ValueError(f"unknown status {q.status!r}")
        clauses.append(
            f"exists (select 1 from task t where t.unit_code = u.code and {slice_filter('t')}"
            " and task_status(t.deadline, t.completed_at, cast(:as_of as date)) = :status)"
        )
        params["status"] = q.status
    for i, (name, value) in enumerate(q.filters):
        clauses.append(f"{FILTERABLE[name]} = :flt{i}")
        params[f"flt{i}"] = value
    if q.valid_at is not None:  # a unit is valid from valid_from on (no end recorded)
        start, end = q.valid_at
        if end is not None:
            clauses.append("u.valid_from <= :valid_end")
            params["valid_end"] = end
        del start  # every served unit is still valid: any start overlaps [valid_from, ∞)
    if q.where is not None:
        clauses.append(f"coalesce({q.where.sql}, false)")
        params.update(q.where.params)
    return " and ".join(clauses)


def _sort_keys(q: UnitQuery) -> list[tuple[str, bool]]:
    """(SQL expression, descending) of each sortby key (names were checked by the API).
    Names sort in Vietnamese alphabetical order (a ă â b … d đ e …), not by code point."""
    keys = []
    for name, desc in q.sort:
        found = property_sql(name, q.level, _indicator_names(q))
        if found is None:
            raise ValueError(f"unknown sort property {name!r}")
        expr = found[0]
        if found[1] == "string" and name != "code":
            expr = f"({expr}) collate {VI_COLLATION}"
        keys.append((expr, desc))
    return keys


def _indicator_names(q: UnitQuery) -> tuple[str, ...]:
    used = q.where.indicators if q.where else ()
    return (*used, *(n.removesuffix("_rank") for n, _ in q.sort))


def _needs(q: UnitQuery) -> set[str]:
    """Joins the matched set needs before paging (figures in the filter or the sort)."""
    needs: set[str] = set(q.where.groups) if q.where else set()
    for name, _ in q.sort:
        found = property_sql(name, q.level, _indicator_names(q))
        if found is not None:
            needs |= found[2]
    return needs


def selected_properties(q: UnitQuery) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(fixed property names, indicator codes) the query returns."""
    if q.fields is not None:
        return q.fields, q.indicators
    return LEAN[q.level], q.indicators


def _sql(q: UnitQuery, fixed: Sequence[str], indicators: Sequence[str], params: dict) -> str:
    province = q.level == "province"
    cols = [f'{PROPERTIES[name][0]} as "{name}"' for name in fixed]
    for i, code in enumerate(indicators):
        params[f"ind{i}"] = code
        cols.append(f"(iv.v -> cast(:ind{i} as text) ->> 0)::float8 as i{i}")
        cols.append(f"(iv.v -> cast(:ind{i} as text) ->> 1)::int as r{i}")
    geom_src = "coalesce(l.geom, u.geom)" if q.band else "u.geom"
    if q.crs != 4326:
        geom_src = f"ST_Transform({geom_src}, cast(:crs as int))"
        params["crs"] = q.crs
    if q.geometry and output_grid(q.precision, q.crs) is None:
        cols.append(f"ST_AsGeoJSON({geom_src}, :precision, 0) as geometry")
    elif q.geometry:  # snap-rounded in Python (unit_page)
        cols.append(f"ST_AsBinary({geom_src}) as geometry")
    ctes, needs = _matched_ctes(q, params)
    keys = _sort_keys(q)
    order = ", ".join(
        f"k{i} {'desc' if desc else 'asc'} nulls last" for i, (_, desc) in enumerate(keys)
    )
    page_cols = "code" + "".join(f", k{i}" for i in range(len(keys)))
    by = f"{order}, code" if order else "code"
    ctes.append(
        f"page as (select {page_cols} from matched order by {by} limit :limit offset :offset)"
    )
    joins = ["left join counts c on c.unit_code = u.code"]
    if "c" not in needs:
        ctes.append(f"counts as ({_counts_sql('select code from page')})")
    wants_rollup = any(n in ("communes", "communes_all_groups_done") for n in fixed)
    if province and wants_rollup:
        if "r" not in needs:
            ctes.append(f"rollup as ({_rollup_sql('select code from page')})")
        joins.append("left join rollup r on r.province_code = u.code")
    if not province and "province_name" in fixed:
        joins.append("left join admin_unit p on p.code = u.parent_code")
    if indicators:
        if "iv" not in needs:
            ctes.append(f"ivals as ({_ivals_sql('select code from page')})")
        joins.append("left join ivals iv on iv.unit_code = u.code")
    if q.band and q.geometry:
        joins.append("left join unit_geometry_level l on l.unit_code = u.code and l.band = :band")
    final = ", ".join(
        [f"s.k{i} {'desc' if desc else 'asc'} nulls last" for i, (_, desc) in enumerate(keys)]
        + ["u.code"]
    )
    return f"""
with {", ".join(ctes)}
select (select count(*) from matched) as number_matched, u.code as id, {", ".join(cols)}
from page s
join admin_unit u on u.code = s.code
{" ".join(joins)}
order by {final}"""


def unit_page(conn: Connection, q: UnitQuery, keep_rows: bool = False) -> Page:
    """One page of the unit layer: Feature objects (bytes), numberMatched, numberReturned."""
    fixed, indicators = selected_properties(q)
    params = {
        "as_of": q.as_of,
        "program": q.program or ("NQ57" if q.level == "province" else "KH02"),
        "year": q.year,
        "level": q.level,
        "parent": q.parent,
        "code": q.code,
        "band": q.band,
        "precision": q.precision,
        "limit": q.limit,
        "offset": q.offset,
        "period": q.period,
    }
    sql = _sql(q, fixed, indicators, params)
    result = conn.execute(text(sql), params)
    heads: list[tuple[bytes, bytes]] = []
    cells: list = []
    rows: list[dict] = []
    matched = None
    n_fixed = len(fixed)
    for row in result:
        if matched is None:
            matched = row[0]
        props = dict(zip(fixed, row[2 : 2 + n_fixed], strict=True))
        for i, code in enumerate(indicators):
            props[code] = row[2 + n_fixed + 2 * i]
            props[f"{code}_rank"] = row[3 + n_fixed + 2 * i]
        if keep_rows:
            rows.append(props)
        cells.append(row[-1] if q.geometry else None)
        heads.append((orjson.dumps(row[1]), orjson.dumps(props)))
    grid = output_grid(q.precision, q.crs) if q.geometry else None
    if grid is not None:
        geometries = on_grid_geojson([bytes(c) if c is not None else None for c in cells], grid)
    else:
        geometries = [c.encode() if c is not None else b"null" for c in cells]
    parts: list[bytes] = []
    for (fid, props_json), geometry in zip(heads, geometries, strict=True):
        parts.append(
            b'{"type":"Feature","id":' + fid + b',"geometry":' + geometry
            + b',"properties":' + props_json + b"}"
        )  # fmt: skip
    if matched is None:  # an empty page still needs the count (offset past the end)
        params2 = dict(params)
        ctes, _ = _matched_ctes(q, params2)
        matched = conn.execute(
            text(f"with {', '.join(ctes)} select count(*) from matched"), params2
        ).scalar_one()
    return Page(b",".join(parts), int(matched), len(parts), rows if keep_rows else None)


def feature_collection(page: Page, **members) -> bytes:
    """A FeatureCollection around a page: extra top-level members come first."""
    head = {
        "type": "FeatureCollection",
        **members,
        "numberMatched": page.number_matched,
        "numberReturned": page.number_returned,
    }
    return orjson.dumps(head)[:-1] + b',"features":[' + page.features + b"]}"


def unit_features(conn: Connection, q: UnitQuery) -> str:
    """The FeatureCollection as JSON text (what the map pages embed)."""
    return feature_collection(unit_page(conn, q)).decode()


def latest_period(conn: Connection, level: str | None = None) -> str | None:
    """The latest period with indicator values (for units of ``level`` when given)."""
    return conn.execute(
        text(
            "select max(v.period) from indicator_value v join admin_unit u on u.code = v.unit_code"
            " where cast(:level as text) is null or u.level = cast(:level as text)"
        ),
        {"level": level},
    ).scalar_one()


def indicator_codes(conn: Connection, level: str | None = None) -> list[str]:
    """Indicator codes defined for a level (``both`` counts for either)."""
    return list(
        conn.execute(
            text(
                "select code from indicator where level <> 'national' and"
                " (cast(:level as text) is null or level in (cast(:level as text), 'both'))"
                " order by code"
            ),
            {"level": level},
        ).scalars()
    )
