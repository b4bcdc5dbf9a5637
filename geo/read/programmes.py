"""The programme registry as clients read it (``GET /api/v1/programmes``)."""

from __future__ import annotations

from sqlalchemy import Connection, text


def programmes(conn: Connection) -> list[dict]:
    """Every entry with its aliases, parent, phase and province, and the task count it
    holds (a phase: the parent's tasks of that phase), parents first."""
    rows = conn.execute(
        text(
            "select p.code, p.name, p.aliases, p.parent_code, p.phase, p.province_code,"
            " (select count(*) from task t where t.program = coalesce("
            "   case when p.phase is not null then p.parent_code end, p.code)"
            "   and (p.phase is null or t.phase = p.phase)) as tasks"
            " from programme p order by p.parent_code nulls first, p.code"
        )
    ).mappings()
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "aliases": list(r["aliases"] or []),
            "parent": r["parent_code"],
            "phase": r["phase"],
            "province": r["province_code"],
            "tasks": int(r["tasks"]),
        }
        for r in rows
    ]
