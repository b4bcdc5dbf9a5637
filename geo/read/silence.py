"""Holders that went silent: their latest live notice is unanswered past its reply-by date
and its tasks are still overdue. The worker escalates them (``geo/remind/escalate.py``);
the wall's alert rail and the leaders' report list them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from geo.read.followup import LIVE_REMINDER
from geo.read.progress import data_state


def silent_holders(
    conn: Connection, today: dt.date, as_of: dt.date | None = None, limit: int = 500
) -> list[dict]:
    """Holders whose latest live notice (per programme) is unanswered past its reply-by
    date and whose reminded tasks are still overdue on ``as_of`` (default: the data's
    reporting date); the most overdue first."""
    as_of = as_of or data_state(conn).default_as_of()
    rows = conn.execute(
        text(
            f"""with latest as (
                  select distinct on (coalesce(r.unit_code, r.agency_code), r.program)
                         r.id, r.unit_code, r.agency_code, r.program, r.reply_by, r.at,
                         r.tasks, r.doc_number, r.escalated
                  from reminder r where {LIVE_REMINDER}
                  order by coalesce(r.unit_code, r.agency_code), r.program, r.at desc, r.id desc)
                select l.id as reminder_id, l.unit_code, l.agency_code,
                       coalesce(l.unit_code, l.agency_code) as code,
                       coalesce(u.name, a.name) as name, l.program, l.reply_by, l.doc_number,
                       l.escalated, cast(:today as date) - l.reply_by as days_silent,
                       (select count(*) from jsonb_array_elements(l.tasks) x(item)
                        join task t on t.id = (x.item ->> 'task_id')::int
                        where task_status(t.deadline, t.completed_at, cast(:as_of as date))
                              = 'overdue') as still_overdue,
                       (select count(*) from reminder r2
                        where coalesce(r2.unit_code, r2.agency_code)
                              = coalesce(l.unit_code, l.agency_code)
                          and r2.program = l.program and r2.escalated) as escalations
                from latest l
                left join admin_unit u on u.code = l.unit_code
                left join agency a on a.code = l.agency_code
                where l.reply_by < cast(:today as date)
                  and not exists (select 1 from reminder_answer ra where ra.reminder_id = l.id)
                order by days_silent desc, code limit :limit"""
        ),
        {"today": today, "as_of": as_of, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows if int(r["still_overdue"]) > 0]
