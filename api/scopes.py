"""Scope checks of writes that routers share: a token scoped to a province may change its
province and its communes, one scoped to a commune or agency only that unit.

Why outside ``routers/``: the imports and the reminders both refuse units outside the
token's scope with the same words; routers import shared pieces from ``api/``, never from
each other."""

from __future__ import annotations

from geo.errors import Forbidden
from geo.tokens import Principal


def scope_check(who: Principal):
    """An ``authorize`` hook refusing units outside the token's scope (reminders use it)."""

    def authorize(conn, unit_codes: set[str]) -> None:
        denied = who.can_write_units(conn, unit_codes)
        if denied:
            shown = ", ".join(denied[:10]) + (" …" if len(denied) > 10 else "")
            raise Forbidden(
                f"token '{who.name}' (scope {who.scope_level}:{who.scope_code}) may not "
                f"change tasks of units {shown}; nothing was imported"
            )

    return authorize
