"""Progress over time, replayed in PostGIS from the task history (``task_event``).

Why from the history and not from today's task rows: a series must show what the
figures *were* on each date — the deadline and completion date as recorded by then —
so a completion entered in June does not move May's point. For each task the state in
force at the end of a day D (Asia/Ho_Chi_Minh) is the last ``create``/``update`` event
recorded before D + 1 00:00; every field is the value of the latest event that set it
(update events carry only the fields they change). The status on D is then the same SQL
function ``task_status`` the as-of figures use (``geo/read/progress.py``), so when the
history agrees with the task rows a point equals the as-of figures of that date.

Which tasks: the same slices as the as-of figures — nationally the provinces' own
programme tasks, for a province its own tasks (default programme NQ57), for a commune
its tasks (default KH02); ``program``/``year`` filter the task rows as elsewhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.read.progress import pct, slice_filter

STEPS = ("week", "month", "quarter")
MAX_POINTS = 400


@dataclass(frozen=True)
class Point:
    """One step of a series: its label, first day, and the day its figures are taken."""

    period: str
    start: dt.date
    day: dt.date


def quarter_of(day: dt.date) -> int:
    return (day.month - 1) // 3 + 1


def _period_end(start: dt.date, step: str) -> dt.date:
    if step == "week":
        return start + dt.timedelta(days=6)
    months = 1 if step == "month" else 3
    month = start.month - 1 + months
    first_next = dt.date(start.year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _period_start(day: dt.date, step: str) -> dt.date:
    if step == "week":
        return day - dt.timedelta(days=day.weekday())  # ISO weeks start on Monday
    if step == "month":
        return day.replace(day=1)
    return dt.date(day.year, 3 * (quarter_of(day) - 1) + 1, 1)


def _label(start: dt.date, step: str) -> str:
    if step == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if step == "month":
        return f"{start:%Y-%m}"
    return f"{start.year}-Q{quarter_of(start)}"


def points(start: dt.date, end: dt.date, step: str, limit: dt.date) -> list[Point]:
    """The steps covering [start, end]: each taken at its last day, or at ``end`` or
    ``limit`` (the data's reporting date: nothing is recorded after it) if earlier.

    Raises ``ValueError`` for an unknown step or more than ``MAX_POINTS`` steps."""
    if step not in STEPS:
        raise ValueError(f"step must be one of {', '.join(STEPS)}")
    last = min(end, limit)
    out: list[Point] = []
    cursor = _period_start(start, step)
    while cursor <= last:
        if len(out) >= MAX_POINTS:
            raise ValueError(f"more than {MAX_POINTS} {step}s; narrow from/to or use a longer step")
        day = min(_period_end(cursor, step), last)
        out.append(Point(_label(cursor, step), max(cursor, start), day))
        cursor = _period_end(cursor, step) + dt.timedelta(days=1)
    return out


def previous_quarter_end(day: dt.date) -> dt.date:
    """The last day of the quarter before the one ``day`` falls in."""
    return _period_start(day, "quarter") - dt.timedelta(days=1)


def _scope_sql(scope: str) -> str:
    if scope == "national":
        return "t.unit_code in (select code from admin_unit where level = 'province')"
    if scope == "subtree":  # a province with its communes (Plan 02 counted per province)
        return "t.unit_code in (select code from admin_unit where :code in (code, parent_code))"
    return "t.unit_code = :code"


def history_ctes(where: str) -> str:
    """The replay, as CTEs ``days``, ``ev``, ``grouped``, ``states``: each task's state
    (``deadline``, ``completed_at``) in force from ``at`` until ``until``, for the tasks
    matching ``where`` (an SQL fragment on ``task t`` from our own code, never user input).
    Bound: :days (date[]), :program, :year (NULL = all). Shared by the series and the
    forecast (``geo/read/forecast.py``) so both replay the history the same way."""
    return f"""
days as (
  select d as day, (d + 1)::timestamp at time zone 'Asia/Ho_Chi_Minh' as bound
  from unnest(cast(:days as date[])) as d
),
ev as (
  select e.task_id, e.at, e.id,
         e.new ? 'deadline' as has_d, e.new ->> 'deadline' as d,
         e.new ? 'completed_at' as has_c, e.new ->> 'completed_at' as c
  from task_event e
  join task t on t.id = e.task_id
  where {where}
    and {slice_filter("t")}
    and e.at < (select max(bound) from days)
),
grouped as (
  select task_id, at, id, d, c, has_d, has_c,
         count(*) filter (where has_d) over w as gd,
         count(*) filter (where has_c) over w as gc,
         lead(at) over w as until
  from ev
  window w as (partition by task_id order by at, id)
),
states as (
  select task_id, at, until,
         cast(first_value(d) over (partition by task_id, gd order by at, id) as date)
           as deadline,
         cast(first_value(c) over (partition by task_id, gc order by at, id) as date)
           as completed_at,
         gd
  from grouped
)"""


def series_sql(scope: str) -> str:
    """Counts by status at each of the days in ``:days`` (a date[]); ``scope`` is
    ``national`` or ``unit`` (bound :code). Bound: :program, :year (NULL = all)."""
    return f"""
with {history_ctes(_scope_sql(scope))},
statuses as (
  select p.day, task_status(s.deadline, s.completed_at, p.day) as st
  from days p
  join states s on s.at < p.bound and (s.until is null or s.until >= p.bound)
  where s.gd > 0
)
select p.day,
       count(x.st) as total,
       count(*) filter (where x.st = 'completed') as completed,
       count(*) filter (where x.st = 'completed_late') as completed_late,
       count(*) filter (where x.st = 'on_time') as on_time,
       count(*) filter (where x.st = 'overdue') as overdue
from days p
left join statuses x on x.day = p.day
group by p.day
order by p.day"""


def figures(row) -> dict:
    """Counts → the published shape (completed includes completed late, as the summary)."""
    done = int(row["completed"]) + int(row["completed_late"])
    total = int(row["total"])
    return {
        "tasks_total": total,
        "tasks_completed": done,
        "tasks_completed_late": int(row["completed_late"]),
        "tasks_on_time": int(row["on_time"]),
        "tasks_overdue": int(row["overdue"]),
        "tasks_in_progress": int(row["on_time"]) + int(row["overdue"]),
        "completion_pct": pct(done, total),
    }


def figures_at(
    conn: Connection,
    days: list[dt.date],
    program: str | None,
    year: int | None,
    code: str | None = None,
    subtree: bool = False,
) -> dict[dt.date, dict]:
    """Figures per day from the history: national when ``code`` is None, else the unit's
    (with its communes' tasks when ``subtree``)."""
    if not days:
        return {}
    scope = "national" if code is None else "subtree" if subtree else "unit"
    rows = conn.execute(
        text(series_sql(scope)),
        {"days": sorted(set(days)), "program": program, "year": year, "code": code},
    ).mappings()
    return {r["day"]: figures(r) for r in rows}


def change(now: dict, before: dict, since: dt.date) -> dict:
    """Completed ±, overdue ±, completion % ± of ``now`` against ``before``."""
    a, b = now.get("completion_pct"), before.get("completion_pct")
    return {
        "since": since.isoformat(),
        "tasks_completed": now["tasks_completed"] - before["tasks_completed"],
        "tasks_overdue": now["tasks_overdue"] - before["tasks_overdue"],
        "completion_pct": round(a - b, 2) if a is not None and b is not None else None,
    }


def changes(
    conn: Connection, day: dt.date, program: str | None, year: int | None, code: str | None = None
) -> dict:
    """ "Change since the previous period": against the end of the previous quarter and
    against the same day a week before, both from the history."""
    quarter, week = previous_quarter_end(day), day - dt.timedelta(days=7)
    got = figures_at(conn, [day, quarter, week], program, year, code)
    return {
        "previous_quarter": change(got[day], got[quarter], quarter),
        "previous_week": change(got[day], got[week], week),
    }
