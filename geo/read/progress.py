"""Task status rules and the progress aggregates, computed in PostGIS.

The status rule (SQL function ``task_status``, created by migration 0001), for an
as-of date D:

- ``completed``       — completed on or before D, and on or before the deadline;
- ``completed_late``  — completed on or before D, after the deadline;
- ``overdue``         — not completed by D and the deadline is before D (red);
- ``on_time``         — not completed by D, deadline D or later (in progress, on time).

Which D: the caller's ``as_of``; when none is given, the data's *reporting date*
(``data_state.reporting_date``, 2025-11-13 for the demo), never the wall clock, so a
report reads the same tomorrow as today. Only with no reporting date at all do we fall
back to today in Asia/Ho_Chi_Minh.

Completion % = (completed + completed late) / total × 100, rounded to 2 decimals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STATUSES = ("completed", "completed_late", "on_time", "overdue")
KH02_GROUPS = 16


@dataclass(frozen=True)
class DataState:
    """The data version (changes on every import) and the reporting date."""

    version: int
    reporting_date: dt.date | None

    def default_as_of(self) -> dt.date:
        return self.reporting_date or dt.datetime.now(VN_TZ).date()


def data_state(conn: Connection) -> DataState:
    """Read the single ``data_state`` row."""
    row = conn.execute(text("select version, reporting_date from data_state where id = 1")).one()
    return DataState(version=int(row.version), reporting_date=row.reporting_date)


def slice_filter(alias: str = "", year: bool = True) -> str:
    """Which tasks a figure counts: the programme or a programme under it (KH02 counts its
    phases' tasks), and the deadline year, each NULL for all; bound as :program and (with
    ``year``) :year, on the task table as ``alias``. Why one function: every count, list,
    series and forecast must agree on what "a programme's tasks" are; copies had drifted."""
    t = f"{alias}." if alias else ""
    sql = (
        f"(cast(:program as text) is null or {t}program = cast(:program as text)"
        f" or {t}program in (select code from programme"
        " where parent_code = cast(:program as text)))"
    )
    if year:
        sql += f" and (cast(:year as int) is null or {t}year = cast(:year as int))"
    return sql


# The slice on an unaliased task table: the counts below, ``explain`` and the forecast.
SLICE_FILTER = slice_filter()

# The statuses each published task figure counts (``tasks_completed`` includes late ones).
MEASURE_STATUSES: dict[str, tuple[str, ...]] = {
    "tasks_completed": ("completed", "completed_late"),
    "tasks_completed_late": ("completed_late",),
    "tasks_overdue": ("overdue",),
    "tasks_on_time": ("on_time",),
    "tasks_in_progress": ("on_time", "overdue"),
    "tasks_total": STATUSES,
}


def unit_counts_sql(restrict: str | None = None) -> str:
    """Per-unit counts of tasks by derived status; ``restrict`` is an SQL fragment (a
    subquery of unit codes, from our own code, never user input) limiting the units.

    Bound parameters: :as_of, :program, :year (NULL = all). Units with no task get no
    row; callers left-join and coalesce."""
    unit_filter = f"unit_code in ({restrict}) and " if restrict else ""
    return f"""
select unit_code,
       count(*) as total,
       count(*) filter (where s = 'completed') as completed,
       count(*) filter (where s = 'completed_late') as completed_late,
       count(*) filter (where s = 'on_time') as on_time,
       count(*) filter (where s = 'overdue') as overdue,
       count(distinct group_no) filter (where s in ('completed', 'completed_late')) as groups_done
from (
  select unit_code, group_no, task_status(deadline, completed_at, cast(:as_of as date)) as s
  from task
  where {unit_filter}{SLICE_FILTER}
) t
group by unit_code"""


UNIT_COUNTS_SQL = unit_counts_sql()

# Plan 02 rollup per province: communes with all 16 task groups done by :as_of.
KH02_ROLLUP_SQL = f"""
select u.parent_code as province_code,
       count(*) as communes,
       count(*) filter (where coalesce(k.groups_done, 0) >= {KH02_GROUPS}) as communes_all_done,
       coalesce(sum(k.groups_done), 0) as groups_done,
       coalesce(sum(k.overdue), 0) as kh02_overdue
from admin_unit u
left join (
  select unit_code,
         count(distinct group_no) filter (where s in ('completed', 'completed_late'))
           as groups_done,
         count(*) filter (where s = 'overdue') as overdue
  from (
    select unit_code, group_no, task_status(deadline, completed_at, cast(:as_of as date)) as s
    from task where program = 'KH02'
  ) x
  group by unit_code
) k on k.unit_code = u.code
where u.level = 'commune'
group by u.parent_code
"""


def pct(done: int, total: int) -> float | None:
    """Completion percentage as published (2 decimals); None when there is nothing to do."""
    return round(100.0 * done / total, 2) if total else None


def national_summary(
    conn: Connection, as_of: dt.date, year: int | None, program: str = "NQ57"
) -> dict:
    """National totals of the provinces' programme tasks, and the Plan 02 commune rollup."""
    row = (
        conn.execute(
            text(
                f"""
            select coalesce(sum(total), 0) as total, coalesce(sum(completed), 0) as completed,
                   coalesce(sum(completed_late), 0) as completed_late,
                   coalesce(sum(on_time), 0) as on_time, coalesce(sum(overdue), 0) as overdue
            from ({UNIT_COUNTS_SQL}) c
            join admin_unit u on u.code = c.unit_code and u.level = 'province'
            """
            ),
            {"as_of": as_of, "program": program, "year": year},
        )
        .mappings()
        .one()
    )
    kh = (
        conn.execute(
            text(
                f"""select coalesce(sum(communes), 0) as communes,
                       coalesce(sum(communes_all_done), 0) as communes_all_done,
                       coalesce(sum(groups_done), 0) as groups_done,
                       coalesce(sum(kh02_overdue), 0) as overdue
                from ({KH02_ROLLUP_SQL}) r"""
            ),
            {"as_of": as_of},
        )
        .mappings()
        .one()
    )
    done = int(row["completed"]) + int(row["completed_late"])
    return {
        "program": program,
        "year": year,
        "tasks_total": int(row["total"]),
        "tasks_completed": done,
        "tasks_completed_late": int(row["completed_late"]),
        "tasks_in_progress": int(row["on_time"]) + int(row["overdue"]),
        "tasks_on_time": int(row["on_time"]),
        "tasks_overdue": int(row["overdue"]),
        "completion_pct": pct(done, int(row["total"])),
        "plan02": {
            "communes": int(kh["communes"]),
            "communes_all_groups_done": int(kh["communes_all_done"]),
            "groups_done": int(kh["groups_done"]),
            "groups_total": int(kh["communes"]) * KH02_GROUPS,
            "tasks_overdue": int(kh["overdue"]),
        },
    }


def province_kpis(
    conn: Connection, as_of: dt.date, year: int | None, program: str = "NQ57"
) -> list[dict]:
    """Per-province programme figures (no geometry), ordered by code."""
    rows = conn.execute(
        text(
            f"""
            select u.code, u.name, u.kind,
                   coalesce(c.total, 0) as total,
                   coalesce(c.completed, 0) + coalesce(c.completed_late, 0) as completed,
                   coalesce(c.overdue, 0) as overdue,
                   coalesce(r.communes, 0) as communes,
                   coalesce(r.communes_all_done, 0) as communes_all_done
            from admin_unit u
            left join ({UNIT_COUNTS_SQL}) c on c.unit_code = u.code
            left join ({KH02_ROLLUP_SQL}) r on r.province_code = u.code
            where u.level = 'province'
            order by u.code
            """
        ),
        {"as_of": as_of, "program": program, "year": year},
    ).mappings()
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "kind": r["kind"],
            "tasks_total": r["total"],
            "tasks_completed": r["completed"],
            "tasks_overdue": r["overdue"],
            "completion_pct": pct(r["completed"], r["total"]),
            "communes": r["communes"],
            "communes_all_groups_done": r["communes_all_done"],
        }
        for r in rows
    ]


# Per-agency counts of tasks by derived status (same rule, same parameters as above).
AGENCY_COUNTS_SQL = f"""
select agency_code,
       count(*) as total,
       count(*) filter (where s = 'completed') as completed,
       count(*) filter (where s = 'completed_late') as completed_late,
       count(*) filter (where s = 'on_time') as on_time,
       count(*) filter (where s = 'overdue') as overdue
from (
  select agency_code, task_status(deadline, completed_at, cast(:as_of as date)) as s
  from task
  where agency_code is not null and {SLICE_FILTER}
) t
group by agency_code"""


def _block(total: int, done: int, late: int, on_time: int, overdue: int) -> dict:
    """One level's task figures, in the summary's field names."""
    return {
        "tasks_total": total,
        "tasks_completed": done,
        "tasks_completed_late": late,
        "tasks_in_progress": on_time + overdue,
        "tasks_on_time": on_time,
        "tasks_overdue": overdue,
        "completion_pct": pct(done, total),
    }


def agency_kpis(
    conn: Connection, as_of: dt.date, year: int | None, program: str | None = "NQ57"
) -> list[dict]:
    """Every agency's figures, most overdue first (the wall's ranking), then by code order."""
    rows = conn.execute(
        text(
            f"""
            select a.code, a.name, a.name_en, a.kind,
                   coalesce(c.total, 0) as total,
                   coalesce(c.completed, 0) + coalesce(c.completed_late, 0) as done,
                   coalesce(c.completed_late, 0) as late,
                   coalesce(c.on_time, 0) as on_time, coalesce(c.overdue, 0) as overdue
            from agency a left join ({AGENCY_COUNTS_SQL}) c on c.agency_code = a.code
            order by coalesce(c.overdue, 0) desc, a.sort_order
            """
        ),
        {"as_of": as_of, "program": program, "year": year},
    ).mappings()
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "name_en": r["name_en"],
            "kind": r["kind"],
            **_block(r["total"], r["done"], r["late"], r["on_time"], r["overdue"]),
        }
        for r in rows
    ]


def central_summary(agencies: list[dict]) -> dict:
    """The central level's block of the national summary, from ``agency_kpis`` rows."""
    sums = {
        k: sum(a[k] for a in agencies)
        for k in ("tasks_total", "tasks_completed", "tasks_completed_late", "tasks_on_time",
                  "tasks_overdue")
    }  # fmt: skip
    return {
        "agencies": len(agencies),
        **_block(
            sums["tasks_total"],
            sums["tasks_completed"],
            sums["tasks_completed_late"],
            sums["tasks_on_time"],
            sums["tasks_overdue"],
        ),
    }


def combined_total(provinces: dict, central: dict) -> dict:
    """Central level and provinces together (the national summary's ``total``)."""
    keys = ("tasks_total", "tasks_completed", "tasks_completed_late", "tasks_on_time",
            "tasks_overdue")  # fmt: skip
    s = {k: int(provinces[k]) + int(central[k]) for k in keys}
    return _block(
        s["tasks_total"],
        s["tasks_completed"],
        s["tasks_completed_late"],
        s["tasks_on_time"],
        s["tasks_overdue"],
    )
