"""RFC 7946 FeatureCollections of units with their progress figures and indicators.

Why this shape: PostGIS does the join, the aggregates and the geometry serialisation
(``ST_AsGeoJSON`` is ~5–10× faster than shapely + json in Python, which is where tipg
spends its time); Python only glues the per-feature pieces together with orjson, which
keeps the JSON compact, the property order stable and the choice of properties free
(``fields``). Every value from the caller is a bound parameter; the only SQL composed here
is chosen from the fixed fragments of ``PROPERTIES`` (names checked against it first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson
from sqlalchemy import Connection, text

from geo.read.progress import KH02_GROUPS, STATUSES, unit_counts_sql
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


@dataclass(frozen=True)
class Page:
    """One page of features: the comma-joined Feature objects and the counts."""

    features: bytes
    number_matched: int
    number_returned: int
    rows: list[dict] | None = None  # properties per feature (when asked for)


def output_geometry_sql(geom: str, precision: int, crs: int, params: dict) -> str:
    """The geometry expression to serialise at ``precision`` decimals, valid per GEOS.

    Why: rounding coordinates at serialisation collapses narrow parts and holes into rings
    with too few points (invalid GeoJSON). Stored geometry is already snap-rounded to the
    6-decimal grid at import (``geo.ingest.coverage.GRID``), so lon/lat output at 6 or more
    decimals prints it exactly; fewer decimals, or another CRS, are snap-rounded to that
    grid by ``ST_ReducePrecision`` (valid output; collapsed parts dropped) before printing;
    ``reduce_precision_safe`` (migration 0003) falls back when GEOS raises.
    """
    if crs == 4326 and precision >= STORED_DECIMALS:
        return geom
    params["grid"] = 10.0 ** -min(max(precision, 0), 15)
    return f"reduce_precision_safe({geom}, :grid)"  # ST_ReducePrecision + fallbacks (0003)


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


_ROLLUP_SQL = f"""
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
      and unit_code in (select code from admin_unit where parent_code in (select code from page))
  ) x
  group by unit_code
) k on k.unit_code = u.code
where u.level = 'commune' and u.parent_code in (select code from page)
group by u.parent_code"""


def _where(q: UnitQuery, params: dict) -> str:
    """The filter of the matched units (before paging); values go into ``params``."""
    clauses = ["u.level = :level"]
    if q.parent:
        clauses.append("u.parent_code = :parent")
    if q.code:
        clauses.append("u.code = :code")
    if q.q:  # diacritics, apostrophes, abbreviations, typos: geo.read.search
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
            "exists (select 1 from task t where t.unit_code = u.code"
            " and (cast(:program as text) is null or t.program = cast(:program as text))"
            " and (cast(:year as int) is null or t.year = cast(:year as int))"
            " and task_status(t.deadline, t.completed_at, cast(:as_of as date)) = :status)"
        )
        params["status"] = q.status
    for i, (name, value) in enumerate(q.filters):
        clauses.append(f"{FILTERABLE[name]} = :flt{i}")
        params[f"flt{i}"] = value
    return " and ".join(clauses)


def selected_properties(q: UnitQuery) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(fixed property names, indicator codes) the query returns."""
    if q.fields is not None:
        return q.fields, q.indicators
    return LEAN[q.level], q.indicators


def _sql(q: UnitQuery, fixed: Sequence[str], indicators: Sequence[str], params: dict) -> str:
    where = _where(q, params)
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
    geom_src = output_geometry_sql(geom_src, q.precision, q.crs, params)
    if q.geometry:
        cols.append(f"ST_AsGeoJSON({geom_src}, :precision, 0) as geometry")
    joins = ["left join counts c on c.unit_code = u.code"]
    ctes = [
        f"matched as (select u.code from admin_unit u where {where})",
        "page as (select code from matched order by code limit :limit offset :offset)",
        f"counts as ({_counts_sql('select code from page')})",
    ]
    if province and any(n in ("communes", "communes_all_groups_done") for n in fixed):
        ctes.append(f"rollup as ({_ROLLUP_SQL})")
        joins.append("left join rollup r on r.province_code = u.code")
    if not province and "province_name" in fixed:
        joins.append("left join admin_unit p on p.code = u.parent_code")
    if indicators:
        ctes.append(
            "ivals as (select unit_code, jsonb_object_agg(indicator_code,"
            " jsonb_build_array(value, rank)) as v from indicator_value"
            " where period = :period and unit_code in (select code from page)"
            " group by unit_code)"
        )
        joins.append("left join ivals iv on iv.unit_code = u.code")
    if q.band and q.geometry:
        joins.append("left join unit_geometry_level l on l.unit_code = u.code and l.band = :band")
    return f"""
with {", ".join(ctes)}
select (select count(*) from matched) as number_matched, u.code as id, {", ".join(cols)}
from page s
join admin_unit u on u.code = s.code
{" ".join(joins)}
order by u.code"""


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
    parts: list[bytes] = []
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
        geometry = row[-1].encode() if q.geometry and row[-1] is not None else b"null"
        parts.append(
            b'{"type":"Feature","id":'
            + orjson.dumps(row[1])
            + b',"geometry":'
            + geometry
            + b',"properties":'
            + orjson.dumps(props)
            + b"}"
        )
    if matched is None:  # an empty page still needs the count (offset past the end)
        params2 = dict(params)
        where = _where(q, params2)
        matched = conn.execute(
            text(f"select count(*) from admin_unit u where {where}"), params2
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
                "select code from indicator where cast(:level as text) is null"
                " or level in (cast(:level as text), 'both') order by code"
            ),
            {"level": level},
        ).scalars()
    )
