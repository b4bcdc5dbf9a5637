"""Delivering notices: a queue in PostgreSQL, worked by ``iocmap worker`` (e-mail, webhook).

Why a queue table filled in the issuing transaction: a notice and its deliveries are
recorded together or not at all, and nothing in the request path talks to a mail server —
a server that is down delays deliveries; it never loses a notice, blocks an import or slows
a page. One row per notice and channel (``delivery_once``):

- ``email``: ONE message per notice, To: every contact of the holder with an address
  (``unit_contact``), Cc: the leader in charge when the notice is an escalation. The
  recipients are read when the message is sent (contacts added after the notice count) and
  recorded on the row. Subject and text in Vietnamese, the notice's DOCX attached;
- ``webhook``: one JSON POST per notice to ``IOCMAP_WEBHOOK_URL``, signed (below).

Why "sent" is written in the claiming transaction: the worker claims a due row with
``SELECT … FOR UPDATE SKIP LOCKED``, sends while it holds the row lock, and marks it sent
(or failed, with the next attempt) before it commits. Two workers never send the same row,
and a sent row is never claimed again. The one window left is a crash (or a lost database
connection) after the receiver accepted the message and before the commit: the row is then
still due and is sent again. We chose that (at least once) over marking before sending
(at most once: a crash would lose the notice silently), and make the repeat recognisable:
an e-mail's Message-ID is derived from the delivery id (``<iocmap-delivery-ID@domain>``, the
same on every attempt, so mail systems collapse the copy) and a webhook carries
``X-IOCMAP-Delivery: ID`` for the receiver to drop a repeat.

Webhook signature: ``X-IOCMAP-Timestamp: <unix seconds>`` and ``X-IOCMAP-Signature:
sha256=<hex>``, the HMAC-SHA256 with ``IOCMAP_WEBHOOK_SECRET`` of the bytes
``<timestamp>.<raw body>`` (the timestamp's ASCII digits, a full stop, then the body exactly
as sent). A receiver recomputes it over the raw body, compares in constant time and refuses
a timestamp older than a few minutes (a replayed request). ``verify_signature`` does this.

Retries: a failed attempt is retried after ``backoff × 2^(attempts-1)`` seconds (capped at
6 hours); after ``max_attempts`` the row is ``dead`` and listed for an admin, who may
queue it again (``retry``). Every network call has a timeout.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.policy
import hashlib
import hmac
import importlib
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, Engine, text

from geo.errors import BadInput, Conflict, NotFound
from geo.letter import vn_date
from geo.read.deliveries import delivery_row

CHANNELS = ("email", "webhook")
STATUSES = ("queued", "sent", "failed", "dead")
BACKOFF_CAP_S = 6 * 3600
SIGNATURE_HEADER = "X-IOCMAP-Signature"
TIMESTAMP_HEADER = "X-IOCMAP-Timestamp"
DELIVERY_HEADER = "X-IOCMAP-Delivery"
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


@dataclass(frozen=True)
class DeliveryConfig:
    """What one worker can send with (unset channel = its rows stay queued for another)."""

    smtp_url: str | None = None
    smtp_ca_file: str | None = None  # CA bundle for the server's certificate (else system)
    mail_from: str = "iocmap@localhost"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    max_attempts: int = 8
    backoff_seconds: float = 60.0
    timeout_seconds: float = 20.0

    @property
    def channels(self) -> list[str]:
        out = []
        if self.smtp_url:
            out.append("email")
        if self.webhook_url and self.webhook_secret:
            out.append("webhook")
        return out


# --- queueing (in the issuing transaction) ------------------------------------------------
def queue_deliveries(conn: Connection, reminder_id: int, channels: Sequence[str]) -> None:
    """One queued delivery per channel for a notice just recorded (same transaction)."""
    for channel in channels:
        if channel not in CHANNELS:
            raise BadInput(f"kênh gửi không hợp lệ: {channel} (channels: email, webhook)")
        conn.execute(
            text(
                "insert into delivery (reminder_id, channel) values (:r, :c)"
                " on conflict (reminder_id, channel) do nothing"
            ),
            {"r": reminder_id, "c": channel},
        )


def holder_contacts(conn: Connection, unit_code: str | None, agency_code: str | None) -> list[dict]:
    """The holder's contacts (personal data: only the worker and scoped editors read them)."""
    return [
        dict(r)
        for r in conn.execute(
            text(
                "select role, name, email, is_leader from unit_contact"
                " where unit_code is not distinct from :u and agency_code is not distinct from :a"
                " order by position, id"
            ),
            {"u": unit_code, "a": agency_code},
        ).mappings()
    ]


def leader_in_charge(conn: Connection, code: str) -> str | None:
    """ "Role Name" of the holder's leader in charge of its area, if one is recorded."""
    row = conn.execute(
        text(
            "select role, name from unit_contact where (unit_code = :c or agency_code = :c)"
            " and is_leader order by position, id limit 1"
        ),
        {"c": code},
    ).first()
    return f"{row.name} ({row.role})" if row else None


def retry(conn: Connection, delivery_id: int) -> dict:
    """Queue a dead (or failed) delivery again, now, with its attempts reset."""
    row = conn.execute(
        text("select status from delivery where id = :i for update"), {"i": delivery_id}
    ).first()
    if row is None:
        raise NotFound(f"không có lượt gửi số {delivery_id} (no such delivery)")
    if row.status not in ("dead", "failed"):
        raise Conflict(
            f"lượt gửi {delivery_id} đang ở trạng thái {row.status}; chỉ gửi lại lượt thất bại"
            " (only a dead or failed delivery is retried)"
        )
    conn.execute(
        text(
            "update delivery set status = 'queued', attempts = 0, next_attempt_at = now()"
            " where id = :i"
        ),
        {"i": delivery_id},
    )
    return delivery_row(conn, delivery_id) or {}


# --- the message --------------------------------------------------------------------------
def _reply_link(reminder_id: int, reply_by: dt.date) -> str | None:
    """The notice's reply link (``geo/remind/reply.py``), when that module is installed."""
    try:
        module = importlib.import_module("geo.remind.reply")
    except ImportError:
        return None
    make: Callable[[int, dt.date], str] | None = getattr(module, "reply_link", None)
    return make(reminder_id, reply_by) if make else None


def subject(notice) -> str:
    mark = f"[{notice.escalation_mark.capitalize()}] " if notice.escalated else ""
    return (
        f"{mark}Công văn số {notice.doc_number} — {notice.title} — hạn báo cáo"
        f" {notice.reply_by:%d/%m/%Y}"
    )


def text_body(notice, link: str | None) -> str:
    lines = [f"Kính gửi: {notice.recipient}.", ""]
    if notice.escalated:
        lines += [f"*** {notice.escalation_mark.upper()} ***", ""]
    lines += [
        f"{notice.issuer.name} gửi Công văn số {notice.doc_number} ({notice.title}).",
        "",
        *notice.body(),
        "",
        f"Hạn báo cáo: {vn_date(notice.reply_by)}.",
        "",
        "Danh sách nhiệm vụ:",
    ]
    for i, t in enumerate(notice.tasks, 1):
        late = int(t.get("days_overdue") or 0)
        overdue = f", quá hạn {late} ngày" if late > 0 else ""
        deadline = str(t["deadline"])[:10]
        day = dt.date.fromisoformat(deadline)
        lines.append(
            f"{i}. {t['external_id']} — {t.get('title') or ''} (hạn {day:%d/%m/%Y}{overdue})"
        )
    lines.append("")
    if link:
        lines += [f"Báo cáo kết quả (không cần tài khoản) tại: {link}", ""]
    lines += [
        "Công văn kèm theo ở tệp đính kèm (DOCX).",
        "Thư này được gửi tự động từ hệ thống giám sát; vui lòng không trả lời thư này.",
    ]
    return "\n".join(lines)


def _domain(mail_from: str) -> str:
    return mail_from.rpartition("@")[2].strip("> ") or "localhost"


def build_email(
    cfg: DeliveryConfig, delivery_id: int, notice, contacts: list[dict]
) -> tuple[EmailMessage, list[dict]]:
    """The e-mail of a notice and who it goes to (BadInput when nobody has an address)."""
    from geo.remind.notice import to_docx

    to = [c for c in contacts if c.get("email") and not c.get("is_leader")]
    cc = [c for c in contacts if c.get("email") and c.get("is_leader")] if notice.escalated else []
    if not to:  # a holder whose only contact is its leader still gets the notice
        to, cc = cc or [c for c in contacts if c.get("email")], []
    if not to:
        raise BadInput(
            "đơn vị chưa có người nhận có địa chỉ e-mail (unit_contact) — no contact with an"
            " e-mail address"
        )
    msg = EmailMessage()
    # Pre-encoded and stored raw: CPython's folder drops the space between two RFC 2047
    # words when it splits a long Vietnamese header ("đôn đốc" arrived as "đônđốc").
    msg.set_raw("Subject", Header(subject(notice), "utf-8").encode(linesep="\r\n"))
    sender = parseaddr(cfg.mail_from)
    msg.set_raw("From", formataddr(sender, charset="utf-8"))
    msg.set_raw("To", _addresses(to))
    if cc:
        msg.set_raw("Cc", _addresses(cc))
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<iocmap-delivery-{delivery_id}@{_domain(cfg.mail_from)}>"
    msg["Content-Language"] = "vi"
    msg.set_content(text_body(notice, _reply_link(notice.reminder_id, notice.reply_by)))
    msg.add_attachment(
        to_docx(notice), maintype=DOCX[0], subtype=DOCX[1], filename=f"{notice.file_stem()}.docx"
    )
    sent_to = [{"name": c["name"], "email": c["email"], "cc": False} for c in to] + [
        {"name": c["name"], "email": c["email"], "cc": True} for c in cc
    ]
    return msg, sent_to


def _addresses(people: list[dict]) -> str:
    return ",\r\n ".join(formataddr((c["name"], c["email"]), charset="utf-8") for c in people)


def smtp_options(url: str) -> dict:
    """``smtp://`` (plain), ``smtp+starttls://`` or ``smtps://`` (TLS), with user:pass."""
    parts = urlsplit(url)
    schemes = {"smtp": (25, False, False), "smtp+starttls": (587, False, True),
               "smtps": (465, True, False)}  # fmt: skip
    if parts.scheme not in schemes or not parts.hostname:
        raise BadInput(
            "IOCMAP_SMTP_URL phải có dạng smtp://, smtp+starttls:// hoặc smtps://host:port"
            " (got a different scheme)",
            field="smtp_url",
        )
    port, tls, starttls = schemes[parts.scheme]
    return {
        "hostname": parts.hostname,
        "port": parts.port or port,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_tls": tls,
        "start_tls": starttls,
    }


async def _smtp_send(cfg: DeliveryConfig, msg: EmailMessage, rcpts: list[str]) -> None:
    import aiosmtplib

    assert cfg.smtp_url
    opts = smtp_options(cfg.smtp_url)
    raw = msg.as_bytes(policy=email.policy.SMTP.clone(refold_source="none"))
    sender = parseaddr(cfg.mail_from)[1]
    await asyncio.wait_for(
        aiosmtplib.send(
            raw,
            sender=sender,
            recipients=rcpts,
            timeout=cfg.timeout_seconds,
            cert_bundle=cfg.smtp_ca_file,
            **opts,
        ),
        cfg.timeout_seconds * 2,
    )


def _run_async(coro) -> None:
    """Run a coroutine to its end on a loop of its own thread (the caller may be inside a
    running loop: a test's, or an embedding's)."""
    with ThreadPoolExecutor(1, thread_name_prefix="iocmap-smtp") as pool:
        pool.submit(asyncio.run, coro).result()


def webhook_payload(delivery_id: int, notice, record: dict) -> dict:
    return {
        "event": "notice.issued",
        "delivery_id": delivery_id,
        "reminder_id": notice.reminder_id,
        "doc_number": notice.doc_number,
        "holder": {
            "kind": "agency" if record.get("agency_code") else "unit",
            "code": record.get("agency_code") or notice.unit_code,
            "name": notice.recipient,
        },
        "program": notice.program,
        "round": notice.round,
        "escalated": notice.escalated,
        "escalation": notice.escalation_mark,
        "leader": notice.leader,
        "title": notice.title,
        "subject": subject(notice),
        "as_of": notice.as_of.isoformat(),
        "reply_by": notice.reply_by.isoformat(),
        "reply_by_text": vn_date(notice.reply_by),
        "reply_url": _reply_link(notice.reminder_id, notice.reply_by),
        "text": text_body(notice, _reply_link(notice.reminder_id, notice.reply_by)),
        "tasks": [
            {
                "external_id": t["external_id"],
                "title": t.get("title"),
                "deadline": str(t["deadline"])[:10],
                "days_overdue": t.get("days_overdue"),
            }
            for t in notice.tasks
        ],
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``<timestamp>.`` + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    secret: str, headers: dict[str, str], body: bytes, tolerance_s: float = 300.0
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    lower = {k.lower(): v for k, v in headers.items()}
    ts = lower.get(TIMESTAMP_HEADER.lower(), "")
    got = lower.get(SIGNATURE_HEADER.lower(), "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > tolerance_s:
        return False
    return hmac.compare_digest(got, sign(secret, ts, body))


def _webhook_send(cfg: DeliveryConfig, delivery_id: int, body: bytes) -> None:
    import httpx

    assert cfg.webhook_url and cfg.webhook_secret
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: sign(cfg.webhook_secret, ts, body),
        DELIVERY_HEADER: str(delivery_id),
        "User-Agent": "iocmap-worker",
    }
    with httpx.Client(timeout=cfg.timeout_seconds, follow_redirects=False) as client:
        r = client.post(cfg.webhook_url, content=body, headers=headers)
    if not 200 <= r.status_code < 300:
        raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")


# --- the worker's step --------------------------------------------------------------------
def backoff(cfg: DeliveryConfig, attempts: int) -> float:
    return min(cfg.backoff_seconds * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S)


def work_one(engine: Engine, cfg: DeliveryConfig) -> dict | None:
    """Claim one due delivery of a configured channel, send it, record the outcome — all in
    one transaction (see the module docstring). None when nothing is due."""
    from geo.remind.issue import recorded_notice

    channels = cfg.channels
    if not channels:
        return None
    with engine.begin() as conn:
        row = (
            conn.execute(
                text(
                    "select id, reminder_id, channel, attempts from delivery"
                    " where status in ('queued', 'failed') and next_attempt_at <= now()"
                    " and channel = any(:ch)"
                    " order by next_attempt_at, id limit 1 for update skip locked"
                ),
                {"ch": channels},
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        found = recorded_notice(conn, row["reminder_id"])
        recipients = None
        message_id = None
        try:
            if found is None:
                raise NotFound(f"phiếu nhắc {row['reminder_id']} không còn (notice missing)")
            notice, record = found
            if row["channel"] == "email":
                contacts = holder_contacts(conn, record.get("unit_code"), record.get("agency_code"))
                msg, recipients = build_email(cfg, row["id"], notice, contacts)
                message_id = msg["Message-ID"]
                _run_async(_smtp_send(cfg, msg, [r["email"] for r in recipients]))
            else:
                payload = webhook_payload(row["id"], notice, record)
                body = json.dumps(payload, ensure_ascii=False, default=str).encode()
                _webhook_send(cfg, row["id"], body)
        except Exception as exc:  # noqa: BLE001 — any failure of a send is recorded, retried
            attempts = int(row["attempts"]) + 1
            dead = attempts >= cfg.max_attempts
            error = _error_text(exc)
            conn.execute(
                text(
                    "update delivery set status = :s, attempts = :a, last_error = :e,"
                    " recipients = coalesce(cast(:rc as jsonb), recipients),"
                    " next_attempt_at = now() + make_interval(secs => :wait) where id = :i"
                ),
                {
                    "s": "dead" if dead else "failed",
                    "a": attempts,
                    "e": error,
                    "rc": json.dumps(recipients, ensure_ascii=False) if recipients else None,
                    "wait": backoff(cfg, attempts),
                    "i": row["id"],
                },
            )
            return {"id": row["id"], "channel": row["channel"], "status": "dead" if dead
                    else "failed", "error": error}  # fmt: skip
        conn.execute(
            text(
                "update delivery set status = 'sent', attempts = attempts + 1, sent_at = now(),"
                " last_error = null, message_id = :m,"
                " recipients = coalesce(cast(:rc as jsonb), recipients) where id = :i"
            ),
            {
                "m": message_id,
                "rc": json.dumps(recipients, ensure_ascii=False) if recipients else None,
                "i": row["id"],
            },
        )
        return {"id": row["id"], "channel": row["channel"], "status": "sent"}


def _error_text(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"[:500]


def work_due(engine: Engine, cfg: DeliveryConfig, limit: int = 200) -> list[dict]:
    """Work due deliveries until none is left (at most ``limit`` in one go)."""
    done = []
    for _ in range(limit):
        outcome = work_one(engine, cfg)
        if outcome is None:
            break
        done.append(outcome)
    return done
