"""API tokens: who may change what. Stored hashed; scoped to a province or a commune.

Why hashed with plain SHA-256: tokens are 256-bit random strings, so a slow password
hash buys nothing, while a fast lookup by hash keeps every write request cheap. The
plain token is shown once, at creation.

Roles: ``viewer`` (read, when reading is configured to need a token), ``editor`` (writes
tasks of its scope: a province's own tasks and its communes' tasks, one commune's, or one
agency's — a ministry or central body, ``agency:BKHCN``),
``admin`` (central steering committee: everything, incl. boundaries and indicators).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, text

ROLES = ("viewer", "editor", "admin")
PREFIX = "iocm_"


class TokenError(ValueError):
    """A token request that cannot be honoured (bad role or scope)."""


@dataclass(frozen=True)
class Principal:
    """The caller behind a token."""

    token_id: int | None  # None for the bootstrap admin token from the environment
    name: str
    role: str
    scope_level: str | None  # province | commune | agency | None (national)
    scope_code: str | None

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


def create_token(conn: Connection, name: str, role: str, scope: str | None) -> tuple[int, str]:
    """Create a token; returns (id, the plain token — shown once, never stored)."""
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
            "insert into api_token (name, token_hash, token_prefix, role, scope_level, scope_code)"
            " values (:n, :h, :p, :r, :sl, :sc) returning id"
        ),
        {"n": name, "h": hash_token(plain), "p": plain[:12], "r": role, "sl": level, "sc": code},
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


def list_tokens(conn: Connection) -> list[dict]:
    """All tokens without secrets (prefix only)."""
    rows = conn.execute(
        text(
            "select id, name, token_prefix, role, scope_level, scope_code, created_at,"
            " revoked_at, last_used_at from api_token order by id"
        )
    ).mappings()
    return [dict(r) for r in rows]


def authenticate(conn: Connection, token: str, touch: bool = True) -> Principal | None:
    """The principal of a live token, or None. ``touch`` records the use (write paths);
    reads skip it so that they stay read-only (and can run on a replica)."""
    sql = (
        "update api_token set last_used_at = now()"
        " where token_hash = :h and revoked_at is null"
        " returning id, name, role, scope_level, scope_code"
        if touch
        else "select id, name, role, scope_level, scope_code from api_token"
        " where token_hash = :h and revoked_at is null"
    )
    row = conn.execute(text(sql), {"h": hash_token(token)}).first()
    if row is None:
        return None
    return Principal(row.id, row.name, row.role, row.scope_level, row.scope_code)
