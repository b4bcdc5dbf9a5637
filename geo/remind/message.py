"""What a notice's delivery says: the e-mail (Vietnamese subject and text, the DOCX
attached) and the webhook's JSON with its signature. ``geo/remind/deliver.py`` queues and
sends them.

Webhook signature: ``X-IOCMAP-Timestamp: <unix seconds>`` and ``X-IOCMAP-Signature:
sha256=<hex>``, the HMAC-SHA256 with ``IOCMAP_WEBHOOK_SECRET`` of the bytes
``<timestamp>.<raw body>`` (the timestamp's ASCII digits, a full stop, then the body exactly
as sent); ``X-IOCMAP-Delivery: <id>`` names the delivery (a repeat after a crash carries the
same id). ``verify_signature`` is what a receiver does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import importlib
import time
from collections.abc import Callable
from email.header import Header
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr

from geo.errors import BadInput
from geo.letter import vn_date

SIGNATURE_HEADER = "X-IOCMAP-Signature"
TIMESTAMP_HEADER = "X-IOCMAP-Timestamp"
DELIVERY_HEADER = "X-IOCMAP-Delivery"
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


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
    mail_from: str, delivery_id: int, notice, contacts: list[dict]
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
    sender = parseaddr(mail_from)
    msg.set_raw("From", formataddr(sender, charset="utf-8"))
    msg.set_raw("To", _addresses(to))
    if cc:
        msg.set_raw("Cc", _addresses(cc))
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<iocmap-delivery-{delivery_id}@{_domain(mail_from)}>"
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
