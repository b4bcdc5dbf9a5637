"""Follow-up on slow tasks: overdue tasks that state no reason (a data problem the
summary counts and the panel lists), units to remind, and the reminders sent with what
became of their tasks since."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from geo.read.progress import pct, slice_filter, unit_counts_sql


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
                where {unit} and t.reason is null and {slice_filter("t")}
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
    combine: str = "any",
    agency: str | None = None,
) -> list[dict]:
    """Units to remind for ``program`` (NQ57: provinces, else communes), each with why it
    was selected (``reasons``: ``overdue`` with the count, ``below`` with its %).

    Only the criteria the caller gave count: ``overdue`` (has overdue tasks), ``below``
    (completion % under the threshold), joined by ``combine`` (``any`` | ``all``);
    ``within`` limits to a province (it and its communes). Uses the as-of counts of
    ``geo/read/progress.py``. ``agency``: that ministry (its own tasks) instead of units."""
    level = "province" if program == "NQ57" else "commune"
    if agency is not None:
        rows = _agency_counts(conn, as_of, program, agency)
    else:
        rows = _unit_rows(conn, as_of, program, level, within)
    out = []
    for r in rows:
        share = pct(int(r["done"]), int(r["total"]))
        hits: list[dict] = []
        asked = 0
        if overdue:
            asked += 1
            if r["overdue"] > 0:
                hits.append({"kind": "overdue", "tasks": int(r["overdue"])})
        if below is not None:
            asked += 1
            if share is not None and share < below:
                hits.append({"kind": "below", "completion_pct": share, "threshold": below})
        if hits and (combine == "any" or len(hits) == asked):
            out.append(dict(r) | {"completion_pct": share, "reasons": hits})
    return out


def _unit_rows(conn: Connection, as_of: dt.date, program: str, level: str, within: str | None):
    """The units of ``level`` (within a province) with their task counts."""
    return conn.execute(
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


def _agency_counts(conn: Connection, as_of: dt.date, program: str, agency: str):
    """One ministry's task counts (its own tasks, ``task.agency_code``), as a candidate row."""
    return conn.execute(
        text(
            f"""select a.code, a.name, a.kind, 'agency' as level, null as province_name,
                   count(t.id) as total,
                   count(t.id) filter (where s.s in ('completed', 'completed_late')) as done,
                   count(t.id) filter (where s.s = 'overdue') as overdue
            from agency a
            join task t on t.agency_code = a.code and {slice_filter("t", year=False)}
            cross join lateral (select task_status(t.deadline, t.completed_at,
                                                   cast(:as_of as date)) as s) s
            where a.code = :agency
            group by a.code, a.name, a.kind"""
        ),
        {"as_of": as_of, "program": program, "agency": agency},
    ).mappings()


# a notice counts (as a round, as "reminded") unless it was withdrawn
LIVE_REMINDER = "not exists (select 1 from reminder_withdrawal w where w.reminder_id = r.id)"


def open_tasks(
    conn: Connection, codes: list[str], as_of: dt.date, program: str, only_overdue: bool
) -> list[dict]:
    """The unfinished tasks of these units on ``as_of`` (or only the overdue ones), overdue
    first, with how often each was reminded by notices that were not withdrawn."""
    statuses = ["overdue"] if only_overdue else ["overdue", "on_time"]
    return [
        dict(r)
        for r in conn.execute(
            text(
                f"""select t.id as task_id, coalesce(t.unit_code, t.agency_code) as unit_code,
                       t.external_id, t.title, t.deadline,
                       greatest(cast(:as_of as date) - t.deadline, 0) as days_overdue,
                       t.lead_agency, t.reason, t.proposal,
                       (select count(*) from reminder r
                        where r.tasks @> jsonb_build_array(jsonb_build_object('task_id', t.id))
                          and {LIVE_REMINDER}) as reminded_before
                from task t
                where (t.unit_code = any(:codes) or t.agency_code = any(:codes))
                  and {slice_filter("t", year=False)}
                  and task_status(t.deadline, t.completed_at, cast(:as_of as date))
                      = any(:statuses)
                order by t.unit_code, t.deadline, t.external_id"""
            ),
            {"codes": codes, "as_of": as_of, "program": program, "statuses": statuses},
        ).mappings()
    ]


def recent_notices(
    conn: Connection, codes: list[str], program: str, since: dt.datetime
) -> dict[str, dict]:
    """Per unit: its latest live notice for ``program`` issued at or after ``since``, and how
    many live notices it had for ``program`` in all (its next notice is round that + 1)."""
    rows = conn.execute(
        text(
            f"""select coalesce(r.unit_code, r.agency_code) as unit_code, count(*) as notices,
                   max(r.at) as last_at, max(r.at) >= :since as recent
            from reminder r
            where (r.unit_code = any(:codes) or r.agency_code = any(:codes))
              and r.program = :program and {LIVE_REMINDER}
            group by 1"""
        ),
        {"codes": codes, "program": program, "since": since},
    ).mappings()
    return {r["unit_code"]: dict(r) for r in rows}


def reminder_record(conn: Connection, reminder_id: int) -> dict | None:
    """One notice as recorded, with its unit and its withdrawal (if any)."""
    row = (
        conn.execute(
            text(
                """select r.*, coalesce(r.unit_code, r.agency_code) as holder_code,
                       coalesce(u.name, a.name) as unit_name, coalesce(u.kind, a.kind) as unit_kind,
                       coalesce(u.level, 'agency') as unit_level,
                       u.parent_code, p.name as province_name,
                       w.at as withdrawn_at, w.actor as withdrawn_by, w.reason as withdrawn_reason,
                       (select max(x.at) from reminder_answer x where x.reminder_id = r.id)
                         as answered_at
                from reminder r left join admin_unit u on u.code = r.unit_code
                left join agency a on a.code = r.agency_code
                left join admin_unit p on p.code = u.parent_code
                left join reminder_withdrawal w on w.reminder_id = r.id
                where r.id = :id"""
            ),
            {"id": reminder_id},
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def reminders(
    conn: Connection,
    as_of: dt.date,
    unit: str | None,
    limit: int,
    offset: int,
    scope: str | None = None,
) -> tuple[int, list[dict]]:
    """(number matched, one page of notices, newest first); each task with its status on
    ``as_of`` now, so one sees who responded (task done since) and who did not.
    ``scope``: only notices to this unit or its communes (a scoped token's reading).
    A ministry's notices name it in ``unit_code`` too (``holder`` says which)."""
    where = (
        "(cast(:unit as text) is null or r.unit_code = :unit or u.parent_code = :unit"
        " or r.agency_code = :unit)"
        " and (cast(:scope as text) is null or r.unit_code = :scope or u.parent_code = :scope"
        " or r.agency_code = :scope)"
    )
    params = {"unit": unit, "scope": scope, "as_of": as_of, "limit": limit, "offset": offset}
    total = conn.execute(
        text(
            "select count(*) from reminder r left join admin_unit u on u.code = r.unit_code"
            f" where {where}"
        ),
        params,
    ).scalar_one()
    rows = conn.execute(
        text(
            f"""select r.id, r.at, r.actor, coalesce(r.unit_code, r.agency_code) as unit_code,
                   case when r.agency_code is null then 'unit' else 'agency' end as holder,
                   coalesce(u.name, a.name) as unit_name, r.program,
                   r.as_of, r.reply_by, r.issuer, r.doc_number, r.reasons,
                   (select max(x.at) from reminder_answer x where x.reminder_id = r.id)
                     as answered_at,
                   (select coalesce(jsonb_agg(jsonb_build_object('channel', d.channel,
                             'status', d.status, 'attempts', d.attempts, 'sent_at', d.sent_at)
                           order by d.channel), '[]'::jsonb)
                    from delivery d where d.reminder_id = r.id) as deliveries,
                   (select jsonb_build_object('at', w.at, 'actor', w.actor, 'reason', w.reason)
                    from reminder_withdrawal w where w.reminder_id = r.id) as withdrawn,
                   (select jsonb_agg(x.item || jsonb_build_object(
                       'status_now', task_status(t.deadline, t.completed_at, cast(:as_of as date)),
                       'completed_at', t.completed_at) order by x.n)
                    from jsonb_array_elements(r.tasks) with ordinality as x(item, n)
                    join task t on t.id = (x.item ->> 'task_id')::int) as tasks
            from reminder r left join admin_unit u on u.code = r.unit_code
            left join agency a on a.code = r.agency_code
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
        item["answered"] = item["answered_at"] is not None
        if item["answered_at"] is not None:
            item["answered_at"] = item["answered_at"].astimezone(dt.UTC).isoformat()
        out.append(item)
    return int(total), out


def reminded_still_overdue(conn: Connection, as_of: dt.date, limit: int = 20) -> list[dict]:
    """Units and ministries reminded whose reminded tasks are still overdue on ``as_of``
    (the wall's rail); ``unit_code`` is the holder's code (an agency's letters)."""
    rows = conn.execute(
        text(
            f"""select coalesce(r.unit_code, r.agency_code) as unit_code,
                   coalesce(u.name, a.name) as name, max(r.at) as last_at,
                   max(r.reply_by) as reply_by, count(distinct t.id) as still_overdue
            from reminder r
            left join admin_unit u on u.code = r.unit_code
            left join agency a on a.code = r.agency_code
            cross join lateral jsonb_array_elements(r.tasks) x(item)
            join task t on t.id = (x.item ->> 'task_id')::int
            where task_status(t.deadline, t.completed_at, cast(:as_of as date)) = 'overdue'
              and {LIVE_REMINDER}
            group by 1, 2
            order by still_overdue desc, 1 limit :limit"""
        ),
        {"as_of": as_of, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


def issuer_row(conn: Connection, code: str) -> dict | None:
    """The stored letter profile of an issuing body (``notice_issuer``), if any."""
    row = conn.execute(text("select * from notice_issuer where code = :c"), {"c": code})
    found = row.mappings().first()
    return dict(found) if found else None


def province_row(conn: Connection, code: str) -> dict | None:
    """A province's name and kind ("Tỉnh" / "Thành phố"), if ``code`` is one."""
    row = conn.execute(
        text("select name, kind from admin_unit where code = :c and level = 'province'"),
        {"c": code},
    )
    found = row.mappings().first()
    return dict(found) if found else None
