"""Reminder notices: issue them (editor/admin token, scoped like task imports) and list
them with what became of their tasks since.

Why POST answers with the files: an office issues and prints in one step; the audit row
is written in the same transaction that picks the tasks, so a notice that was not
recorded was not produced either (and a refused scope records nothing)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import acting_engine, principal, require_writer
from api.dbgate import db_gate
from api.deps import LazyConnDep, StateDep, resolve_as_of
from api.routers._common import JSON, AsOf, Day, Offset, check_limit, meta
from api.routers.imports import scope_check
from geo.read import followup
from geo.remind.issue import RemindRequest, bundle, issue
from geo.remind.notice import DEFAULT_ISSUER, to_docx

router = APIRouter(tags=["reminders"])  # writes (token checked in the route)
read_router = APIRouter(tags=["reminders"])  # reads, behind the read guard like the others
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LIST_CAP = 500


@router.post(
    "/reminders",
    summary="Issue reminder notices to slow units (DOCX, or a ZIP of DOCX + A4 HTML)",
    responses={
        200: {
            "description": "one unit: its DOCX; several: a ZIP; format=json: what was recorded",
            "content": {DOCX: {}, "application/zip": {}, JSON: {}},
        },
        401: {"description": "no token"},
        403: {"description": "a unit outside the token's scope (nothing recorded)"},
    },
)
async def post_reminders(
    request: Request,
    program: Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{1,20}$")] = "NQ57",
    overdue: Annotated[bool, Query(description="units with overdue tasks")] = True,
    below: Annotated[float | None, Query(gt=0, le=100, description="completion % under")] = None,
    province: Annotated[
        str | None, Query(pattern=r"^\d{2}$", description="default: the token's province")
    ] = None,
    as_of: AsOf = None,
    reply_by: Annotated[dt.date | None, Query(description="default: as_of + 7 days"), Day] = None,
    issuer: Annotated[str, Query(min_length=1, max_length=300)] = DEFAULT_ISSUER,
    format: Annotated[Literal["auto", "zip", "json"], Query()] = "auto",  # noqa: A002
) -> Response:
    """Record one notice per selected unit (who, when, which tasks and their round,
    reply-by) and return the notices."""
    who = require_writer(request)
    if province is None and who.scope_level == "province":
        province = who.scope_code
    req = RemindRequest(program, overdue, below, province, as_of, reply_by, issuer)
    notices = await run_in_threadpool(
        issue, acting_engine(request, who), req, who.actor, who.token_id, scope_check(who)
    )
    if format == "json" or not notices:
        body = [
            {
                "id": n.reminder_id,
                "unit_code": n.unit_code,
                "recipient": n.recipient,
                "reply_by": n.reply_by.isoformat(),
                "tasks": [{"external_id": t["external_id"], "round": t["round"]} for t in n.tasks],
            }
            for n in notices
        ]
        return Response(orjson.dumps({"notices": body}), media_type=JSON)
    if len(notices) == 1 and format == "auto":
        n = notices[0]
        return Response(
            to_docx(n),
            media_type=DOCX,
            headers={"Content-Disposition": f'attachment; filename="{n.file_stem()}.docx"'},
        )
    day = notices[0].as_of
    return Response(
        bundle(notices),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="nhac-viec_{day}.zip"'},
    )


@read_router.get(
    "/reminders",
    summary="Reminder notices issued, with their tasks' status now (a token; scoped)",
    responses={401: {"description": "no valid token"}},
)
async def list_reminders(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    unit: Annotated[
        str | None,
        Query(pattern=r"^\d{2}(\d{3})?$", description="a unit (a province: and its communes)"),
    ] = None,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, description=f"page size (cap {LIST_CAP})")] = 100,
    offset: Offset = 0,
):
    """Newest first; each task with ``status_now``; ``responded`` = every reminded task
    done since, ``still_overdue`` = how many are not. Needs a token, and reads like writes
    are scoped: a province's token sees notices to the province and its communes (a ``unit`` outside
    its scope lists nothing); who
    issued a notice (a token name) is shown to admins only. Not cached (per reader)."""
    check_limit(limit, LIST_CAP)
    who = await db_gate(request).run(principal, request, False)
    if who is None:
        raise HTTPException(
            401,
            "cần mã truy cập (token) / a valid API token is required: Authorization: Bearer",
            headers={"WWW-Authenticate": "Bearer"},
        )
    admin = who.role == "admin"
    scope = who.scope_code if who.scope_level else None
    day = resolve_as_of(as_of, state)

    def build() -> bytes:
        try:
            total, rows = followup.reminders(db.conn, day, unit, limit, offset, scope)
        finally:
            db.close()
        for r in rows:
            r["at"] = r["at"].astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
            if not admin:
                r["actor"] = None
        return orjson.dumps(
            {
                **meta(state, day),
                "numberMatched": total,
                "numberReturned": len(rows),
                "reminders": rows,
            }
        )

    body = await db_gate(request).run(build)
    return Response(body, media_type=JSON, headers={"Cache-Control": "private, no-store"})
