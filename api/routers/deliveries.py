"""Deliveries of notices (e-mail, webhook): a notice's deliveries, the list by status (the
dead letters), and an admin's retry of a dead one.

Why editors/admins only, scoped like the notices: a delivery names the holder's contacts'
addresses (personal data) and the mail server's refusals. ``iocmap worker`` sends; these
routes only read and re-queue (``geo/remind/deliver.py``), so none waits on a mail server.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from sqlalchemy import text

from api.auth import acting_engine, admin_principal, editor_reader, write_engine
from api.dbgate import db_gate
from api.params import JSON, Offset, check_limit
from api.scopes import scope_check
from geo.read import deliveries
from geo.remind import deliver

router = APIRouter(tags=["reminders"])
LIST_CAP = 500


def _iso(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


def _row(d: dict) -> dict:
    return {k: _iso(v) for k, v in d.items()}


@router.get(
    "/reminders/{reminder_id}/deliveries",
    summary="A notice's deliveries: per channel queued / sent / failed (why) / dead",
    responses={401: {"description": "no token"}, 403: {"description": "not this scope"}},
)
async def reminder_deliveries(
    request: Request, reminder_id: Annotated[int, Path(ge=1, le=2**62)]
) -> Response:
    """One row per channel: ``status``, ``attempts``, ``next_attempt_at`` (of a retry),
    ``last_error`` (the reason), ``message_id`` and ``sent_at``. Editor or admin tokens of
    the notice's scope."""
    who = await editor_reader(request, "read deliveries")
    engine = write_engine(request)

    def build() -> list[dict] | None:
        with engine.connect() as conn:
            rows = deliveries.deliveries_of(conn, reminder_id)
            holder = conn.execute(
                text("select unit_code, agency_code from reminder where id = :i"),
                {"i": reminder_id},
            ).first()
            if holder is None:
                return None
            scope_check(who)(conn, {holder.unit_code or holder.agency_code})
            return rows

    rows = await db_gate(request).run(build)
    if rows is None:
        raise HTTPException(404, f"không có phiếu nhắc số {reminder_id} (no such notice)")
    return Response(
        orjson.dumps({"reminder_id": reminder_id, "deliveries": [_row(r) for r in rows]}),
        media_type=JSON,
        headers={"Cache-Control": "private, no-store"},
    )


@router.get(
    "/deliveries",
    summary="Deliveries of notices by status (status=dead: the dead letters)",
    responses={401: {"description": "no token"}},
)
async def list_deliveries(
    request: Request,
    status: Annotated[
        Literal["queued", "sent", "failed", "dead"] | None,
        Query(description="only this status (dead = attempts ran out)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, description=f"page size (cap {LIST_CAP})")] = 100,
    offset: Offset = 0,
) -> Response:
    """Newest first. A province's token lists its own and its communes' notices'
    deliveries, an agency's or commune's its own; national tokens all."""
    check_limit(limit, LIST_CAP)
    who = await editor_reader(request, "read deliveries")
    engine = write_engine(request)
    scope = who.scope_code if who.scope_level else None

    def build() -> tuple[int, list[dict]]:
        with engine.connect() as conn:
            return deliveries.delivery_list(conn, status, scope, limit, offset)

    total, rows = await db_gate(request).run(build)
    return Response(
        orjson.dumps(
            {
                "numberMatched": total,
                "numberReturned": len(rows),
                "deliveries": [_row(r) for r in rows],
            }
        ),
        media_type=JSON,
        headers={"Cache-Control": "private, no-store"},
    )


@router.post(
    "/deliveries/{delivery_id}/retry",
    summary="Queue a dead (or failed) delivery again, now (admin)",
    responses={
        403: {"description": "not an admin token"},
        404: {"description": "no such delivery"},
        409: {"description": "the delivery is queued or sent already"},
    },
)
async def retry_delivery(
    request: Request, delivery_id: Annotated[int, Path(ge=1, le=2**62)]
) -> Response:
    """Its attempts start again from 0; the worker sends it at its next round."""
    who = await admin_principal(request)
    engine = acting_engine(request, who)

    def run() -> dict:
        with engine.begin() as conn:
            return deliver.retry(conn, delivery_id)

    row = await db_gate(request).run(run)
    return Response(orjson.dumps(_row(row)), media_type=JSON)
