"""Follow-up questions on slow tasks: which overdue tasks state no reason (a data
problem the summary counts and the panel lists)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text


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
                  and (cast(:program as text) is null or t.program = cast(:program as text))
                  and (cast(:year as int) is null or t.year = cast(:year as int))
                  and task_status(t.deadline, t.completed_at, cast(:as_of as date)) = 'overdue'"""
            ),
            {"code": code, "program": program, "year": year, "as_of": as_of},
        ).scalar_one()
    )
