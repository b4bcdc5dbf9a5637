"""A notice as it was issued, rebuilt from its record, and how a notice addresses its holder.

Why apart from ``issue.py``: the delivery worker (``deliver.py``) renders recorded
notices, and issuing queues deliveries; with this in ``issue.py`` the two modules imported
each other.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from geo.read.followup import reminder_record
from geo.read.progress import VN_TZ
from geo.remind.issuers import NATIONAL, issuer_for
from geo.remind.notice import Notice
from geo.remind.reply import reply_link


def recipient(unit: dict) -> str:
    """Whom the notice is addressed to ("Kính gửi"): the ministry, or the commune's or
    province's people's committee."""
    if unit["level"] == "agency":  # a ministry is addressed by its own name
        return str(unit["name"])
    kind = unit["kind"][:1].lower() + unit["kind"][1:]
    name = f"Ủy ban nhân dân {kind} {unit['name']}"
    if unit["level"] == "commune" and unit.get("province_name"):
        name += f", {unit['province_name']}"
    return name


def recorded_notice(conn: Connection, reminder_id: int) -> tuple[Notice, dict] | None:
    """A recorded notice rebuilt as it was issued (for downloading it again)."""
    r = reminder_record(conn, reminder_id)
    if r is None:
        return None
    issuer = replace(issuer_for(conn, r["issuer_code"] or NATIONAL), name=r["issuer"])
    unit = {
        "kind": r["unit_kind"],
        "name": r["unit_name"],
        "level": r["unit_level"],
        "province_name": r["province_name"],
    }
    tasks = r["tasks"] or []
    notice = Notice(
        unit_code=r["holder_code"],
        recipient=recipient(unit),
        program=r["program"],
        as_of=r["as_of"],
        reply_by=r["reply_by"],
        issuer=issuer,
        tasks=tasks,
        reasons=r["reasons"] or [],
        round=max((int(t["round"]) for t in tasks), default=1),
        reminder_id=r["id"],
        number=r["number"],
        issued_on=r["at"].astimezone(VN_TZ).date(),
        reply_url=reply_link(r["id"], r["reply_by"]),
        escalated=bool(r.get("escalated")),
        leader=r.get("leader"),
    )
    return notice, r
