"""API tokens: who may change what. Stored hashed; scoped to a province or a commune.

Why hashed with plain SHA-256: tokens are 256-bit random strings, so a slow password
hash buys nothing, while a fast lookup by hash keeps every write request cheap. The
plain token is shown once, at creation.

Roles: ``viewer`` (read, when reading is configured to need a token), ``editor`` (writes
tasks of its scope: a province's own tasks and its communes' tasks, one commune's, or one
agency's — a ministry or central body, ``agency:BKHCN``),
``admin`` (central steering committee: everything, incl. boundaries and indicators).

Why the database checks secrets (migration 0011): the app role may not read hashes nor
write ``api_token``; ``iocmap_authenticate`` (``SECURITY DEFINER``) answers for a secret,
and a write transaction presents the secret (``iocmap.token``, see ``geo.db``) so that the
database itself stamps history rows with the token's name. Tokens expire
(``DEFAULT_LIFETIME_DAYS``, ``IOCMAP_TOKEN_LIFETIME_DAYS``) and are rotated by name.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, text

ROLES = ("viewer", "editor", "admin")
PREFIX = "iocm_"
DEFAULT_LIFETIME_DAYS = 180.0  # api.settings.Settings.token_lifetime_days


class TokenError(ValueError):
    """A token request that cannot be honoured (bad role or scope)."""


class TokenExpired(Exception):
    """A token that was valid but whose lifetime is over (the API answers 401)."""

    def __init__(self, name: str, expires_at: datetime) -> None:
        super().__init__(f"token '{name}' expired at {expires_at:%Y-%m-%d %H:%M} UTC")
        self.name = name
        self.expires_at = expires_at


@dataclass(frozen=True)
class Principal:
    """The caller behind a token."""

    token_id: int | None  # None for the bootstrap admin token from the environment
    name: str
    role: str
    scope_level: str | None  # province | commune | agency | None (national)
    scope_code: str | None
    # the secret itself, presented by write transactions so the database can stamp history
    secret: str | None = field(default=None, repr=False, compare=False)

    @property
    def actor(self) -> str:
        return f"token:{self.name}"

    def can_write_units(self, conn: Connection, unit_codes: Iterable[str]) -> list[str]:
        """The codes among ``unit_codes`` this principal may NOT write (empty = all allowed)."""
        codes = sorted(set(unit_codes))
        if self.role == "admin":
            return []
        if self.role != "editor" or not self.scope_code:
            return codes
        if self.scope_level in ("commune", "agency"):
            return [c for c in codes if c != self.scope_code]
        allowed = set(
            conn.execute(
                text(
                    "select code from admin_unit where code = any(:codes)"
                    " and (code = :p or parent_code = :p)"
                ),
                {"codes": codes, "p": self.scope_code},
            ).scalars()
        )
        return [c for c in codes if c not in allowed]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scope(scope: str | None) -> tuple[str | None, str | None]:
    """``province:96`` / ``commune:31078`` / ``agency:BKHCN`` / None (national) → (level,
    code)."""
    if not scope:
        return None, None
    agency = re.fullmatch(r"agency:([A-Za-z]{2,16})", scope.strip())
    if agency:
        return "agency", agency.group(1).upper()
    m = re.fullmatch(r"(province|commune):(\d+)", scope.strip())
    if not m:
        raise TokenError(
            f"scope must look like province:96, commune:31078 or agency:BKHCN, got {scope!r}"
        )
    level, code = m.groups()
    code = code.zfill(2 if level == "province" else 5)
    if (level == "province" and len(code) != 2) or (level == "commune" and len(code) != 5):
        raise TokenError(f"bad {level} code in scope {scope!r}")
    return level, code


def create_token(
    conn: Connection,
    name: str,
    role: str,
    scope: str | None,
    lifetime_days: float = DEFAULT_LIFETIME_DAYS,
) -> tuple[int, str]:
    """Create a token valid for ``lifetime_days``; returns (id, the plain token — shown
    once, never stored). Run as the owner: the app role may not write ``api_token``."""
    if not 0 < lifetime_days <= 3660:
        raise TokenError(f"lifetime must be between 0 and 3660 days, got {lifetime_days}")
    if role not in ROLES:
        raise TokenError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    level, code = parse_scope(scope)
    if role == "editor" and not code:
        raise TokenError(
            "an editor token needs a scope (province:NN, commune:NNNNN or agency:CODE)"
        )
    known = (
        "select 1 from agency where code = :c and :l = 'agency'"
        if level == "agency"
        else "select 1 from admin_unit where code = :c and level = :l"
    )
    if code and not conn.execute(text(known), {"c": code, "l": level}).first():
        raise TokenError(f"unknown {level} code {code} in scope")
    plain = PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(
        text(
            "insert into api_token (name, token_hash, token_prefix, role, scope_level,"
            " scope_code, expires_at) values (:n, :h, :p, :r, :sl, :sc,"
            " now() + make_interval(secs => :life)) returning id"
        ),
        {
            "n": name,
            "h": hash_token(plain),
            "p": plain[:12],
            "r": role,
            "sl": level,
            "sc": code,
            "life": lifetime_days * 86400,
        },
    ).scalar_one()
    return token_id, plain


def revoke_token(conn: Connection, token_id: int) -> bool:
    """Revoke (kept for the audit trail, never deleted); False if unknown or already revoked."""
    return (
        conn.execute(
            text("update api_token set revoked_at = now() where id = :i and revoked_at is null"),
            {"i": token_id},
        ).rowcount
        == 1
    )


def rotate_token(
    conn: Connection,
    name: str,
    grace_minutes: float = 0,
    lifetime_days: float = DEFAULT_LIFETIME_DAYS,
) -> tuple[int, str, int]:
    """A new secret for the live token named ``name`` (same role and scope); the old one
    is revoked now, or expires after ``grace_minutes`` (at most a day) so that a deployed
    client can switch. Returns (new id, new plain token, old id)."""
    if not 0 <= grace_minutes <= 1440:
        raise TokenError(f"grace must be between 0 and 1440 minutes, got {grace_minutes}")
    live = conn.execute(
        text(
            "select id, role, scope_level, scope_code from api_token where name = :n"
            " and revoked_at is null and expires_at > now() order by id for update"
        ),
        {"n": name},
    ).all()
    if len(live) != 1:
        raise TokenError(
            f"{len(live)} live tokens are named {name!r}: rotate needs exactly one"
            " (see `iocmap token list`)"
        )
    old = live[0]
    scope = f"{old.scope_level}:{old.scope_code}" if old.scope_code else None
    new_id, plain = create_token(conn, name, old.role, scope, lifetime_days)
    if grace_minutes:
        conn.execute(
            text(
                "update api_token set expires_at = least(expires_at,"
                " now() + make_interval(secs => :g)) where id = :i"
            ),
            {"g": grace_minutes * 60, "i": old.id},
        )
    else:
        revoke_token(conn, old.id)
    return new_id, plain, old.id


def list_tokens(conn: Connection) -> list[dict]:
    """All tokens without secrets (prefix only)."""
    rows = conn.execute(
        text(
            "select id, name, token_prefix, role, scope_level, scope_code, created_at,"
            " revoked_at, last_used_at, expires_at from api_token order by id"
        )
    ).mappings()
    return [dict(r) for r in rows]


def authenticate(conn: Connection, token: str, touch: bool = True) -> Principal | None:
    """The principal of a live token, or None; raises TokenExpired for a known token past
    its lifetime. ``touch`` records the use (write paths); reads skip it so that they stay
    read-only (and can run on a replica). The database compares the hash: the app role
    cannot read hashes (``iocmap_authenticate``, migration 0011)."""
    row = conn.execute(
        text("select * from iocmap_authenticate(:t, :touch)"), {"t": token, "touch": touch}
    ).first()
    if row is None:
        return None
    if row.expired:
        raise TokenExpired(row.name, row.expires_at)
    return Principal(row.id, row.name, row.role, row.scope_level, row.scope_code, token)
