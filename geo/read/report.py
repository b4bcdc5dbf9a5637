"""What the steering committee's periodic report says, read in one place.

The figures are the API's: the national and provincial ones are ``national_figures`` (the
body of ``GET /api/v1/summary``) on the as-of date and on the last day of the previous
period, so every figure in the report equals the API's for the same date; the change
columns are the difference of the two. The rest is read by the modules the API uses:
targets (``geo/read/targets.py``), the forecast's "will miss" list (``geo/read/forecast.py``),
data health (``geo/read/health.py``). Only the reasons and proposals the slowest units
stated, and the per-unit counts of overdue tasks without a reason, are read here.

Periods: a quarter ``2025-Q3`` or a month ``2025-09``; the as-of date defaults to the
period's last day; the previous period is the quarter (month) before.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.errors import BadInput
from geo.read.forecast import forecasts
from geo.read.health import data_health
from geo.read.progress import agency_kpis, pct, unit_counts_sql
from geo.read.series import figures_at
from geo.read.silence import silent_holders
from geo.read.summary import national_figures
from geo.read.targets import targets

SLOWEST = 5
REASONS_PER_UNIT = 3
_PERIOD = re.compile(r"^(\d{4})-(?:Q([1-4])|(0[1-9]|1[0-2]))$")


@dataclass(frozen=True)
class Period:
    """A reporting period: its label, first and last day, and the previous period."""

    label: str
    start: dt.date
    end: dt.date
    previous: str
    previous_end: dt.date

    def day(self, as_of: dt.date | None) -> dt.date:
        """The day the figures are taken: ``as_of`` when given, else the period's end."""
        return as_of if as_of is not None else self.end

    @property
    def words(self) -> str:
        """ "quý III năm 2025", "tháng 9 năm 2025"."""
        if "-Q" in self.label:
            q = int(self.label[-1])
            return f"quý {('I', 'II', 'III', 'IV')[q - 1]} năm {self.start.year}"
        return f"tháng {self.start.month} năm {self.start.year}"


def _month_end(year: int, month: int) -> dt.date:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def parse_period(value: str) -> Period:
    """``2025-Q3`` or ``2025-09`` (years 2000–2100); BadInput naming ``period`` otherwise."""
    m = _PERIOD.match(value or "")
    if not m or not 2000 <= int(m.group(1)) <= 2100:
        raise BadInput(
            f"kỳ báo cáo '{value[:20]}' không hợp lệ: dùng dạng 2025-Q3 (quý) hoặc 2025-09"
            f" (tháng) / period must look like 2025-Q3 or 2025-09",
            field="period",
        )
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        start = dt.date(year, 3 * q - 2, 1)
        end = _month_end(year, 3 * q)
        prev = f"{year}-Q{q - 1}" if q > 1 else f"{year - 1}-Q4"
    else:
        month = int(m.group(3))
        start, end = dt.date(year, month, 1), _month_end(year, month)
        prev = f"{year}-{month - 1:02d}" if month > 1 else f"{year - 1}-12"
    return Period(value, start, end, prev, start - dt.timedelta(days=1))


def last_complete_quarter(today: dt.date) -> str:
    """The last quarter that ended before ``today``: what the scheduled run writes."""
    q = (today.month - 1) // 3  # quarters wholly before this one in the year
    return f"{today.year}-Q{q}" if q else f"{today.year - 1}-Q4"


def _delta(now: dict, before: dict) -> dict:
    a, b = now.get("completion_pct"), before.get("completion_pct")
    return {
        "tasks_completed": now["tasks_completed"] - before["tasks_completed"],
        "tasks_overdue": now["tasks_overdue"] - before["tasks_overdue"],
        "completion_pct": round(a - b, 2) if a is not None and b is not None else None,
    }


def stated_reasons(conn: Connection, codes: list[str], as_of: dt.date, year: int) -> dict:
    """Per unit (a province with its communes' tasks): the reasons and proposals stated on
    its unfinished tasks, most frequent first, with how many tasks state each."""
    if not codes:
        return {}
    rows = conn.execute(
        text(
            """select case when u.level = 'province' then u.code else u.parent_code end as unit,
                      t.reason, t.proposal, count(*) as n
               from task t join admin_unit u on u.code = t.unit_code
               where (u.code = any(:codes) or u.parent_code = any(:codes))
                 and t.reason is not null and (t.year = :year or t.program = 'KH02')
                 and task_status(t.deadline, t.completed_at, cast(:as_of as date))
                     in ('overdue', 'on_time')
               group by 1, 2, 3 order by 1, n desc, 2 limit 500"""
        ),
        {"codes": codes, "as_of": as_of, "year": year},
    ).mappings()
    out: dict[str, list[dict]] = {}
    for r in rows:
        got = out.setdefault(r["unit"], [])
        if len(got) < REASONS_PER_UNIT:
            got.append({"reason": r["reason"], "proposal": r["proposal"], "tasks": r["n"]})
    return out


def overdue_without_reason_by_province(conn: Connection, as_of: dt.date, year: int) -> list:
    """Provinces whose own NQ57 tasks (due in ``year``) or whose communes' KH02 tasks are
    overdue with no reason stated, most first."""
    rows = conn.execute(
        text(
            """select p.code, p.name,
                      count(*) filter (where t.program <> 'KH02') as own,
                      count(*) filter (where t.program = 'KH02') as communes
               from task t join admin_unit u on u.code = t.unit_code
               join admin_unit p on p.code = case when u.level = 'province' then u.code
                                                  else u.parent_code end
               where t.reason is null
                 and (t.program = 'KH02' or t.year = :year)
                 and task_status(t.deadline, t.completed_at, cast(:as_of as date)) = 'overdue'
               group by p.code, p.name order by count(*) desc, p.code"""
        ),
        {"as_of": as_of, "year": year},
    ).mappings()
    return [dict(r) for r in rows]


def commune_kpis(conn: Connection, province: str, as_of: dt.date) -> list[dict]:
    """A province's communes with their Plan 02 completion % (the commune layer's value)."""
    rows = conn.execute(
        text(
            f"""select u.code, u.name, coalesce(c.total, 0) as total,
                       coalesce(c.completed, 0) + coalesce(c.completed_late, 0) as done,
                       coalesce(c.overdue, 0) as overdue
                from admin_unit u left join ({unit_counts_sql()}) c on c.unit_code = u.code
                where u.level = 'commune' and u.parent_code = :p order by u.code"""
        ),
        {"as_of": as_of, "program": "KH02", "year": None, "p": province},
    ).mappings()
    return [
        {"code": r["code"], "name": r["name"], "tasks_total": r["total"],
         "tasks_completed": r["done"], "tasks_overdue": r["overdue"],
         "completion_pct": pct(r["done"], r["total"])}
        for r in rows
    ]  # fmt: skip


def geometries(conn: Connection, level: str, parent: str | None = None) -> list[tuple[str, bytes]]:
    """(code, WKB) of the provinces, or of one province's communes, at the coarsest stored
    display band (a printed map needs no more)."""
    band = conn.execute(
        text(
            "select band from unit_geometry_level group by band"
            " order by cast(ltrim(band, 'z') as int) limit 1"
        )
    ).scalar()
    rows = conn.execute(
        text(
            """select u.code, ST_AsBinary(coalesce(l.geom, u.geom)) as wkb
               from admin_unit u
               left join unit_geometry_level l on l.unit_code = u.code and l.band = :band
               where u.level = :level and (cast(:p as text) is null or u.parent_code = :p)
                 and u.geom is not null
               order by u.code"""
        ),
        {"band": band, "level": level, "p": parent},
    )
    return [(r.code, bytes(r.wkb)) for r in rows]


def trend(conn: Connection, as_of: dt.date, year: int) -> list[dict]:
    """The national figures at the end of every month of ``year`` up to ``as_of``."""
    days = [_month_end(year, m) for m in range(1, 13) if _month_end(year, m) < as_of]
    days.append(as_of)
    got = figures_at(conn, days, "NQ57", year)
    return [{"day": d.isoformat(), **got[d]} for d in days if d in got]


def report_data(
    conn: Connection,
    period: Period,
    as_of: dt.date | None = None,
    province: str | None = None,
    stale_days: int = 14,
) -> dict:
    """Everything the report prints (plain data; the layout is ``maps/report.py``)."""
    day = period.day(as_of)
    year = period.end.year
    now = national_figures(conn, day, year)
    before = national_figures(conn, period.previous_end, year)
    prev_by_code = {p["code"]: p for p in before["provinces"]}
    for p in now["provinces"]:
        p["change"] = _delta(p, prev_by_code[p["code"]]) if p["code"] in prev_by_code else None
    ranked = sorted(
        (p for p in now["provinces"] if p["completion_pct"] is not None),
        key=lambda p: (p["completion_pct"], -p["tasks_overdue"], p["code"]),
    )
    slowest = ranked[:SLOWEST]
    reasons = stated_reasons(conn, [p["code"] for p in slowest], day, year)
    agencies = [a for a in agency_kpis(conn, day, year) if a["tasks_overdue"] > 0]
    judged = targets(conn, day)
    will_miss = sorted(
        (f for f in forecasts(conn, "province", "NQ57", day) if f.cls == "will_miss"),
        key=lambda f: (-f.open_due, f.code),
    )
    health = [h for h in data_health(conn, "province", day, stale_days) if h["stale"]]
    communes_health = data_health(conn, "commune", day, stale_days)
    out = {
        "period": period,
        "as_of": day,
        "year": year,
        "stale_days": stale_days,
        "now": now,
        "before": before,
        "change": _delta(now, before),
        "central_change": _delta(now["central"], before["central"]),
        "slowest": [{**p, "reasons": reasons.get(p["code"], [])} for p in slowest],
        "no_reason": overdue_without_reason_by_province(conn, day, year),
        "agencies": agencies,
        "targets": judged,
        "will_miss": [f.body() for f in will_miss],
        "stale_provinces": sorted(health, key=lambda h: h["code"]),
        "stale_communes": sum(1 for h in communes_health if h["stale"]),
        "communes": len(communes_health),
        "national_indicators": now["national_indicators"],
        "trend": trend(conn, day, year),
        # holders silent past their notices' reply-by date (issue 27), on the as-of date
        "silent": silent_holders(conn, day, day, limit=50),
        "province": None,
    }
    if province:
        row = next((p for p in now["provinces"] if p["code"] == province), None)
        if row is None:
            raise BadInput(f"không có tỉnh/thành phố mã {province[:8]}", field="province")
        out["province"] = {
            **row,
            "communes_kpis": commune_kpis(conn, province, day),
            "reasons": stated_reasons(conn, [province], day, year).get(province, []),
            "targets": [t for t in judged if t["unit_code"] == province],
        }
    return out
