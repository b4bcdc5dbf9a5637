"""Will a unit make its deadline at its current pace? Replayed from the task history.

Why from the history (``geo/read/series.py``, the same replay as the weekly series): a
forecast "as of" a past date must see only what was recorded by then — that is what the
backtest (``iocmap forecast backtest``) relies on to keep the forecast honest.

For a unit, a programme, an as-of date A and a deadline D:

- ``open_due``        — tasks due on or before D and not completed by A (overdue ones too);
- ``pace_per_week``   — completions per week over the last ``WINDOW_WEEKS`` seven-day
  weeks ending on A (the weekly steps of the unit's series), the highest and the lowest week
  dropped before averaging (a trimmed mean: one quiet week, or one burst before a
  reporting date, does not swing it); any task of the programme counts, whatever its
  deadline: the pace is what the unit gets done;
- ``backlog``         — the open tasks already at or past their own deadline on A (they
  will be late whatever happens); ``late_pace_per_week`` — late completions per week,
  the same trimmed mean: the pace the unit has been clearing late work at;
- ``needed_per_week`` — ``open_due`` / weeks left until D (None once D ≤ A);
- weeks to clear (``weeks_to_clear``) — the backlog at the late pace and the rest at the
  pace, side by side (the larger; infinite when a part has no pace). Why apart: in the
  backtest, tasks left open at their deadline mostly stayed open while the pace of the
  tasks finished in time said they would clear;
- ``expected_completion`` — A + weeks to clear (None when infinite or nothing is open);
- ``due_soon`` ("sắp đến hạn") — tasks due after A and within ``DUE_SOON_DAYS`` days, not done.

With no backlog, weeks to clear ≤ weeks left is exactly pace ≥ needed. The class, the one
rule (first match wins):

============== ===========================================================================
class          when
============== ===========================================================================
``no_history`` no task of the programme recorded by A, or the first one recorded less than
               ``MIN_HISTORY_DAYS`` days before A while tasks are open (no pace to measure)
``done``       nothing due by D is open (``open_due`` = 0)
``will_miss``  D ≤ A with tasks open, or weeks to clear > weeks left / ``AT_RISK_SHARE``
               (infinite included)
``at_risk``    weeks left < weeks to clear ≤ weeks left / ``AT_RISK_SHARE`` (a modest
               speed-up makes it)
``on_track``   weeks to clear ≤ weeks left
============== ===========================================================================

Which tasks: a province counts its own tasks and its communes' (Plan 02 is held by the
communes and reported per province), a commune its own, an agency its own. Deadlines:
31 December of A's year (every task due this year), or a target's due date when the unit
has a target on the programme (``all_green`` on ``KH02-2`` → KH02 by 15 December), or the
caller's ``deadline``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.read.progress import SLICE_FILTER
from geo.read.series import history_ctes

LEVELS = ("province", "commune", "agency")
CLASSES = ("on_track", "at_risk", "will_miss", "done", "no_history")
WINDOW_WEEKS = 8
MIN_HISTORY_DAYS = 14
AT_RISK_SHARE = 0.75
DUE_SOON_DAYS = 14
# the rule's parameters, returned with every forecast so a reader sees what was applied
RULE = {
    "window_weeks": WINDOW_WEEKS,
    "pace": "trimmed mean of weekly completions (highest and lowest week dropped)",
    "min_history_days": MIN_HISTORY_DAYS,
    "at_risk_share": AT_RISK_SHARE,
    "due_soon_days": DUE_SOON_DAYS,
}
DEFAULT_PROGRAMME = {"province": "NQ57", "commune": "KH02", "agency": "NQ57"}

# holder of each task per level (SQL from our own code): the unit the forecast counts it for
_HOLDERS = {
    "province": """select t.id as task_id,
                          case when u.level = 'province' then u.code else u.parent_code end
                            as unit
                   from task t join admin_unit u on u.code = t.unit_code""",
    "commune": """select t.id as task_id, t.unit_code as unit
                  from task t join admin_unit u on u.code = t.unit_code
                  where u.level = 'commune'""",
    "agency": "select t.id as task_id, t.agency_code as unit from task t"
    " where t.agency_code is not null",
}
_UNITS = {
    "province": "select code, name from admin_unit where level = 'province'",
    "commune": "select code, name from admin_unit where level = 'commune'",
    "agency": "select code, name from agency",
}


def _forecast_sql(level: str) -> str:
    holders = _HOLDERS[level]
    return f"""
with holders as (
  select * from ({holders}) h
  where (cast(:code as text) is null or h.unit = cast(:code as text))
    and (cast(:parent as text) is null
         or h.unit in (select code from admin_unit where parent_code = cast(:parent as text)))
    -- the programme's tasks first: the replay then reads their events alone (the province
    -- level holds every task; reading all their events was 0.3 s of a 0.4 s query)
    and h.task_id in (select id from task where {SLICE_FILTER})
),
{history_ctes("t.id in (select task_id from holders)")},
own as (  -- units whose deadline is a target's due date; the rest take :deadline
  select o.unit, o.due
  from unnest(cast(:own_units as text[]), cast(:own_dues as date[])) as o(unit, due)
),
at_day as (
  select h.unit, p.day, s.deadline, s.completed_at,
         coalesce(o.due, cast(:deadline as date)) as due
  from days p
  join states s on s.at < p.bound and (s.until is null or s.until >= p.bound)
  join holders h on h.task_id = s.task_id
  left join own o on o.unit = h.unit
  where s.gd > 0
),
firsts as (
  select h.unit, min(e.at) as first_recorded
  from ev e join holders h on h.task_id = e.task_id group by h.unit
)
select a.unit, a.day,
       count(*) as total,
       count(*) filter (where completed_at <= day) as done,
       count(*) filter (where deadline <= due
                          and (completed_at is null or completed_at > day)) as open_due,
       count(*) filter (where deadline <= least(day, due)
                          and (completed_at is null or completed_at > day)) as backlog,
       count(*) filter (where completed_at <= day and completed_at > deadline) as done_late,
       count(*) filter (where deadline > day and deadline <= day + {DUE_SOON_DAYS}
                          and (completed_at is null or completed_at > day)) as due_soon,
       min(f.first_recorded) as first_recorded
from at_day a join firsts f on f.unit = a.unit
group by a.unit, a.day"""


@dataclass(frozen=True)
class Forecast:
    """One unit's forecast for one programme and deadline."""

    code: str
    programme: str
    deadline: dt.date
    cls: str
    open_due: int
    pace_per_week: float | None
    needed_per_week: float | None
    expected_completion: dt.date | None
    due_soon: int
    tasks_total: int
    tasks_done: int
    weekly: tuple[int, ...]
    backlog: int = 0
    late_pace_per_week: float | None = None

    def body(self) -> dict:
        return {
            "code": self.code,
            "programme": self.programme,
            "deadline": self.deadline.isoformat(),
            "class": self.cls,
            "open_due": self.open_due,
            "pace_per_week": self.pace_per_week,
            "needed_per_week": self.needed_per_week,
            "expected_completion": (
                self.expected_completion.isoformat() if self.expected_completion else None
            ),
            "due_soon": self.due_soon,
            "tasks_total": self.tasks_total,
            "tasks_completed": self.tasks_done,
            "weekly_completions": list(self.weekly),
            "backlog": self.backlog,
            "late_pace_per_week": self.late_pace_per_week,
        }


def window_days(as_of: dt.date) -> list[dt.date]:
    """A and the ends of the ``WINDOW_WEEKS`` weeks before it, oldest first."""
    return [as_of - dt.timedelta(days=7 * k) for k in range(WINDOW_WEEKS, -1, -1)]


def pace(weekly: list[int]) -> float:
    """Trimmed mean of the weekly completions: the highest and lowest week dropped."""
    if not weekly:
        return 0.0
    kept = sorted(weekly)[1:-1] if len(weekly) > 2 else weekly
    return round(sum(kept) / len(kept), 2)


def weeks_to_clear(backlog: int, rest: int, late: float | None, pace_: float | None) -> float:
    """Weeks to clear the open tasks: the backlog (already at or past its deadline) at the
    late pace, the rest at the overall pace, side by side (inf when a part has no pace)."""
    parts = [0.0]
    for n, speed in ((backlog, late), (rest, pace_)):
        if n:
            parts.append(n / speed if speed else math.inf)
    return max(parts)


def classify(open_due: int, weeks: float, weeks_left: float, has_history: bool) -> str:
    """The class (the module docstring's table, in that order); ``weeks`` from
    ``weeks_to_clear``, ``weeks_left`` until the deadline."""
    if not has_history:
        return "no_history"
    if open_due == 0:
        return "done"
    if weeks_left <= 0 or weeks > weeks_left / AT_RISK_SHARE:
        return "will_miss"
    return "on_track" if weeks <= weeks_left else "at_risk"


def _one(code, programme, as_of, deadline, rows: dict[dt.date, dict]) -> Forecast:
    days = window_days(as_of)
    now = rows.get(as_of)
    if now is None:  # nothing recorded by A
        return Forecast(code, programme, deadline, "no_history", 0, None, None, None, 0, 0, 0, ())

    def weekly_of(col: str) -> list[int]:
        got = [int(rows[d][col]) if d in rows else 0 for d in days]
        return [max(b - a, 0) for a, b in zip(got, got[1:], strict=False)]

    weekly, weekly_late = weekly_of("done"), weekly_of("done_late")
    first = rows[as_of]["first_recorded"]
    open_due = int(now["open_due"])
    age = (as_of - first.date()).days if first is not None else 0
    history = age >= MIN_HISTORY_DAYS or open_due == 0
    # only the weeks the unit had tasks recorded count towards its pace
    span = max(1, min(WINDOW_WEEKS, age // 7))
    speed = pace(weekly[-span:]) if history else None
    late = pace(weekly_late[-span:]) if history else None
    backlog = int(now["backlog"])
    weeks = weeks_to_clear(backlog, open_due - backlog, late, speed)
    weeks_left = (deadline - as_of).days / 7
    needed = round(open_due / weeks_left, 2) if weeks_left > 0 else None
    expected = None
    if open_due and weeks < math.inf:
        expected = as_of + dt.timedelta(days=math.ceil(7 * weeks))
    return Forecast(
        code=code,
        programme=programme,
        deadline=deadline,
        cls=classify(open_due, weeks, weeks_left, history),
        open_due=open_due,
        pace_per_week=speed,
        needed_per_week=needed,
        expected_completion=expected,
        due_soon=int(now["due_soon"]),
        tasks_total=int(now["total"]),
        tasks_done=int(now["done"]),
        weekly=tuple(weekly),
        backlog=backlog,
        late_pace_per_week=late,
    )


def year_end(as_of: dt.date) -> dt.date:
    return dt.date(as_of.year, 12, 31)


def target_deadlines(conn: Connection, programme: str, as_of: dt.date) -> dict[str, dt.date]:
    """Units with a target on ``programme`` (its code or a phase such as ``KH02-2``) due
    after ``as_of``: unit → the earliest such due date."""
    rows = conn.execute(
        text(
            "select unit_code, min(due) from target"
            " where kind in ('all_green', 'completion_min') and due > :a"
            " and (subject = :p or subject like :p || '-%') group by unit_code"
        ),
        {"p": programme, "a": as_of},
    ).all()
    return {r[0]: r[1] for r in rows}


def forecasts(
    conn: Connection,
    level: str,
    programme: str,
    as_of: dt.date,
    deadline: dt.date | None = None,
    code: str | None = None,
    parent: str | None = None,
) -> list[Forecast]:
    """Every unit of ``level`` (or just ``code``, or the communes of province ``parent``: a
    province page needs its ~100, not the country's 3,321), ordered by code. With no
    ``deadline``, each unit's own: a target's due date on the programme, else 31 December of
    A's year."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    own = {} if deadline is not None else target_deadlines(conn, programme, as_of)
    default = deadline or year_end(as_of)
    units = conn.execute(
        text(f"select code from ({_UNITS[level]}) u"
             " where (cast(:c as text) is null or code = cast(:c as text))"
             " and (cast(:p as text) is null or code in"
             "      (select code from admin_unit where parent_code = cast(:p as text)))"
             " order by code"),
        {"c": code, "p": parent},
    ).scalars().all()  # fmt: skip
    # one replay for every unit, each counted against its own deadline (one query per
    # distinct deadline replayed the whole history again for each)
    rows = conn.execute(
        text(_forecast_sql(level)),
        {"days": window_days(as_of), "program": programme, "year": None,
         "deadline": default, "own_units": list(own), "own_dues": list(own.values()),
         "code": code, "parent": parent},
    ).mappings()  # fmt: skip
    got: dict[str, dict[dt.date, dict]] = {}
    for r in rows:
        got.setdefault(r["unit"], {})[r["day"]] = dict(r)
    return [
        _one(unit, programme, as_of, own.get(unit, default), got.get(unit, {})) for unit in units
    ]


def due_soon_tasks(conn: Connection, level: str, code: str, as_of: dt.date, limit: int) -> list:
    """Sắp đến hạn ("due soon"): the unit's tasks due within ``DUE_SOON_DAYS`` days after
    ``as_of`` and not done by then (today's task rows), soonest first, at most ``limit``."""
    holders = _HOLDERS[level]
    rows = conn.execute(
        text(
            f"""select t.external_id, t.program, t.title, t.deadline, t.unit_code,
                       t.agency_code
                from ({holders}) h join task t on t.id = h.task_id
                where h.unit = :c and t.deadline > :a and t.deadline <= :a + {DUE_SOON_DAYS}
                  and (t.completed_at is null or t.completed_at > :a)
                order by t.deadline, t.external_id limit :n"""
        ),
        {"c": code, "a": as_of, "n": limit},
    ).mappings()
    return [{**r, "deadline": r["deadline"].isoformat()} for r in rows]


def programme_known(conn: Connection, programme: str) -> bool:
    """Whether any task belongs to ``programme``."""
    return bool(
        conn.execute(
            text("select exists (select 1 from task where program = :p)"), {"p": programme}
        ).scalar()
    )


def unit_names(conn: Connection, level: str) -> dict[str, str]:
    return dict(conn.execute(text(_UNITS[level])).all())


def find_unit(conn: Connection, code: str) -> dict | None:
    """A province, commune or agency by code (agencies: case-insensitive), with its level."""
    row = conn.execute(
        text(
            "select code, name, level from admin_unit where code = :c"
            " union all select code, name, 'agency' from agency where code = upper(:c)"
        ),
        {"c": code},
    ).mappings().first()  # fmt: skip
    return dict(row) if row else None


def unit_programmes(conn: Connection, level: str, code: str) -> list[str]:
    """The programmes of the tasks the unit holds at ``level`` (sorted)."""
    rows = conn.execute(
        text(
            f"select distinct t.program from ({_HOLDERS[level]}) h join task t on t.id = h.task_id"
            " where h.unit = :c order by 1"
        ),
        {"c": code},
    ).scalars()
    return list(rows) or [DEFAULT_PROGRAMME[level]]
