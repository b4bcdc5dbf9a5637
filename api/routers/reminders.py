"""Reminder notices: preview who would be reminded and why, issue exactly that preview,
withdraw a notice issued by mistake, download a notice again, and list them with what
became of their tasks since.

Why POST /reminders only previews: an office must see the set before anything is recorded;
issuing is the explicit second call on the preview (or ``confirm=true`` with the same
criteria, which issues the same set). Every write bumps the data version, so every cached
list shows it at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import acting_engine, principal, writer_principal
from api.dbgate import db_gate
from api.deps import LazyConnDep, StateDep
from api.params import JSON, AsOf, AsOfDay, Day, Offset, check_limit, meta
from api.scopes import scope_check
from geo.read import followup
from geo.remind.issue import (
    Preview,
    RemindRequest,
    bundle,
    issue,
    issue_preview,
    notice_json,
    preview,
    withdraw,
)
from geo.remind.notice import Notice, to_docx
from geo.remind.recorded import recorded_notice

router = APIRouter(tags=["reminders"])  # writes (token checked in the route)
read_router = APIRouter(tags=["reminders"])  # reads, behind the read guard like the others
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LIST_CAP = 500
PreviewId = Annotated[str, Path(min_length=22, max_length=2000, pattern=r"^[A-Za-z0-9_\-.]+$")]


def _preview_body(p: Preview) -> bytes:
    return orjson.dumps(
        {
            "preview_id": p.preview_id,
            "criteria": {
                k: v
                for k, v in {
                    "program": p.request.program,
                    "overdue": p.request.overdue,
                    "below": p.request.below,
                    "combine": p.request.combine,
                    "province": p.request.province,
                    "agency": p.request.agency,
                    "as_of": p.request.as_of,
                    "reply_by": p.request.reply_by,
                    "force": p.request.force,
                    "min_days": p.request.min_days,
                }.items()
            },
            "numberMatched": len(p.notices),
            "notices": [notice_json(n) for n in p.notices],
            "skipped": p.skipped,
        }
    )


def _issued(notices: list[Notice], format: str) -> Response:  # noqa: A002
    if format == "zip" and notices:
        day = notices[0].as_of
        return Response(
            bundle(notices),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="nhac-viec_{day}.zip"'},
        )
    return Response(
        orjson.dumps(
            {
                "numberIssued": len(notices),
                "notices": [
                    notice_json(n) | {"docx": f"/api/v1/reminders/{n.reminder_id}.docx"}
                    for n in notices
                ],
            }
        ),
        media_type=JSON,
    )


@router.post(
    "/reminders",
    summary="Preview reminder notices to slow units (records nothing; confirm=true issues)",
    responses={
        200: {"description": "the preview: units, why each, their tasks and rounds"},
        401: {"description": "no token"},
        403: {"description": "a unit outside the token's scope (nothing recorded)"},
    },
)
async def post_reminders(
    request: Request,
    program: Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{1,20}$")] = "NQ57",
    overdue: Annotated[bool, Query(description="units with overdue tasks")] = False,
    below: Annotated[float | None, Query(gt=0, le=100, description="completion % under")] = None,
    combine: Annotated[
        Literal["any", "all"], Query(description="any | all of the criteria given")
    ] = "any",
    province: Annotated[
        str | None, Query(pattern=r"^\d{2}$", description="default: the token's province")
    ] = None,
    agency: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Z]{2,16}$",
            description="a ministry (BKHCN): remind it for its own tasks, like a province;"
            " default: the token's agency",
        ),
    ] = None,
    as_of: AsOf = None,
    reply_by: Annotated[
        dt.date | None, Query(description="default: 7 days after the later of as_of and today"), Day
    ] = None,
    issuer: Annotated[str | None, Query(min_length=1, max_length=300)] = None,
    force: Annotated[bool, Query(description="remind recently reminded units too")] = False,
    confirm: Annotated[bool, Query(description="issue at once (same set as the preview)")] = False,
    format: Annotated[Literal["json", "zip"], Query()] = "json",  # noqa: A002
) -> Response:
    """Preview: which units the criteria select (only the criteria given count, joined by
    ``combine``), why, their tasks and the round each notice would be; units reminded within
    ``IOCMAP_REMIND_MIN_DAYS`` are listed as skipped unless ``force``. Nothing is recorded.
    Issue it with ``POST /api/v1/reminders/previews/{preview_id}/issue``."""
    who = await writer_principal(request)
    if province is None and agency is None and who.scope_level == "province":
        province = who.scope_code
    if agency is None and province is None and who.scope_level == "agency":
        agency = who.scope_code
    req = RemindRequest(
        program=program,
        overdue=overdue,
        below=below,
        province=province,
        agency=agency,
        as_of=as_of,
        reply_by=reply_by,
        issuer=issuer,
        combine=combine,
        force=force,
        min_days=request.app.state.settings.remind_min_days,
    )
    engine = acting_engine(request, who)
    if confirm:
        notices = await run_in_threadpool(
            issue, engine, req, who.actor, who.token_id, scope_check(who), None,
            request.app.state.settings.delivery_channels,
        )  # fmt: skip
        return _issued(notices, format)

    def build() -> Preview:
        with engine.connect() as conn:
            seen = preview(conn, req)
            scope_check(who)(
                conn, {n.unit_code for n in seen.notices} | {c for c in (province, agency) if c}
            )
            return seen

    return Response(_preview_body(await run_in_threadpool(build)), media_type=JSON)


@router.post(
    "/reminders/previews/{preview_id}/issue",
    summary="Issue exactly the notices of a preview (409 when its selection changed)",
)
async def issue_reminders(
    request: Request,
    preview_id: PreviewId,
    format: Annotated[Literal["json", "zip"], Query()] = "json",  # noqa: A002
) -> Response:
    """Record the preview's notices with their numbers (per issuer per year, consecutive)."""
    who = await writer_principal(request)
    notices = await run_in_threadpool(
        issue_preview,
        acting_engine(request, who),
        preview_id,
        who.actor,
        who.token_id,
        scope_check(who),
        request.app.state.settings.delivery_channels,
    )
    return _issued(notices, format)


@router.post("/reminders/{reminder_id}/withdraw", summary="Withdraw a notice issued by mistake")
async def withdraw_reminder(
    request: Request,
    reminder_id: Annotated[int, Path(ge=1, le=2**62)],
    reason: Annotated[str, Query(min_length=1, max_length=1000, description="why")],
) -> Response:
    """An appended record (who, when, why); the notice stays listed, marked withdrawn, and
    no longer counts as a round."""
    who = await writer_principal(request)
    record = await run_in_threadpool(
        withdraw, acting_engine(request, who), reminder_id, reason, who.actor, who.token_id,
        scope_check(who),
    )  # fmt: skip
    return Response(
        orjson.dumps(
            {
                "id": reminder_id,
                "doc_number": record.get("doc_number"),
                "withdrawn": {
                    "at": record.get("withdrawn_at"),
                    "actor": record.get("withdrawn_by"),
                    "reason": record.get("withdrawn_reason"),
                },
            }
        ),
        media_type=JSON,
    )


@router.get("/reminders/{reminder_id}.docx", summary="A recorded notice as DOCX, again")
async def reminder_docx(
    request: Request, reminder_id: Annotated[int, Path(ge=1, le=2**62)]
) -> Response:
    """The notice as it was issued (number, date, tasks), for the office to print again."""
    who = await writer_principal(request)
    engine = acting_engine(request, who)

    def build() -> tuple[Notice, dict] | None:
        with engine.connect() as conn:
            found = recorded_notice(conn, reminder_id)
            if found is not None:
                scope_check(who)(conn, {found[0].unit_code})  # a ministry's code too
            return found

    found = await run_in_threadpool(build)
    if found is None:
        raise HTTPException(404, f"không có phiếu nhắc số {reminder_id} (no such notice)")
    notice, _ = found
    return Response(
        to_docx(notice),
        media_type=DOCX,
        headers={"Content-Disposition": f'attachment; filename="{notice.file_stem()}.docx"'},
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
    day: AsOfDay,
    unit: Annotated[
        str | None,
        Query(
            pattern=r"^(\d{2}(\d{3})?|[A-Z]{2,16})$",
            description="a unit (a province: and its communes) or a ministry (BKHCN)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, description=f"page size (cap {LIST_CAP})")] = 100,
    offset: Offset = 0,
):
    """Newest first; each task with ``status_now``; ``answered`` / ``answered_at`` = the
    unit answered through the notice's reply link (latest answer); ``holder`` = unit |
    agency; ``responded`` = every reminded task done since, ``still_overdue`` = how many
    are not; ``withdrawn`` = who withdrew it, when and why (null for a live notice).
    Needs a token, and reads are scoped like writes: a province's token sees notices to
    the province and its communes (a ``unit`` outside its scope lists nothing); who issued
    a notice (a token name) is shown to admins only. Not cached (per reader)."""
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

    def build() -> bytes:
        try:
            total, rows = followup.reminders(db.conn, day, unit, limit, offset, scope)
        finally:
            db.close()
        for r in rows:
            r["at"] = r["at"].astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
            if not admin:  # token names are for admins (who withdrew it too)
                r["actor"] = None
                if r.get("withdrawn"):
                    r["withdrawn"]["actor"] = None
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
