"""Write a task sheet's plans: insert the new tasks, update the changed ones, and one
history event each (``task_event``), in two bulk statements.

Why bulk ``unnest`` statements: an executemany of 50,000 updates held the import lock for
tens of seconds; one statement per kind keeps every value bound and the lock short.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, text

from geo.ingest.task_plan import Plan, Row


def _json(values: dict) -> str:
    return json.dumps(
        {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()},
        ensure_ascii=False,
    )


def apply_plans(
    conn: Connection,
    good: list[tuple[Row, Plan]],
    actor: str,
    source: str,
    token_id: int | None = None,
) -> bool:
    """Insert the new tasks, update the changed ones, one history event each."""
    creates = [(row, p) for row, p in good if p.action == "create"]
    updates = [(row, p) for row, p in good if p.action == "update"]
    if not creates and not updates:
        return False
    # (task id, action, old, new, sheet row): the database stamps the import run (0019)
    events: list[tuple[Any, str, str | None, str, int]] = []
    if creates:
        ids = conn.execute(
            text(
                "insert into task (external_id, program, group_no, phase, year, title, unit_code,"
                " agency_code, lead_agency, start_date, deadline, completed_at, reason, proposal,"
                " person_in_charge, product, authority, expected_at, office_status,"
                " completed_at_bound)"
                " select * from unnest("
                " cast(:id as text[]), cast(:program as text[]), cast(:group_no as smallint[]),"
                " cast(:phase as smallint[]), cast(:year as smallint[]), cast(:title as text[]),"
                " cast(:unit as text[]), cast(:agency as text[]), cast(:lead as text[]),"
                " cast(:start as date[]), cast(:deadline as date[]), cast(:done as date[]),"
                " cast(:reason as text[]), cast(:proposal as text[]), cast(:person as text[]),"
                " cast(:product as text[]), cast(:authority as text[]), cast(:expected as date[]),"
                " cast(:office as text[]),"
                " cast(:bound as boolean[]))"
                " returning id, external_id"
            ),
            _columns_of(
                [row.values["external_id"] for row, _ in creates], [p.record for _, p in creates]
            ),
        ).all()
        by_ext = dict((e, i) for i, e in ids)
        events += [
            (by_ext[row.values["external_id"]], "create", None, _json(p.new), row.row_no)
            for row, p in creates
        ]
    if updates:
        # one statement for all rows (an executemany of 50,000 updates held the lock for
        # tens of seconds); unnest keeps every value bound
        conn.execute(
            text(
                "update task t set program = v.program, group_no = v.group_no, phase = v.phase,"
                " year = v.year, title = v.title, unit_code = v.unit_code,"
                " agency_code = v.agency_code, lead_agency = v.lead_agency,"
                " start_date = v.start_date, deadline = v.deadline,"
                " completed_at = v.completed_at, reason = v.reason, proposal = v.proposal,"
                " person_in_charge = v.person_in_charge, product = v.product,"
                " authority = v.authority, expected_at = v.expected_at,"
                " office_status = v.office_status, completed_at_bound = v.completed_at_bound,"
                " updated_at = now() from unnest("
                " cast(:id as int[]), cast(:program as text[]), cast(:group_no as smallint[]),"
                " cast(:phase as smallint[]), cast(:year as smallint[]), cast(:title as text[]),"
                " cast(:unit as text[]), cast(:agency as text[]), cast(:lead as text[]),"
                " cast(:start as date[]), cast(:deadline as date[]), cast(:done as date[]),"
                " cast(:reason as text[]), cast(:proposal as text[]), cast(:person as text[]),"
                " cast(:product as text[]), cast(:authority as text[]), cast(:expected as date[]),"
                " cast(:office as text[]),"
                " cast(:bound as boolean[]))"
                " as v(id, program, group_no, phase, year, title, unit_code, agency_code,"
                " lead_agency, start_date, deadline, completed_at, reason, proposal,"
                " person_in_charge, product, authority, expected_at, office_status,"
                " completed_at_bound)"
                " where t.id = v.id"
            ),
            _columns_of([p.task_id for _, p in updates], [p.record for _, p in updates]),
        )
        events += [
            (p.task_id, "update", _json(p.old), _json(p.new), row.row_no) for row, p in updates
        ]
    conn.execute(
        text(
            "insert into task_event (task_id, actor, token_id, source, action, old, new,"
            " source_row)"
            " select v.task_id, :actor, cast(:token_id as int), :source, v.action, v.old, v.new,"
            " v.source_row from unnest(cast(:task_id as int[]), cast(:action as text[]),"
            " cast(:old as jsonb[]), cast(:new as jsonb[]), cast(:row as int[]))"
            " as v(task_id, action, old, new, source_row)"
        ),
        {
            "actor": actor,
            "token_id": token_id,
            "source": source,
            "task_id": [e[0] for e in events],
            "action": [e[1] for e in events],
            "old": [e[2] for e in events],
            "new": [e[3] for e in events],
            "row": [e[4] for e in events],
        },
    )
    return True


def _columns_of(ids: list, records: list[dict]) -> dict[str, list]:
    """Records → one array per column, for an ``unnest`` statement."""
    return {
        "id": ids,
        "program": [r["program"] for r in records],
        "group_no": [r["group_no"] for r in records],
        "phase": [r["phase"] for r in records],
        "year": [r["year"] for r in records],
        "title": [r["title"] for r in records],
        "unit": [r["unit_code"] for r in records],
        "agency": [r["agency_code"] for r in records],
        "lead": [r["lead_agency"] for r in records],
        "start": [r["start_date"] for r in records],
        "deadline": [r["deadline"] for r in records],
        "done": [r["completed_at"] for r in records],
        "reason": [r["reason"] for r in records],
        "proposal": [r["proposal"] for r in records],
        "person": [r["person_in_charge"] for r in records],
        "product": [r["product"] for r in records],
        "authority": [r["authority"] for r in records],
        "expected": [r["expected_at"] for r in records],
        "office": [r["office_status"] for r in records],
        "bound": [bool(r["completed_at_bound"]) for r in records],
    }
