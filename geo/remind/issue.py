"""Reminder notices: preview who would be reminded and why, then issue exactly that.

Why two steps: an office must see the set before anything is recorded (a wrong criterion
once issued 118 notices). A preview records nothing; its id carries the resolved criteria
and a digest of the selection (units, their rounds, their tasks). Issuing recomputes the
selection under the issuing lock and refuses (409) when it no longer equals the preview —
the data changed, or the preview was issued already (its units are then "recently
reminded") — so an id issues at most once and always what was shown.

Why one transaction with an advisory lock: rounds (lần 2, 3 …) count earlier live notices,
and document numbers run per issuer per year with no gap and no repeat (``notice_number``,
taken inside the same transaction, so a rolled-back issue gives its numbers back). A notice
issued by mistake is withdrawn by an appended record; it then counts neither as a round nor
as a recent reminder.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace

from sqlalchemy import Connection, Engine, text

from geo.agencies import CODE_RE, is_agency_code
from geo.errors import BadInput, Conflict, NotFound
from geo.read.followup import open_tasks, recent_notices, remind_candidates, reminder_record
from geo.read.progress import VN_TZ, data_state
from geo.remind.deliver import CHANNELS, leader_in_charge, queue_deliveries
from geo.remind.issuers import NATIONAL, issuer_for
from geo.remind.notice import Notice, to_docx, to_html
from geo.remind.recorded import recipient
from geo.remind.reply import reply_link

MAX_UNITS = 500
LOCK_KEY = 5_702_0014  # pg advisory lock: one issuance at a time
DEFAULT_MIN_DAYS = 3


@dataclass(frozen=True)
class RemindRequest:
    """Which units to remind and what the notice says. Only the criteria given count."""

    program: str = "NQ57"
    overdue: bool = False  # units with overdue tasks
    below: float | None = None  # units whose completion % is under this
    province: str | None = None  # only this province (and its communes)
    as_of: dt.date | None = None  # default: the data's reporting date
    reply_by: dt.date | None = None  # default: as_of + 7 days
    issuer: str | None = None  # the issuing body's name, when not the issuer profile's
    combine: str = "any"  # any | all of the criteria given
    force: bool = False  # remind units reminded within min_days too
    min_days: int = DEFAULT_MIN_DAYS
    agency: str | None = None  # remind this ministry (its own tasks) instead of units
    unit: str | None = None  # exactly this unit (the escalation of one silent holder)
    escalate: bool = False  # an automatic round: marked, the leader in charge copied

    def check(self) -> None:
        if not self.overdue and self.below is None:
            raise BadInput(
                "chọn tiêu chí: đơn vị có nhiệm vụ quá hạn (overdue) hoặc tỷ lệ hoàn thành dưới"
                " mức (below) — choose overdue and/or below",
                field="overdue",
            )
        if self.below is not None and not 0 < self.below <= 100:
            raise BadInput("below phải là tỷ lệ % trong (0, 100] (below: a %)", field="below")
        if self.combine not in ("any", "all"):
            raise BadInput("combine phải là any hoặc all (combine: any | all)", field="combine")
        if self.issuer is not None and (not self.issuer.strip() or len(self.issuer) > 300):
            raise BadInput("issuer phải dài 1–300 ký tự (issuer: 1–300 characters)", field="issuer")
        if self.agency is not None and not CODE_RE.match(self.agency):
            raise BadInput(
                "agency phải là mã bộ, ngành (2–16 chữ in hoa, ví dụ BKHCN) — agency: a code",
                field="agency",
            )
        if self.agency is not None and self.province is not None:
            raise BadInput(
                "chọn province hoặc agency, không cả hai (province and agency exclude each other)",
                field="agency",
            )
        if not 0 <= self.min_days <= 365:
            raise BadInput("min_days phải trong 0–365", field="min_days")

    def encode(self) -> str:
        body = json.dumps(asdict(self), default=str, sort_keys=True, separators=(",", ":"))
        return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, blob: str) -> RemindRequest:
        try:
            raw = json.loads(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
            known = {f.name for f in fields(cls)}
            if not isinstance(raw, dict) or set(raw) - known:
                raise ValueError("unknown fields")
            for key in ("as_of", "reply_by"):
                if raw.get(key):
                    raw[key] = dt.date.fromisoformat(raw[key])
            req = cls(**raw)
            req.check()
            if req.escalate:  # an automatic round is the worker's (geo/remind/escalate.py)
                raise ValueError("escalate")
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise BadInput(
                "mã xem trước không hợp lệ (malformed preview id)", field="preview_id"
            ) from exc
        return req


@dataclass
class Preview:
    """Who would be reminded, why, with which tasks; and who is skipped and why."""

    request: RemindRequest  # with as_of and reply_by resolved
    notices: list[Notice]
    skipped: list[dict]

    @property
    def digest(self) -> str:
        picked = [
            [n.unit_code, n.round, [[t["task_id"], t["round"]] for t in n.tasks]]
            for n in self.notices
        ]
        body = json.dumps([self.request.encode(), picked], separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()[:20]

    @property
    def preview_id(self) -> str:
        return f"{self.request.encode()}.{self.digest}"


def preview(conn: Connection, req: RemindRequest, now: dt.datetime | None = None) -> Preview:
    """Select the units and their tasks; record nothing."""
    req.check()
    as_of = req.as_of or data_state(conn).default_as_of()
    # seven days from when the notice goes out (figures of an earlier day must not give a
    # reply-by date already past, nor a reply link already expired)
    issued_on = (now or dt.datetime.now(VN_TZ)).astimezone(VN_TZ).date()
    reply_by = req.reply_by or max(as_of, issued_on) + dt.timedelta(days=7)
    if reply_by < as_of:
        raise BadInput("hạn báo cáo trước ngày số liệu (reply_by before as_of)", field="reply_by")
    req = replace(req, as_of=as_of, reply_by=reply_by)
    if (
        req.agency is not None
        and not conn.execute(
            text("select 1 from agency where code = :c"), {"c": req.agency}
        ).first()
    ):
        raise BadInput(f"không có bộ, ngành mã {req.agency} (agency: unknown)", field="agency")
    # ``unit``: within itself is that unit alone at the programme's level; a ministry's
    # code names that ministry (the escalation of a silent ministry)
    agency, within = req.agency, req.unit or req.province
    if req.unit is not None and is_agency_code(req.unit):
        agency, within = req.unit, None
    units = remind_candidates(
        conn, as_of, req.program, req.overdue, req.below, within, req.combine, agency
    )
    if len(units) > MAX_UNITS:
        raise BadInput(
            f"{len(units)} đơn vị được chọn (tối đa {MAX_UNITS}); hãy thu hẹp theo tỉnh"
            f" — {len(units)} units selected (cap {MAX_UNITS}); narrow by province"
        )
    if req.unit:
        units = [u for u in units if u["code"] == req.unit]
    codes = [u["code"] for u in units]
    now = now or dt.datetime.now(dt.UTC)
    earlier = recent_notices(conn, codes, req.program, now - dt.timedelta(days=req.min_days))
    issuer = issuer_for(conn, req.province or NATIONAL)
    if req.issuer:
        issuer = replace(issuer, name=req.issuer.strip())
    only_overdue = not req.below  # selected for overdue only: the overdue tasks
    by_unit: dict[str, list[dict]] = {c: [] for c in codes}
    for t in open_tasks(conn, codes, as_of, req.program, only_overdue):
        by_unit[t["unit_code"]].append(t | {"round": int(t["reminded_before"]) + 1})
    notices, skipped = [], []
    for unit in units:
        past = earlier.get(unit["code"])
        if past and past["recent"] and not req.force:
            skipped.append(
                {
                    "unit_code": unit["code"],
                    "unit_name": unit["name"],
                    "reason": "recently_reminded",
                    "message": f"đã nhắc trong {req.min_days} ngày qua (lần gần nhất "
                    f"{past['last_at'].astimezone(VN_TZ):%d/%m/%Y %H:%M}); dùng force để nhắc lại",
                    "last_at": past["last_at"],
                }
            )
            continue
        notices.append(
            Notice(
                unit_code=unit["code"],
                recipient=recipient(unit),
                program=req.program,
                as_of=as_of,
                reply_by=reply_by,
                issuer=issuer,
                tasks=by_unit[unit["code"]],
                reasons=unit["reasons"],
                round=int(past["notices"]) + 1 if past else 1,
                escalated=req.escalate,
                leader=leader_in_charge(conn, unit["code"]) if req.escalate else None,
            )
        )
    return Preview(req, notices, skipped)


Authorize = Callable[[Connection, set[str]], None]


def issue(
    engine: Engine,
    req: RemindRequest,
    actor: str,
    token_id: int | None = None,
    authorize: Authorize | None = None,
    expect: str | None = None,
    channels: Sequence[str] = CHANNELS,
    today: dt.date | None = None,
) -> list[Notice]:
    """Issue the selection of ``req``: when ``expect`` (a preview's digest) is given, only if
    the selection is still exactly that preview's. ``authorize(conn, codes)`` raises to
    refuse; nothing is recorded then. Each notice's deliveries (one per channel of
    ``channels``) are queued in the same transaction (``geo/remind/deliver.py``); ``today``
    dates the notices (the worker's escalation with a moved clock)."""
    with engine.begin() as conn:
        conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        seen = preview(conn, req)
        if expect is not None and seen.digest != expect:
            raise Conflict(
                "danh sách nhắc việc đã thay đổi kể từ khi xem trước (số liệu mới, hoặc bản xem"
                " trước này đã được phát hành); hãy xem trước lại — the selection changed since"
                " the preview (new data, or this preview was issued already): preview again"
            )
        codes = {n.unit_code for n in seen.notices}
        if authorize is not None:
            authorize(conn, codes | {c for c in (req.province, req.agency) if c})
        today = today or dt.datetime.now(VN_TZ).date()
        for notice in seen.notices:
            notice.issued_on = today
            notice.number = _next_number(conn, notice.issuer.code, today.year)
            notice.reminder_id = _record(conn, notice, actor, token_id)
            notice.reply_url = reply_link(notice.reminder_id, notice.reply_by)
            queue_deliveries(conn, notice.reminder_id, channels)
        if seen.notices:  # the lists, the wall's rail and the rounds change
            conn.execute(text("update data_state set version = version + 1 where id = 1"))
    return seen.notices


def issue_preview(
    engine: Engine,
    preview_id: str,
    actor: str,
    token_id: int | None = None,
    authorize: Authorize | None = None,
    channels: Sequence[str] = CHANNELS,
) -> list[Notice]:
    """Issue exactly the preview ``preview_id`` names (409 when its selection changed)."""
    blob, _, digest = preview_id.partition(".")
    if not blob or len(digest) != 20:
        raise BadInput("mã xem trước không hợp lệ (malformed preview id)", field="preview_id")
    return issue(engine, RemindRequest.decode(blob), actor, token_id, authorize, digest, channels)


def _next_number(conn: Connection, issuer_code: str, year: int) -> int:
    """The issuer's next number this year; the row stays locked until this issue commits."""
    return int(
        conn.execute(
            text(
                "insert into notice_number (issuer_code, year, last) values (:i, :y, 1)"
                " on conflict (issuer_code, year) do update set last = notice_number.last + 1"
                " returning last"
            ),
            {"i": issuer_code, "y": year},
        ).scalar_one()
    )


def _record(conn: Connection, notice: Notice, actor: str, token_id: int | None) -> int:
    tasks = [
        {
            "task_id": t["task_id"],
            "external_id": t["external_id"],
            "title": t["title"],
            "deadline": t["deadline"].isoformat(),
            "days_overdue": t["days_overdue"],
            "reason": t["reason"],
            "round": t["round"],
        }
        for t in notice.tasks
    ]
    assert notice.issued_on is not None and notice.number is not None
    return conn.execute(
        text(
            "insert into reminder (actor, token_id, unit_code, agency_code, program, as_of,"
            " reply_by, issuer, tasks, issuer_code, number_year, number, doc_number, reasons,"
            " escalated, leader)"
            " values (:actor, :token, :unit, :agency, :program, :as_of, :reply_by, :issuer,"
            " cast(:tasks as jsonb), :issuer_code, :year, :number, :doc_number,"
            " cast(:reasons as jsonb), :escalated, :leader) returning id"
        ),
        {
            "actor": actor,
            "token": token_id,
            "unit": None if is_agency_code(notice.unit_code) else notice.unit_code,
            "agency": notice.unit_code if is_agency_code(notice.unit_code) else None,
            "program": notice.program,
            "as_of": notice.as_of,
            "reply_by": notice.reply_by,
            "issuer": notice.issuer.name,
            "tasks": json.dumps(tasks, ensure_ascii=False),
            "issuer_code": notice.issuer.code,
            "year": notice.issued_on.year,
            "number": notice.number,
            "doc_number": notice.doc_number,
            "reasons": json.dumps(notice.reasons, ensure_ascii=False),
            "escalated": notice.escalated,
            "leader": notice.leader,
        },
    ).scalar_one()


def withdraw(
    engine: Engine,
    reminder_id: int,
    reason: str,
    actor: str,
    token_id: int | None = None,
    authorize: Authorize | None = None,
) -> dict:
    """Withdraw a notice issued by mistake: an appended record (who, when, why); the notice
    stays listed, marked withdrawn, and no longer counts as a round or a recent reminder."""
    reason = reason.strip()
    if not reason or len(reason) > 1000:
        raise BadInput("nêu lý do thu hồi (1–1000 ký tự) — give a reason", field="reason")
    with engine.begin() as conn:
        conn.execute(text("select pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        record = reminder_record(conn, reminder_id)
        if record is None:
            raise NotFound(f"không có phiếu nhắc số {reminder_id} (no such notice)")
        if authorize is not None:
            authorize(conn, {record["holder_code"]})
        if record["withdrawn_at"] is not None:
            raise Conflict(f"phiếu {reminder_id} đã được thu hồi (already withdrawn)")
        conn.execute(
            text(
                "insert into reminder_withdrawal (reminder_id, actor, token_id, reason)"
                " values (:id, :actor, :token, :reason)"
            ),
            {"id": reminder_id, "actor": actor, "token": token_id, "reason": reason},
        )
        conn.execute(text("update data_state set version = version + 1 where id = 1"))
        return reminder_record(conn, reminder_id) or {}


def bundle(notices: list[Notice]) -> bytes:
    """A ZIP with each notice's DOCX and printable HTML."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n in notices:
            zf.writestr(f"{n.file_stem()}.docx", to_docx(n))
            zf.writestr(f"{n.file_stem()}.html", to_html(n))
    return out.getvalue()


def notice_json(n: Notice) -> dict:
    """A notice as the API and the page show it (preview or issued)."""
    return {
        "id": n.reminder_id,
        "number": n.number,
        "doc_number": n.doc_number if n.number else None,
        "unit_code": n.unit_code,
        "recipient": n.recipient,
        "program": n.program,
        "round": n.round,
        "reasons": n.reasons,
        "as_of": n.as_of.isoformat(),
        "reply_by": n.reply_by.isoformat(),
        "issuer": n.issuer.name,
        "holder": "agency" if is_agency_code(n.unit_code) else "unit",
        "reply_url": n.reply_url,
        "tasks": [
            {
                "external_id": t["external_id"],
                "title": t.get("title"),
                "deadline": str(t["deadline"]),
                "days_overdue": t["days_overdue"],
                "round": t["round"],
            }
            for t in n.tasks
        ],
    }
