"""Issue reminder notices: pick the units, record one append-only ``reminder`` row per
notice (who, when, which tasks and their round, reply-by) and render each notice.

Why one transaction with an advisory lock: the round of a task (nhắc lần 2, 3 …) is the
number of earlier notices naming it, so two issuers at once must not both write "lần 2";
and a refused scope check must leave nothing recorded.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, text

from geo.errors import BadInput
from geo.read.followup import overdue_tasks, remind_candidates
from geo.read.progress import data_state
from geo.remind.notice import DEFAULT_ISSUER, Notice, to_docx, to_html

MAX_UNITS = 500
LOCK_KEY = 5_702_0014  # pg advisory lock: one issuance at a time


@dataclass(frozen=True)
class RemindRequest:
    """Which units to remind and what the notice says."""

    program: str = "NQ57"
    overdue: bool = True
    below: float | None = None  # completion % threshold
    province: str | None = None  # only this province (and its communes)
    as_of: dt.date | None = None  # default: the data's reporting date
    reply_by: dt.date | None = None  # default: as_of + 7 days
    issuer: str = DEFAULT_ISSUER

    def check(self) -> None:
        if not self.overdue and self.below is None:
            raise BadInput(
                "choose units with overdue tasks (--overdue) or --below PCT", field="overdue"
            )
        if self.below is not None and not 0 < self.below <= 100:
            raise BadInput("below must be a completion % in (0, 100]", field="below")
        if not self.issuer.strip() or len(self.issuer) > 300:
            raise BadInput("issuer must be 1–300 characters", field="issuer")


def _recipient(unit: dict) -> str:
    kind = unit["kind"][:1].lower() + unit["kind"][1:]
    name = f"Ủy ban nhân dân {kind} {unit['name']}"
    if unit["level"] == "commune" and unit.get("province_name"):
        name += f", {unit['province_name']}"
    return name


def issue(
    engine: Engine,
    req: RemindRequest,
    actor: str,
    token_id: int | None = None,
    authorize: Callable | None = None,
) -> list[Notice]:
    """Select, authorize (``authorize(conn, codes)`` raises to refuse), record, render."""
    req.check()
    with engine.begin() as conn:
        conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        as_of = req.as_of or data_state(conn).default_as_of()
        reply_by = req.reply_by or as_of + dt.timedelta(days=7)
        if reply_by < as_of:
            raise BadInput("reply_by is before the as-of date", field="reply_by")
        units = remind_candidates(conn, as_of, req.program, req.overdue, req.below, req.province)
        if len(units) > MAX_UNITS:
            raise BadInput(f"{len(units)} units selected (cap {MAX_UNITS}); narrow by province")
        codes = [u["code"] for u in units]
        if authorize is not None:
            authorize(conn, set(codes) | ({req.province} if req.province else set()))
        by_unit: dict[str, list[dict]] = {c: [] for c in codes}
        for t in overdue_tasks(conn, codes, as_of, req.program):
            by_unit[t["unit_code"]].append(t | {"round": int(t["reminded_before"]) + 1})
        notices = []
        for unit in units:
            notice = Notice(
                unit_code=unit["code"],
                recipient=_recipient(unit),
                program=req.program,
                as_of=as_of,
                reply_by=reply_by,
                issuer=req.issuer.strip(),
                tasks=by_unit[unit["code"]],
            )
            notice.reminder_id = _record(conn, notice, actor, token_id)
            notices.append(notice)
        if notices:  # the wall's "reminded and still overdue" and the lists change
            conn.execute(text("update data_state set version = version + 1 where id = 1"))
    return notices


def _record(conn, notice: Notice, actor: str, token_id: int | None) -> int:
    tasks = [
        {
            "task_id": t["task_id"],
            "external_id": t["external_id"],
            "deadline": t["deadline"].isoformat(),
            "days_overdue": t["days_overdue"],
            "reason": t["reason"],
            "round": t["round"],
        }
        for t in notice.tasks
    ]
    return conn.execute(
        text(
            "insert into reminder (actor, token_id, unit_code, program, as_of, reply_by,"
            " issuer, tasks) values (:actor, :token, :unit, :program, :as_of, :reply_by,"
            " :issuer, cast(:tasks as jsonb)) returning id"
        ),
        {
            "actor": actor,
            "token": token_id,
            "unit": notice.unit_code,
            "program": notice.program,
            "as_of": notice.as_of,
            "reply_by": notice.reply_by,
            "issuer": notice.issuer,
            "tasks": json.dumps(tasks, ensure_ascii=False),
        },
    ).scalar_one()


def bundle(notices: list[Notice]) -> bytes:
    """A ZIP with each notice's DOCX and printable HTML."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n in notices:
            zf.writestr(f"{n.file_stem()}.docx", to_docx(n))
            zf.writestr(f"{n.file_stem()}.html", to_html(n))
    return out.getvalue()
