"""Silence escalates: a holder (province, commune or agency) whose latest live notice has
no answer (``reminder_answer``), is past its reply-by date and still has overdue tasks gets
the next round automatically — issued through the same ``issue`` as an office's notice
(numbered, rounds counted, deliveries queued), by the actor "tự động", marked "nhắc lần N —
báo cáo lãnh đạo phụ trách" and copied to the holder's leader in charge of its area
(``unit_contact.is_leader``).

Why once a day, claimed by a row: the worker runs it at ``IOCMAP_ESCALATE_AT`` (Vietnam
time); the day's ``escalation_run`` row is inserted first, so a second worker, or the same
worker restarted that day, does not escalate again. A crash half-way leaves the rest for the
next day (the holders are still silent then). The new notice's reply-by date is the
escalation day + ``reply_days``, so a holder is escalated again only when that passes too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import fields

from sqlalchemy import Engine, text

from geo.errors import IocmapError
from geo.read.silence import silent_holders
from geo.remind.deliver import CHANNELS
from geo.remind.issue import RemindRequest, issue

# the database keeps a `cli:` actor of the app role as sent (migration 0011); any other is
# marked "unverified:"
ACTOR = "cli:tự động"
REPLY_DAYS = 7


def _claim_day(engine: Engine, today: dt.date) -> bool:
    with engine.begin() as conn:
        return (
            conn.execute(
                text(
                    "insert into escalation_run (day) values (:d)"
                    " on conflict (day) do nothing returning day"
                ),
                {"d": today},
            ).first()
            is not None
        )


def escalate(
    engine: Engine,
    today: dt.date,
    channels: Sequence[str] = CHANNELS,
    reply_days: int = REPLY_DAYS,
    max_escalations: int = 5,
) -> dict:
    """Escalate every silent holder once for ``today`` (nothing when today already ran).
    ``max_escalations``: a holder escalated that many times is listed, not reminded again."""
    if not _claim_day(engine, today):
        return {"ran": False, "day": today.isoformat(), "escalated": [], "skipped": []}
    with engine.connect() as conn:
        silent = silent_holders(conn, today)
    known = {f.name for f in fields(RemindRequest)}
    escalated: list[dict] = []
    skipped: list[dict] = []
    for h in silent:
        if int(h["escalations"]) >= max_escalations:
            skipped.append(h | {"why": f"đã báo cáo lãnh đạo {h['escalations']} lần"})
            continue
        holder = {"unit": h["unit_code"]} if h["unit_code"] else {"agency": h["agency_code"]}
        if not set(holder) <= known:  # agencies' notices arrive with issue #27 item 2
            skipped.append(h | {"why": "cơ quan trung ương: chưa hỗ trợ nhắc tự động"})
            continue
        req = RemindRequest(
            program=h["program"],
            overdue=True,
            reply_by=today + dt.timedelta(days=reply_days),
            force=True,
            escalate=True,
            **holder,
        )
        try:
            notices = issue(engine, req, ACTOR, channels=channels, today=today)
        except IocmapError as exc:
            skipped.append(h | {"why": exc.message})
            continue
        for n in notices:
            escalated.append(
                {
                    "code": h["code"],
                    "reminder_id": n.reminder_id,
                    "doc_number": n.doc_number,
                    "round": n.round,
                    "leader": n.leader,
                }  # fmt: skip
            )
    with engine.begin() as conn:
        conn.execute(
            text("update escalation_run set escalated = :n where day = :d"),
            {"n": len(escalated), "d": today},
        )
    return {"ran": True, "day": today.isoformat(), "escalated": escalated, "skipped": skipped}
