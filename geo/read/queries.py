"""Read queries behind /api/v1 that are not map layers: task lists, history, indicators
and rankings (search: ``geo/read/search.py``; the imports list: ``geo/read/imports.py``).

Why here and not in the routers: they are domain questions (which tasks are overdue on
a date, how a rank changed since the previous period) that the CLI, reports and tests ask
too; the web layer only parses parameters and shapes responses. Values are always bound;
the only composed SQL is a sort key picked from ``TASK_SORTS``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.read.progress import STATUSES, slice_filter

STATUS_LABEL_VI = {
    "completed": "Đã hoàn thành",
    "completed_late": "Hoàn thành quá hạn",
    "on_time": "Đang thực hiện (trong hạn)",
    "overdue": "Quá hạn",
}
TASK_SORTS = {
    "deadline": "t.deadline, t.id",
    "-deadline": "t.deadline desc, t.id",
    "status": "s.status, t.deadline, t.id",
    "group_no": "t.group_no nulls last, t.id",
    "title": "t.title, t.id",
}
_QUARTER = re.compile(r"^\d{4}-Q[1-4]$")
_YEAR = re.compile(r"^\d{4}$")


def unit(conn: Connection, code: str) -> dict | None:
    """A unit's identity: code, name, kind, level, parent (None if unknown)."""
    row = (
        conn.execute(
            text(
                "select u.code, u.name, u.kind, u.level, u.kind || ' ' || u.name as full_name,"
                " u.parent_code as province_code, p.name as province_name"
                " from admin_unit u left join admin_unit p on p.code = u.parent_code"
                " where u.code = :c"
            ),
            {"c": code},
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


@dataclass(frozen=True)
class TaskFilter:
    """What /units/{code}/tasks may narrow by."""

    status: str | None = None
    program: str | None = None
    group: int | None = None
    overdue: bool | None = None
    sort: str = "deadline"
    limit: int = 100
    offset: int = 0
    missing_reason: bool | None = None  # true: only overdue tasks that state no reason


def tasks(conn: Connection, code: str, as_of: dt.date, f: TaskFilter) -> tuple[int, list[dict]]:
    """(number matched, one page of tasks) of a unit (or an agency: codes never collide,
    digits vs letters) with their status on ``as_of``."""
    if f.status is not None and f.status not in STATUSES:
        raise ValueError(f"unknown status {f.status!r}")
    order = TASK_SORTS[f.sort]
    where = f"""(t.unit_code = :code or t.agency_code = :code)
      and {slice_filter("t", year=False)}
      and (cast(:grp as int) is null or t.group_no = cast(:grp as int))
      and (cast(:status as text) is null or s.status = cast(:status as text))
      and (cast(:overdue as boolean) is null
           or (s.status = 'overdue') = cast(:overdue as boolean))
      and (cast(:missing as boolean) is null or (s.status = 'overdue' and t.reason is null)
           = cast(:missing as boolean))"""
    params = {
        "missing": f.missing_reason,
        "code": code,
        "as_of": as_of,
        "program": f.program,
        "grp": f.group,
        "status": f.status,
        "overdue": f.overdue,
        "limit": f.limit,
        "offset": f.offset,
    }
    base = f"""from task t
      cross join lateral (select task_status(t.deadline, t.completed_at, cast(:as_of as date))
                          as status) s
      left join task_difficulty d on d.task_id = t.id
      left join task w on w.id = d.waits_on_task_id
      where {where}"""
    total = conn.execute(text(f"select count(*) {base}"), params).scalar_one()
    rows = conn.execute(
        text(
            f"""select t.id, t.external_id, t.program, t.group_no, t.phase, t.year, t.title,
                   t.lead_agency, t.start_date, t.deadline, t.completed_at, t.reason, t.proposal,
                   t.person_in_charge, t.product, t.authority, t.expected_at, t.office_status,
                   t.completed_at_bound,
                   s.status, (s.status = 'overdue' and t.reason is null) as missing_reason,
                   case when s.status = 'overdue' then cast(:as_of as date) - t.deadline
                        else 0 end as days_overdue,
                   d.category as difficulty, coalesce(d.suggested, false) as difficulty_suggested,
                   coalesce(w.external_id, d.waits_on_agency, d.waits_on_text) as waits_on
            {base} order by {order} limit :limit offset :offset"""
        ),
        params,
    ).mappings()
    out = [dict(r) | {"status_label_vi": STATUS_LABEL_VI[r["status"]]} for r in rows]
    return int(total), out


def history(
    conn: Connection, code: str, task: str | None, limit: int, offset: int
) -> tuple[int, list[dict]]:
    """(number matched, one page of task events) of a unit, newest first."""
    params = {"code": code, "task": task, "limit": limit, "offset": offset}
    where = """(t.unit_code = :code or t.agency_code = :code)
      and (cast(:task as text) is null or t.external_id = cast(:task as text))"""
    total = conn.execute(
        text(f"select count(*) from task_event e join task t on t.id = e.task_id where {where}"),
        params,
    ).scalar_one()
    rows = conn.execute(
        text(
            f"""select e.id, t.external_id as task_external_id, t.title as task_title,
                   e.at, e.actor, e.source, e.action, e.old, e.new
            from task_event e join task t on t.id = e.task_id
            where {where} order by e.at desc, e.id desc limit :limit offset :offset"""
        ),
        params,
    ).mappings()
    return int(total), [dict(r) for r in rows]


def indicators(conn: Connection) -> list[dict]:
    """Indicator definitions of units (province, commune) with the periods that have values,
    oldest first. The ``national`` ones (no unit to map or rank) are in the national
    summary (``geo/read/summary.py``)."""
    rows = conn.execute(
        text(
            """select i.code, i.name, i.name_en, i.unit, i.higher_is_better, i.level,
                  coalesce(array_agg(distinct v.period) filter (where v.period is not null),
                           '{}') as periods
               from indicator i left join indicator_value v on v.indicator_code = i.code
               where i.level <> 'national'
               group by i.code order by case i.level when 'province' then 0 else 1 end, i.code"""
        )
    ).mappings()
    out = []
    for r in rows:
        item = dict(r)
        item["periods"] = sorted(item["periods"])
        item["latest_period"] = item["periods"][-1] if item["periods"] else None
        out.append(item)
    return out


def indicator(conn: Connection, code: str) -> dict | None:
    """One indicator definition with its periods (None if unknown)."""
    return next((i for i in indicators(conn) if i["code"] == code), None)


def previous_period(periods: list[str], period: str) -> str | None:
    """The period before ``period`` of the same kind (quarter → quarter, year → year)."""
    kind = _QUARTER if _QUARTER.match(period) else _YEAR if _YEAR.match(period) else None
    same = sorted(p for p in periods if (kind.match(p) if kind else True) and p < period)
    return same[-1] if same else None


def indicator_values(
    conn: Connection,
    code: str,
    period: str,
    previous: str | None,
    level: str,
    province: str | None = None,
) -> list[dict]:
    """Values of one indicator at one level for a period, with the previous period's value
    and rank, the change and the rank change (positive = improved), best rank first."""
    rows = conn.execute(
        text(
            """select u.code, u.name, u.kind || ' ' || u.name as full_name,
                      u.parent_code as province_code, v.value, v.rank,
                      pv.value as previous_value, pv.rank as previous_rank
               from indicator_value v
               join admin_unit u on u.code = v.unit_code
               left join indicator_value pv on pv.indicator_code = v.indicator_code
                    and pv.unit_code = v.unit_code and pv.period = cast(:prev as text)
               where v.indicator_code = :code and v.period = :period and u.level = :level
                 and (cast(:province as text) is null
                      or u.parent_code = cast(:province as text)
                      or u.code = cast(:province as text))
               order by v.rank nulls last, u.code"""
        ),
        {"code": code, "period": period, "prev": previous, "level": level, "province": province},
    ).mappings()
    out = []
    for r in rows:
        item = dict(r)
        item["change"] = (
            round(r["value"] - r["previous_value"], 4) if r["previous_value"] is not None else None
        )
        item["rank_change"] = (
            r["previous_rank"] - r["rank"]
            if r["previous_rank"] is not None and r["rank"] is not None
            else None
        )
        out.append(item)
    return out


def unit_indicators(conn: Connection, code: str, period: str | None) -> list[dict]:
    """Every indicator of one unit for ``period`` (default: each indicator's latest with a
    value for this unit), with the previous period, change and rank of how many units."""
    defs = {i["code"]: i for i in indicators(conn)}
    rows = conn.execute(
        text(
            """select v.indicator_code, v.period, v.value, v.rank,
                      (select count(*) from indicator_value w join admin_unit wu
                         on wu.code = w.unit_code
                       where w.indicator_code = v.indicator_code and w.period = v.period
                         and w.rank is not null and wu.level = u.level) as rank_of
               from indicator_value v join admin_unit u on u.code = v.unit_code
               where v.unit_code = :code
                 and (cast(:period as text) is null or v.period = cast(:period as text))
               order by v.indicator_code, v.period desc"""
        ),
        {"code": code, "period": period},
    ).mappings()
    seen: dict[str, dict] = {}
    for r in rows:
        if r["indicator_code"] in seen:
            continue  # the latest period comes first
        seen[r["indicator_code"]] = dict(r)
    out = []
    for icode, cur in seen.items():
        d = defs.get(icode, {})
        prev = previous_period(d.get("periods", []), cur["period"])
        prow = None
        if prev:
            prow = (
                conn.execute(
                    text(
                        "select value, rank from indicator_value"
                        " where indicator_code = :i and unit_code = :u and period = :p"
                    ),
                    {"i": icode, "u": code, "p": prev},
                )
                .mappings()
                .first()
            )
        pv = prow["value"] if prow else None
        pr = prow["rank"] if prow else None
        out.append(
            {
                "code": icode,
                "name": d.get("name"),
                "name_en": d.get("name_en"),
                "unit": d.get("unit"),
                "higher_is_better": d.get("higher_is_better"),
                "period": cur["period"],
                "value": cur["value"],
                "rank": cur["rank"],
                "rank_of": int(cur["rank_of"]),
                "previous_period": prev,
                "previous_value": pv,
                "previous_rank": pr,
                "change": round(cur["value"] - pv, 4) if pv is not None else None,
                "rank_change": pr - cur["rank"]
                if pr is not None and cur["rank"] is not None
                else None,
            }
        )
    order = list(defs)
    out.sort(key=lambda i: order.index(i["code"]) if i["code"] in order else len(order))
    return out


def periods(conn: Connection, indicator: str) -> list[str]:
    """Periods that have values for an indicator, oldest first."""
    return list(
        conn.execute(
            text(
                "select distinct period from indicator_value where indicator_code = :c "
                "order by period"
            ),
            {"c": indicator},
        ).scalars()
    )


def indicator_value_map(
    conn: Connection, indicator: str, period: str, level: str, parent: str | None = None
) -> dict[str, float]:
    """Values of one indicator for one period at one level (optionally one province)."""
    rows = conn.execute(
        text(
            """select v.unit_code, v.value from indicator_value v
               join admin_unit u on u.code = v.unit_code
               where v.indicator_code = :c and v.period = :p and u.level = :level
                 and (cast(:parent as text) is null or u.parent_code = cast(:parent as text))"""
        ),
        {"c": indicator, "p": period, "level": level, "parent": parent},
    ).all()
    return {r.unit_code: float(r.value) for r in rows}


def is_province(conn: Connection, code: str) -> bool:
    """True when ``code`` is a province's."""
    return (
        conn.execute(
            text("select 1 from admin_unit where code = :c and level = 'province'"), {"c": code}
        ).first()
        is not None
    )


def level_provenance(conn: Connection, level: str) -> dict:
    """Sources and geometry qualities of a level's units (what a download says of itself)."""
    row = (
        conn.execute(
            text(
                "select string_agg(distinct source, '; ') as source,"
                " string_agg(distinct geometry_quality, ', ') as quality"
                " from admin_unit where level = :l"
            ),
            {"l": level},
        )
        .mappings()
        .one()
    )
    return dict(row)


def unit_wkb(conn: Connection, codes: list[str], band: str | None) -> dict[str, bytes]:
    """code → WKB of the units' geometry, at a simplified ``band`` when given."""
    band_join = (
        "left join unit_geometry_level l on l.unit_code = u.code and l.band = :band" if band else ""
    )
    geom = "coalesce(l.geom, u.geom)" if band else "u.geom"
    rows = conn.execute(
        text(
            f"select u.code, ST_AsBinary({geom}) from admin_unit u {band_join}"
            " where u.code = any(:codes)"
        ),
        {"codes": codes, "band": band},
    ).all()
    return {code: bytes(wkb) for code, wkb in rows}


def suggested_crs(conn: Connection, code: str) -> int | None:
    """The VN-2000 TM-3 zone (EPSG code) suggested for a unit: its province's (a commune's
    parent's) official zone (``geo.crs_names.official_tm3``: the meridian of the former
    province holding the seat), or for a province outside that table the zone nearest its
    centroid."""
    from geo.crs_names import nearest_tm3, official_tm3

    row = conn.execute(
        text(
            "select p.code, ST_X(ST_Centroid(p.geom)) from admin_unit u"
            " join admin_unit p on p.code = case when u.level = 'province' then u.code"
            " else u.parent_code end and p.level = 'province'"
            " where u.code = :code"
        ),
        {"code": code},
    ).first()
    if row is None:
        return None
    official = official_tm3(row[0])
    if official is not None:
        return official
    return None if row[1] is None else nearest_tm3(row[1])
