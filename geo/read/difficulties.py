"""The register of difficulties, read: open tasks with a stated difficulty counted by
category (nationally, per province, per unit or agency), the tasks behind a count, the
local tasks that wait on a central body or task (flagged for review once it is done), and
the map's "share of overdue tasks blocked by central guidance".

"Open" is a task not completed on the as-of day (``task_status`` not ``completed*``); a
province's scope is its own tasks and its communes'. Categories are those of
``geo.difficulties``; a suggested category counts like a given one and is said to be one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from geo.difficulties import CATEGORIES

OPEN = "task_status(t.deadline, t.completed_at, cast(:as_of as date)) in ('overdue', 'on_time')"
OVERDUE = "task_status(t.deadline, t.completed_at, cast(:as_of as date)) = 'overdue'"


def scope_sql(unit: str | None) -> str:
    """Tasks of ``unit``: None = national; 2 digits = a province and its communes; 5 digits
    = a commune; letters = an agency (constant fragments, the code is bound as :unit)."""
    if unit is None:
        return "true"
    if unit.isdigit() and len(unit) == 2:
        return (
            "(t.unit_code = :unit or t.unit_code in"
            " (select code from admin_unit where parent_code = :unit))"
        )
    if unit.isdigit():
        return "t.unit_code = :unit"
    return "t.agency_code = :unit"


def counts(conn: Connection, as_of: dt.date, unit: str | None) -> dict:
    """Open tasks with a difficulty by category (how many overdue, how many suggested),
    and how many open overdue tasks wait on the central level."""
    where = scope_sql(unit)
    rows = conn.execute(
        text(
            f"""select d.category, count(*), count(*) filter (where {OVERDUE}),
                       count(*) filter (where d.suggested)
                from task t join task_difficulty d on d.task_id = t.id
                where {where} and {OPEN} and d.category is not null
                group by d.category"""
        ),
        {"as_of": as_of, "unit": unit},
    ).all()
    found = {cat: (n, overdue, suggested) for cat, n, overdue, suggested in rows}
    blocked, overdue_all = conn.execute(
        text(
            f"""select count(*) filter (where d.waits_on_central), count(*)
                from task t left join task_difficulty d on d.task_id = t.id
                where {where} and {OVERDUE}"""
        ),
        {"as_of": as_of, "unit": unit},
    ).one()
    return {
        "categories": [
            {
                "code": c.code,
                "label": c.vi,
                "label_en": c.en,
                "open": found.get(c.code, (0, 0, 0))[0],
                "overdue": found.get(c.code, (0, 0, 0))[1],
                "suggested": found.get(c.code, (0, 0, 0))[2],
            }
            for c in CATEGORIES
        ],
        "blocked_central": {
            "overdue": int(blocked or 0),
            "overdue_total": int(overdue_all or 0),
            "pct": round(100.0 * blocked / overdue_all, 2) if overdue_all else None,
        },
    }


def by_province(conn: Connection, as_of: dt.date) -> list[dict]:
    """Open tasks with a difficulty per province (its own and its communes') by category."""
    rows = conn.execute(
        text(
            f"""select p.code, p.name, d.category, count(*)
                from task t join task_difficulty d on d.task_id = t.id
                join admin_unit u on u.code = t.unit_code
                join admin_unit p on p.code = coalesce(u.parent_code, u.code)
                where {OPEN} and d.category is not null and p.level = 'province'
                group by p.code, p.name, d.category order by p.code"""
        ),
        {"as_of": as_of},
    ).all()
    out: dict[str, dict] = {}
    for code, name, cat, n in rows:
        entry = out.setdefault(code, {"code": code, "name": name, "categories": {}})
        entry["categories"][cat] = n
    return list(out.values())


def tasks(
    conn: Connection,
    as_of: dt.date,
    unit: str | None,
    category: str | None,
    waits_on: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[dict]]:
    """The open tasks behind a count (a category, or those waiting on ``waits_on``: an
    agency's code), each with its difficulty and, for a waiting task, whether what it
    waits on is done (``review``: the local task should be looked at again)."""
    conds = [scope_sql(unit), OPEN]
    if category:
        conds.append("d.category = :category")
    if waits_on:
        conds.append("(d.waits_on_agency = :waits or w.agency_code = :waits)")
    where = " and ".join(conds)
    params = {"as_of": as_of, "unit": unit, "category": category, "waits": waits_on}
    base = f"""from task t join task_difficulty d on d.task_id = t.id
               left join task w on w.id = d.waits_on_task_id
               where {where}"""
    total = conn.execute(text(f"select count(*) {base}"), params).scalar_one()
    rows = conn.execute(
        text(
            f"""select t.id, t.external_id, t.title, coalesce(t.unit_code, t.agency_code),
                       t.deadline, task_status(t.deadline, t.completed_at, cast(:as_of as date)),
                       t.reason, d.category, d.suggested, d.waits_on_agency, w.external_id,
                       d.waits_on_text, d.waits_on_central,
                       w.completed_at is not null and w.completed_at <= cast(:as_of as date)
                {base}
                order by t.deadline, t.external_id limit :limit offset :offset"""
        ),
        {**params, "limit": limit, "offset": offset},
    ).all()
    return int(total), [
        {
            "id": r[0],
            "external_id": r[1],
            "title": r[2],
            "holder": r[3],
            "deadline": r[4].isoformat(),
            "status": r[5],
            "reason": r[6],
            "category": r[7],
            "suggested": r[8],
            "waits_on_agency": r[9],
            "waits_on_task": r[10],
            "waits_on_text": r[11],
            "waits_on_central": r[12],
            "review": bool(r[13]),
        }
        for r in rows
    ]


def waiting_on_task(conn: Connection, task_id: int, as_of: dt.date) -> list[dict]:
    """Local tasks that wait on one central task (its detail lists them)."""
    rows = conn.execute(
        text(
            f"""select t.external_id, t.title, t.unit_code,
                       task_status(t.deadline, t.completed_at, cast(:as_of as date))
                from task_difficulty d join task t on t.id = d.task_id
                where d.waits_on_task_id = :id and {OPEN}
                order by t.unit_code, t.external_id limit 500"""
        ),
        {"id": task_id, "as_of": as_of},
    ).all()
    return [{"external_id": a, "title": b, "unit_code": c, "status": s} for a, b, c, s in rows]


def blocked_share(
    conn: Connection, level: str, as_of: dt.date, parent: str | None = None
) -> dict[str, float | None]:
    """Per unit of ``level``: % of its own overdue tasks that wait on the central level
    (None where nothing is overdue) — the map measure ``blocked_central_pct``."""
    rows = conn.execute(
        text(
            f"""select u.code, count(t.id) filter (where {OVERDUE}),
                       count(t.id) filter (where {OVERDUE} and d.waits_on_central)
                from admin_unit u
                left join task t on t.unit_code = u.code
                left join task_difficulty d on d.task_id = t.id
                where u.level = :level
                  and (cast(:parent as text) is null or u.parent_code = cast(:parent as text))
                group by u.code"""
        ),
        {"as_of": as_of, "level": level, "parent": parent},
    ).all()
    return {code: (round(100.0 * b / n, 2) if n else None) for code, n, b in rows}


def map_shares(conn: Connection, as_of: dt.date, scope: str | None) -> dict[str, float | None]:
    """The map of a scope's difficulties: each province's share (national), or each of a
    province's communes' (a province's code) — ``blocked_share`` of the units drawn."""
    if scope is None:
        return blocked_share(conn, "province", as_of)
    return blocked_share(conn, "commune", as_of, scope)
