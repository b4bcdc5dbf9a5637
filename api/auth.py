"""Who is calling: bearer tokens → a Principal, and the guards the routers use.

Why a bootstrap token from the environment: a fresh deployment needs one admin to create
the others (`iocmap token create` works too, from the server's shell). It compares in
constant time and acts as a national admin without a database row.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from api.dbgate import db_gate
from geo.db import TOKEN_OPTION
from geo.tokens import Principal, TokenExpired, authenticate

_BOOTSTRAP = Principal(None, "admin", "admin", None, None)  # actor "token:admin"


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def write_engine(request: Request):
    """The engine that writes: the primary's, when reads go to a replica."""
    state = request.app.state
    return getattr(state, "write_engine", None) or state.engine


def principal(request: Request, touch: bool = True) -> Principal | None:
    """Resolve the caller; None when no (valid) token was sent."""
    token = bearer_token(request)
    if not token:
        return None
    admin = request.app.state.settings.admin_token
    if admin and secrets.compare_digest(token.encode(), admin.encode()):
        return _BOOTSTRAP
    engine = write_engine(request) if touch else request.app.state.engine
    try:
        with engine.begin() as conn:
            return authenticate(conn, token, touch=touch)
    except TokenExpired as exc:
        raise HTTPException(
            401,
            f"Mã truy cập (token) '{exc.name}' đã hết hạn lúc"
            f" {exc.expires_at:%Y-%m-%d %H:%M} UTC; đề nghị quản trị viên cấp mã mới"
            f" (iocmap token rotate). / The API token '{exc.name}' expired at"
            f" {exc.expires_at:%Y-%m-%d %H:%M} UTC; ask an administrator for a new one.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc


def acting_engine(request: Request, who: Principal):
    """The write engine whose transactions present ``who``'s token to the database, which
    stamps the history rows they insert with that token (never the app's say-so)."""
    engine = write_engine(request)
    if who.secret:
        return engine.execution_options(**{TOKEN_OPTION: who.secret})
    return engine


def require_writer(request: Request, touch: bool = True, action: str = "write") -> Principal:
    """401 without a valid token, 403 for read-only roles; scope checks come per object.
    ``touch=False``: a read of editors' data (the import log, kept files) that does not
    count as the token's use."""
    who = principal(request, touch)
    if who is None:
        raise HTTPException(
            401,
            "a valid API token is required: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if who.role not in ("editor", "admin"):
        raise HTTPException(403, f"role '{who.role}' may not {action}")
    return who


def require_admin(request: Request) -> Principal:
    """Boundaries and indicators are national data: admins only."""
    who = require_writer(request)
    if who.role != "admin":
        raise HTTPException(403, "only an admin token may change boundaries or indicators")
    return who


async def writer_principal(request: Request) -> Principal:
    """``require_writer`` off the event loop (the token is looked up on the database lane):
    an async route awaits this, never the blocking check."""
    return await db_gate(request).run(require_writer, request)


async def editor_reader(request: Request, action: str) -> Principal:
    """An editor or admin token, for reading what only they may read, off the event loop
    (the token is looked up without counting as a use)."""
    return await db_gate(request).run(require_writer, request, False, action)


async def admin_principal(request: Request) -> Principal:
    """``require_admin`` off the event loop."""
    return await db_gate(request).run(require_admin, request)


WriterDep = Annotated[Principal, Depends(writer_principal)]
AdminDep = Annotated[Principal, Depends(admin_principal)]


async def read_guard(request: Request) -> None:
    """When reading is configured to need a token (IOCMAP_READ_REQUIRES_TOKEN), any live
    token of any role may read. Async: it runs on every read, and open reading must not
    cost a worker thread; the token lookup runs on the database lane."""
    if not request.app.state.settings.read_requires_token:
        return
    if await db_gate(request).run(principal, request, False) is None:
        raise HTTPException(
            401, "reading requires an API token", headers={"WWW-Authenticate": "Bearer"}
        )
