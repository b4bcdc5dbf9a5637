"""Follow-up on slow tasks: overdue tasks that state no reason (a data problem the
summary counts and the panel lists), units to remind, and the reminders sent with what
became of their tasks since."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from geo.read.progress import pct, unit_counts_sql


def overdue_without_reason(
    conn: Connection,
    as_of: dt.date,
    program: str | None,
    year: int | None,
    code: str | None,
    level: str = "province",
) -> int:
    """Overdue tasks that state no reason (a data problem): of one unit, or when ``code``
    is None of all units of ``level`` (the summary's slices)."""
    if level not in ("province", "commune"):
        raise ValueError(f"unknown level {level!r}")
    unit = (
        "t.unit_code = :code"
        if code
        else f"t.unit_code in (select code from admin_unit where level = '{level}')"
    )
    return int(
        conn.execute(
            text(
                f"""select count(*) from task t
                where {unit} and t.reason is null
                  and (cast(:program as text) is null or t.program = cast(:program as text)
                       or t.program in (select code from programme
                                        where parent_code = cast(:program as text)))
                  and (cast(:year as int) is null or t.year = cast(:year as int))
                  and task_status(t.deadline, t.completed_at, cast(:as_of as date)) = 'overdue'"""
            ),
            {"code": code, "program": program, "year": year, "as_of": as_of},
        ).scalar_one()
    )


def remind_candidates(
    conn: Connection,
    as_of: dt.date,
    program: str,
    overdue: bool,
    below: float | None,
    within: str | None = None,
) -> list[dict]:
    """Units to remind for ``program`` (NQ57: provinces, else communes): with overdue tasks
    (``overdue``) and/or completion % below ``below``; ``within`` limits to a province (it
    and its communes). Uses the as-of counts of ``geo/read/progress.py``."""
    level = "province" if program == "NQ57" else "commune"
    rows = conn.execute(
        text(
            f"""select u.code, u.name, u.kind, u.level, p.name as province_name,
                   c.total, c.completed + c.completed_late as done, c.overdue
            from ({unit_counts_sql()}) c
            join admin_unit u on u.code = c.unit_code and u.level = :level
            left join admin_unit p on p.code = u.parent_code
            where (cast(:within as text) is null or u.code = :within or u.parent_code = :within)
            order by u.code"""
        ),
        {"as_of": as_of, "program": program, "year": None, "level": level, "within": within},
    ).mappings()
    out = []
    for r in rows:
        share = pct(int(r["done"]), int(r["total"]))
        hit_overdue = overdue and r["overdue"] > 0
        hit_below = below is not None and share is not None and share < below
        if hit_overdue or hit_below:
            out.append(dict(r) | {"completion_pct": share})
    return out


def overdue_tasks(conn: Connection, codes: list[str], as_of: dt.date, program: str) -> list[dict]:
    """The overdue tasks of these units on ``as_of``, with how often each was reminded."""
    return [
        dict(r)
        for r in conn.execute(
            text(
                """select t.id as task_id, t.unit_code, t.external_id, t.title, t.deadline,
                       cast(:as_of as date) - t.deadline as days_overdue, t.lead_agency,
                       t.reason, t.proposal,
                       (select count(*) from reminder r
                        where r.tasks @> jsonb_build_array(jsonb_build_object('task_id', t.id)))
                         as reminded_before
                from task t
                where t.unit_code = any(:codes) and t.program = :program
                  and task_status(t.deadline, t.completed_at, cast(:as_of as date)) = 'overdue'
                order by t.unit_code, t.deadline, t.external_id"""
            ),
            {"codes": codes, "as_of": as_of, "program": program},
        ).mappings()
    ]


def reminders(
    conn: Connection, as_of: dt.date, unit: str | None, limit: int, offset: int
) -> tuple[int, list[dict]]:
    """(number matched, one page of notices, newest first); each task with its status on
    ``as_of`` now, so one sees who responded (task done since) and who did not."""
    where = "(cast(:unit as text) is null or r.unit_code = :unit or u.parent_code = :unit)"
    params = {"unit": unit, "as_of": as_of, "limit": limit, "offset": offset}
    total = conn.execute(
        text(
            "select count(*) from reminder r join admin_unit u on u.code = r.unit_code"
            f" where {where}"
        ),
        params,
    ).scalar_one()
    rows = conn.execute(
        text(
            f"""select r.id, r.at, r.actor, r.unit_code, u.name as unit_name, r.program,
                   r.as_of, r.reply_by, r.issuer,
                   (select jsonb_agg(x.item || jsonb_build_object(
                       'status_now', task_status(t.deadline, t.completed_at, cast(:as_of as date)),
                       'completed_at', t.completed_at) order by x.n)
                    from jsonb_array_elements(r.tasks) with ordinality as x(item, n)
                    join task t on t.id = (x.item ->> 'task_id')::int) as tasks
            from reminder r join admin_unit u on u.code = r.unit_code
            where {where}
            order by r.at desc, r.id desc limit :limit offset :offset"""
        ),
        params,
    ).mappings()
    out = []
    for r in rows:
        item = dict(r)
        tasks = item["tasks"] or []
        item["tasks"] = tasks
        item["responded"] = bool(tasks) and all(
            t["status_now"] in ("completed", "completed_late") for t in tasks
        )
        item["still_overdue"] = sum(1 for t in tasks if t["status_now"] == "overdue")
        out.append(item)
    return int(total), out


def reminded_still_overdue(conn: Connection, as_of: dt.date, limit: int = 20) -> list[dict]:
    """Units reminded whose reminded tasks are still overdue on ``as_of`` (the wall's rail)."""
    rows = conn.execute(
        text(
            """select r.unit_code, u.name, max(r.at) as last_at, max(r.reply_by) as reply_by,
                   count(distinct t.id) as still_overdue
            from reminder r
            join admin_unit u on u.code = r.unit_code
            cross join lateral jsonb_array_elements(r.tasks) x(item)
            join task t on t.id = (x.item ->> 'task_id')::int
            where task_status(t.deadline, t.completed_at, cast(:as_of as date)) = 'overdue'
            group by r.unit_code, u.name
            order by still_overdue desc, r.unit_code limit :limit"""
        ),
        {"as_of": as_of, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]
