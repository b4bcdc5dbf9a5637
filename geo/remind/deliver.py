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

Webhook signature and the messages: ``geo/remind/message.py``.

Retries: a failed attempt is retried after ``backoff × 2^(attempts-1)`` seconds (capped at
6 hours); after ``max_attempts`` the row is ``dead`` and listed for an admin, who may
queue it again (``retry``). Every network call has a timeout.
"""

from __future__ import annotations

import asyncio
import email.policy
import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, Engine, text

from geo.errors import BadInput, Conflict, NotFound
from geo.read.deliveries import delivery_row
from geo.remind.message import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    build_email,
    sign,
    webhook_payload,
)

CHANNELS = ("email", "webhook")
STATUSES = ("queued", "sent", "failed", "dead")
BACKOFF_CAP_S = 6 * 3600


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
    from geo.remind.recorded import recorded_notice

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
                msg, recipients = build_email(cfg.mail_from, row["id"], notice, contacts)
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
