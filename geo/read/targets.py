"""Targets and how they stand on a date: met / not met / at risk.

A target is (unit, subject, kind, threshold, due):

- ``rank_max``   — the unit's rank on indicator ``subject`` is N or better;
- ``value_min``  — its value reaches x (at most x for an indicator where lower is better);
- ``completion_min`` — the completion % of its tasks of programme ``subject`` reaches x;
- ``all_green``  — every indicator of programme ``subject`` (``KH02-2``: Plan 02 phase 2)
  is green (value reaches the indicator's ``green_at``).

Evaluated on the latest indicator period that has ended by the as-of date (a quarter on
its last day, a year on 31 Dec), against the period before ("the last two periods" —
completion compares with 90 days earlier):

- **met**     — the condition holds, and continuing the last two periods' change one more
  period (before the due date) would still hold;
- **at_risk** — it holds now, but that continued trend would miss it before the due date;
- **not_met** — it does not hold on the as-of date;
- **no_data** — nothing to judge (no value in any ended period).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.read.progress import UNIT_COUNTS_SQL, pct
from geo.read.queries import previous_period

KINDS = ("rank_max", "value_min", "completion_min", "all_green")
STATES = ("met", "not_met", "at_risk", "no_data")
TREND_DAYS = 90


def period_end(period: str) -> dt.date:
    """Last day of ``2025-Q3`` or ``2025``."""
    year = int(period[:4])
    if len(period) == 7:
        q = int(period[-1])
        nxt = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
        return nxt - dt.timedelta(days=1)
    return dt.date(year, 12, 31)


@dataclass(frozen=True)
class Reading:
    """What a target is judged on: the current and previous figure, and the direction."""

    current: float | None
    previous: float | None
    threshold: float
    higher_is_better: bool  # rank: False (1 is best)


def judge(reading: Reading, as_of: dt.date, due: dt.date) -> str:
    """met / at_risk / not_met / no_data (see the module docstring)."""
    if reading.current is None:
        return "no_data"

    def holds(x: float) -> bool:
        t = reading.threshold
        return x >= t if reading.higher_is_better else x <= t

    if not holds(reading.current):
        return "not_met"
    if reading.previous is not None and as_of < due:
        projected = 2 * reading.current - reading.previous
        if not holds(projected):
            return "at_risk"
    return "met"


def _ended_periods(conn: Connection, indicator_codes: list[str], as_of: dt.date) -> list[str]:
    periods = conn.execute(
        text("select distinct period from indicator_value where indicator_code = any(:c)"),
        {"c": indicator_codes},
    ).scalars()
    return sorted(p for p in periods if period_end(p) <= as_of)


def _indicator_reading(conn: Connection, t: dict, as_of: dt.date) -> tuple[Reading, str | None]:
    ended = _ended_periods(conn, [t["subject"]], as_of)
    if not ended:
        return Reading(None, None, t["threshold"], True), None
    period = ended[-1]
    before = previous_period(ended, period)
    rows = conn.execute(
        text(
            "select v.period, v.value, v.rank, i.higher_is_better from indicator_value v"
            " join indicator i on i.code = v.indicator_code"
            " where v.indicator_code = :i and v.unit_code = :u and v.period = any(:p)"
        ),
        {"i": t["subject"], "u": t["unit_code"], "p": [p for p in (period, before) if p]},
    ).mappings()
    by = {r["period"]: r for r in rows}
    col = "rank" if t["kind"] == "rank_max" else "value"
    higher = False if t["kind"] == "rank_max" else bool(by[period]["higher_is_better"]) if (
        period in by) else True  # fmt: skip

    def get(p: str | None) -> float | None:
        r = by.get(p) if p else None
        return float(r[col]) if r is not None and r[col] is not None else None

    return Reading(get(period), get(before), t["threshold"], higher), period


def _completion(conn: Connection, unit: str, program: str, day: dt.date) -> float | None:
    row = (
        conn.execute(
            text(f"select * from ({UNIT_COUNTS_SQL}) c where c.unit_code = :u"),
            {"as_of": day, "program": program, "year": None, "u": unit},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return pct(int(row["completed"]) + int(row["completed_late"]), int(row["total"]))


def green_shares(
    conn: Connection, programme: str, period: str, unit: str | None = None
) -> list[dict]:
    """Per province: each indicator of ``programme`` green or not in ``period``, the count
    green and the share green (the national system's "greening")."""
    rows = conn.execute(
        text(
            """select u.code, u.name, i.code as indicator, i.name as indicator_name,
                      i.green_at, v.value,
                      case when v.value is null then false
                           when i.higher_is_better then v.value >= i.green_at
                           else v.value <= i.green_at end as green
               from admin_unit u
               cross join indicator i
               left join indicator_value v on v.indicator_code = i.code
                    and v.unit_code = u.code and v.period = :p
               where u.level = 'province' and i.programme = :g
                 and (cast(:u as text) is null or u.code = cast(:u as text))
               order by u.code, i.code"""
        ),
        {"p": period, "g": programme, "u": unit},
    ).mappings()
    out: dict[str, dict] = {}
    for r in rows:
        p = out.setdefault(r["code"], {"code": r["code"], "name": r["name"], "indicators": []})
        p["indicators"].append(
            {"code": r["indicator"], "value": r["value"], "green_at": r["green_at"],
             "green": bool(r["green"])}
        )  # fmt: skip
    for p in out.values():
        p["total"] = len(p["indicators"])
        p["green"] = sum(1 for i in p["indicators"] if i["green"])
        p["share_green"] = pct(p["green"], p["total"])
    return list(out.values())


def programme_indicators(conn: Connection, programme: str) -> list[dict]:
    rows = conn.execute(
        text(
            "select code, name, name_en, unit, green_at, higher_is_better from indicator"
            " where programme = :g order by code"
        ),
        {"g": programme},
    ).mappings()
    return [dict(r) for r in rows]


def latest_programme_period(conn: Connection, programme: str, as_of: dt.date) -> str | None:
    codes = [i["code"] for i in programme_indicators(conn, programme)]
    ended = _ended_periods(conn, codes, as_of) if codes else []
    return ended[-1] if ended else None


def _green_reading(conn: Connection, t: dict, as_of: dt.date) -> tuple[Reading, str | None]:
    codes = [i["code"] for i in programme_indicators(conn, t["subject"])]
    ended = _ended_periods(conn, codes, as_of) if codes else []
    if not ended:
        return Reading(None, None, 100.0, True), None
    period = ended[-1]
    before = previous_period(ended, period)

    def share(p: str | None) -> float | None:
        if p is None:
            return None
        rows = green_shares(conn, t["subject"], p, t["unit_code"])
        return rows[0]["share_green"] if rows else None

    return Reading(share(period), share(before), 100.0, True), period


def _detail(t: dict, reading: Reading, period: str | None) -> str:
    cur, prev = reading.current, reading.previous
    if cur is None:
        return "chưa có số liệu / no data"
    trend = f" (kỳ trước {prev:g})" if prev is not None else ""
    if t["kind"] == "rank_max":
        return f"hạng {cur:g}/{t['threshold']:g} kỳ {period}{trend}"
    if t["kind"] == "all_green":
        return f"{cur:g}% chỉ tiêu xanh kỳ {period}{trend}"
    return f"{cur:g} / {t['threshold']:g}{trend}"


def targets(
    conn: Connection, as_of: dt.date, unit: str | None = None, state: str | None = None
) -> list[dict]:
    """Every target (or a unit's) with its evaluation on ``as_of``, by unit then id."""
    rows = conn.execute(
        text(
            "select t.id, t.unit_code, u.name as unit_name, t.subject, t.kind, t.threshold,"
            " t.due, t.label from target t join admin_unit u on u.code = t.unit_code"
            " where cast(:u as text) is null or t.unit_code = cast(:u as text)"
            " order by t.unit_code, t.id"
        ),
        {"u": unit},
    ).mappings()
    out = []
    for t in [dict(r) for r in rows]:
        if t["kind"] in ("rank_max", "value_min"):
            reading, period = _indicator_reading(conn, t, as_of)
        elif t["kind"] == "all_green":
            reading, period = _green_reading(conn, t, as_of)
        else:
            cur = _completion(conn, t["unit_code"], t["subject"], as_of)
            prev = _completion(
                conn, t["unit_code"], t["subject"], as_of - dt.timedelta(days=TREND_DAYS)
            )
            reading, period = Reading(cur, prev, t["threshold"], True), None
        result = judge(reading, as_of, t["due"])
        if state is not None and result != state:
            continue
        out.append(
            {
                **t,
                "state": result,
                "period": period,
                "current": reading.current,
                "previous": reading.previous,
                "detail": _detail(t, reading, period),
            }
        )
    return out
