"""The reply link of a notice: a signed, single-purpose token that lets the unit answer that
notice, and only that notice, without an account, until a set number of days after its
reply-by date.

Why an HMAC and not a stored random token: the link must be printable in the DOCX at the
moment the notice is recorded, by any process (the server, ``iocmap remind --issue``, the
delivery worker) without a table of secrets; the key stays on the server. The token is
``<reminder id>.<expiry yyyymmdd>.<mac>``, the MAC (HMAC-SHA256, 144 bits) over the purpose
``reply``, the id and the expiry, so a token cannot be stretched, moved to another notice or
reused for another purpose. The key is ``IOCMAP_REPLY_SECRET``, else a random key generated
once per database and kept 0600 in the instance's private directory (``api/instance.py``),
which every process serving the same database shares. Each process configures it once
from its settings (``api.settings.Settings.configure_reply_links``: the server at start-up,
``iocmap remind``, the delivery worker); ``geo`` never reads the settings itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

PURPOSE = "reply"
TOKEN_RE = re.compile(r"^([1-9]\d{0,17})\.(\d{8})\.([A-Za-z0-9_-]{24})$")
MIN_SECRET = 32


class ReplyTokenError(ValueError):
    """A token that does not open a notice: ``kind`` is malformed | altered | expired."""

    def __init__(self, kind: str, expired_on: dt.date | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.expired_on = expired_on


@dataclass(frozen=True)
class ReplyConfig:
    secret: bytes
    base_url: str
    days: int


_lock = threading.Lock()
_config: ReplyConfig | None = None


def secret_file(directory: Path) -> bytes:
    """The instance's generated key: read it, or create it once (atomically, 0600)."""
    path = directory / "reply-secret"
    if not path.exists():
        tmp = directory / f".reply-secret.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # the first process wins; the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def configure(secret: str | None, base_url: str, days: int, directory: Path | None) -> None:
    """Set the key, the base URL and the validity (the server at start-up)."""
    global _config
    if secret is not None and len(secret) < MIN_SECRET:
        raise ValueError(f"IOCMAP_REPLY_SECRET must have at least {MIN_SECRET} characters")
    if secret is None:
        if directory is None:
            raise ValueError("no reply secret and no instance directory to keep one")
        key = secret_file(directory)
    else:
        key = secret.encode()
    with _lock:
        _config = ReplyConfig(key, base_url.rstrip("/"), days)


class ReplyNotConfigured(RuntimeError):
    """No key yet: the process did not call ``configure`` (``Settings.configure_reply_links``)."""


def config() -> ReplyConfig:
    """The configuration set by ``configure`` (the server at start-up, every ``iocmap``
    command that issues notices, the delivery worker: ``Settings.configure_reply_links``)."""
    if _config is None:
        raise ReplyNotConfigured(
            "reply links are not configured: call Settings().configure_reply_links() first"
        )
    return _config


def _mac(key: bytes, reminder_id: int, expires: str, purpose: str) -> str:
    body = f"iocmap|{purpose}|{reminder_id}|{expires}".encode()
    digest = hmac.new(key, body, hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def expiry(reply_by: dt.date) -> dt.date:
    return reply_by + dt.timedelta(days=config().days)


def sign(reminder_id: int, expires: dt.date, purpose: str = PURPOSE) -> str:
    """A token for ``reminder_id`` valid through ``expires`` (tests sign other purposes)."""
    stamp = f"{expires:%Y%m%d}"
    return f"{reminder_id}.{stamp}.{_mac(config().secret, reminder_id, stamp, purpose)}"


def reply_token(reminder_id: int, reply_by: dt.date) -> str:
    return sign(reminder_id, expiry(reply_by))


def reply_link(reminder_id: int, reply_by: dt.date) -> str:
    """The absolute URL a notice prints (and its e-mail carries) for answering it."""
    return f"{config().base_url}/reply/{reply_token(reminder_id, reply_by)}"


def verify(token: str, today: dt.date | None = None) -> tuple[int, dt.date]:
    """(reminder id, last valid day) of a genuine, unexpired reply token; else
    ``ReplyTokenError``. A link copied from the letter's sentence may carry its closing
    punctuation ("….", "…,"): none of it can end a token (base64url), so it is dropped."""
    m = TOKEN_RE.match((token or "").rstrip(".,;:)>»”"))
    if not m:
        raise ReplyTokenError("malformed")
    rid, stamp, mac = int(m.group(1)), m.group(2), m.group(3)
    if not hmac.compare_digest(mac, _mac(config().secret, rid, stamp, PURPOSE)):
        raise ReplyTokenError("altered")
    try:
        expires = dt.datetime.strptime(stamp, "%Y%m%d").date()
    except ValueError as exc:
        raise ReplyTokenError("malformed") from exc
    if (today or dt.date.today()) > expires:
        raise ReplyTokenError("expired", expires)
    return rid, expires
