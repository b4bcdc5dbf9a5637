"""Data health per unit ("đúng, đủ, sạch, sống"): is the unit reporting, are its sheets
complete, are its indicator values there. Derived on read, never stored.

- **last report**: the time of the last committed import (``import_run``) that named the
  unit — its tasks or its indicator values (``import_run_unit``); a province counts the
  sheets about its communes too. A sheet re-sent unchanged is a report all the same.
- **days since**: from that day (Asia/Ho_Chi_Minh) to the as-of date — the data's
  reporting date by default, as everywhere else, so a report reads the same tomorrow;
  never negative.
- **complete tasks**: share of the unit's tasks with every field a report must give
  (``REPORT_FIELDS``); a province's include its communes'.
- **missing values**: indicators of the unit's level without a value in that indicator's
  latest period.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from geo.read.progress import VN_TZ, pct

REPORT_FIELDS = ("title", "lead_agency", "start_date", "deadline")
LEVELS = ("province", "commune", "agency")
SORTS = ("days_since", "-days_since", "complete_pct", "-complete_pct", "code", "missing")
_COMPLETE = " and ".join(f"t.{f} is not null" for f in REPORT_FIELDS)


def _unit_sql(level: str) -> str:
    """One level's rows; with :code the aggregates read only that unit's rows (a panel
    asks for one unit, and must not pay for 3,321)."""
    owner = "case when x.level = 'commune' then x.parent_code else x.code end"
    mine = "(x.code = cast(:code as text) or x.parent_code = cast(:code as text))"
    if level == "commune":
        owner = "x.code"
        mine = "x.code = cast(:code as text)"
    only = f"(cast(:code as text) is null or {mine})"
    return f"""
select u.code, u.name, u.kind, u.level, rep.last_at,
       coalesce(tk.tasks, 0) as tasks, coalesce(tk.complete, 0) as complete,
       coalesce(mi.missing, '{{}}') as missing, coalesce(mi.expected, 0) as expected
from admin_unit u
left join (
  select {owner} as code, max(i.at) as last_at
  from import_run_unit r
  join import_run i on i.id = r.import_run_id and i.kind in ('tasks', 'indicators')
  join admin_unit x on x.code = r.unit_code
  where {only}
  group by 1
) rep on rep.code = u.code
left join (
  select {owner} as code, count(*) as tasks, count(*) filter (where {_COMPLETE}) as complete
  from task t join admin_unit x on x.code = t.unit_code
  where {only}
  group by 1
) tk on tk.code = u.code
left join (
  select w.code, count(*) as expected,
         coalesce(array_agg(li.code order by li.code) filter (where v.id is null), '{{}}')
           as missing
  from admin_unit w
  cross join (
    select v.indicator_code as code, max(v.period) as period
    from indicator_value v join indicator d on d.code = v.indicator_code
    where d.level in (:level, 'both')
    group by v.indicator_code
  ) li
  left join indicator_value v
    on v.indicator_code = li.code and v.unit_code = w.code and v.period = li.period
  where w.level = :level and (cast(:code as text) is null or w.code = cast(:code as text))
  group by w.code
) mi on mi.code = u.code
where u.level = :level and (cast(:code as text) is null or u.code = cast(:code as text))
"""


_AGENCY_SQL = f"""
select a.code, a.name, a.kind, 'agency' as level, rep.last_at,
       coalesce(tk.tasks, 0) as tasks, coalesce(tk.complete, 0) as complete,
       cast('{{}}' as text[]) as missing, 0 as expected
from agency a
left join (
  select r.unit_code as code, max(i.at) as last_at
  from import_run_unit r
  join import_run i on i.id = r.import_run_id and i.kind in ('tasks', 'indicators')
  group by 1
) rep on rep.code = a.code
left join (
  select t.agency_code as code, count(*) as tasks,
         count(*) filter (where {_COMPLETE}) as complete
  from task t where t.agency_code is not null group by 1
) tk on tk.code = a.code
where (cast(:code as text) is null or a.code = cast(:code as text))
"""


def data_health(
    conn: Connection,
    level: str,
    as_of: dt.date,
    stale_days: int,
    code: str | None = None,
) -> list[dict]:
    """Every unit of ``level`` (or the one ``code``), unsorted; see the module docstring."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    sql = _AGENCY_SQL if level == "agency" else _unit_sql(level)
    rows = conn.execute(text(sql), {"level": level, "code": code}).mappings()
    out = []
    for r in rows:
        last = r["last_at"]
        day = last.astimezone(VN_TZ).date() if last else None
        days = max((as_of - day).days, 0) if day else None
        out.append(
            {
                "code": r["code"],
                "name": r["name"],
                "kind": r["kind"],
                "level": r["level"],
                "last_report_at": last.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
                if last
                else None,
                "last_report_date": day.isoformat() if day else None,
                "days_since_report": days,
                "stale": days is None or days > stale_days,
                "tasks": int(r["tasks"]),
                "tasks_complete": int(r["complete"]),
                "complete_pct": pct(int(r["complete"]), int(r["tasks"])),
                "indicators_expected": int(r["expected"]),
                "values_missing": list(r["missing"]),
            }
        )
    return out


def sort_health(rows: list[dict], sort: str) -> list[dict]:
    """Order rows: by days since the last report (never reported counts as the longest),
    by completeness, by missing values, or by code; ties by code."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    key = sort.lstrip("-")
    desc = sort.startswith("-") or key == "missing"

    def value(r: dict) -> float:
        if key == "days_since":
            return float("inf") if r["days_since_report"] is None else r["days_since_report"]
        if key == "complete_pct":
            return -1.0 if r["complete_pct"] is None else r["complete_pct"]
        if key == "missing":
            return len(r["values_missing"])
        return 0.0

    ordered = sorted(rows, key=lambda r: r["code"])
    if key == "code":
        return ordered[::-1] if desc else ordered
    return sorted(ordered, key=value, reverse=desc)


def last_report_dates(conn: Connection) -> dict[str, str]:
    """Province code → day (Asia/Ho_Chi_Minh) of its last report, its communes' included:
    the summary's per-province ``data_as_of`` (only the dates, not the whole health)."""
    rows = conn.execute(
        text(
            """select coalesce(x.parent_code, x.code) as code, max(i.at) as last_at
               from import_run_unit r
               join import_run i on i.id = r.import_run_id and i.kind in ('tasks', 'indicators')
               join admin_unit x on x.code = r.unit_code
               group by 1"""
        )
    )
    return {r.code: r.last_at.astimezone(VN_TZ).date().isoformat() for r in rows}
