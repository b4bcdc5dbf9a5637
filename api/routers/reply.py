"""``/reply/{token}``: a unit answers a notice through the link printed in it, no account.

Why the token is the only credential: it is signed for one purpose (answering), one notice
and a bounded time (``geo/remind/reply.py``); the page shows that notice's tasks only and
the answer can write nothing else (``geo/remind/answer.py`` refuses any other task, as a
row error of the same import). The answer goes through the task-sheet import, so it is
validated and audited exactly as a sheet row. Bounded: the body (64 KB), the fields, the
answers per notice and their pace. Errors are pages in Vietnamese (never JSON: a person
reads them), with the 4xx status a client can act on.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from api.auth import write_engine
from geo.errors import BadInput, Conflict, ImportBusy, IocmapError, NotFound
from geo.remind import answer as answers
from geo.remind.reply import ReplyTokenError, verify
from maps.assets_local import served_static
from maps.reply_page import refusal_page, reply_page

router = APIRouter(tags=["reply"])
MAX_BODY = 64 << 10
MAX_FIELDS = 6 * 200 + 10
Token = Annotated[str, Path(min_length=1, max_length=200)]
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _html(description: str) -> dict:
    return {"description": description, "content": {"text/html": {}}}


PAGE_RESPONSES: dict[int | str, dict] = {
    200: _html("the notice's reply form (after an answer: what was recorded)"),
    403: _html("an altered link, or one for another purpose"),
    404: _html("a malformed link, or no such notice"),
    410: _html("an expired link, or a withdrawn notice"),
}
POST_RESPONSES: dict[int | str, dict] = {
    **PAGE_RESPONSES,
    409: _html("the notice cannot take this answer now"),
    413: _html("the body is over 64 KB or not a form"),
    422: {
        "description": "the answer is incomplete or invalid: the form again, with what to"
        " fix (a path that is no token at all: the JSON error of every route)",
        "content": {"text/html": {}, "application/json": {}},
    },
    429: _html("answered a moment ago, or too many answers to this notice"),
    503: _html("a task import is running: try again in a moment"),
}
REFUSED = {
    "malformed": (404, "Đường dẫn phản hồi không đúng (thiếu hoặc thừa ký tự)."),
    "altered": (403, "Đường dẫn phản hồi đã bị sửa đổi hoặc không do hệ thống cấp."),
}


def _page(status: int, body: str) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


def _refused(exc: ReplyTokenError) -> HTMLResponse:
    if exc.kind == "expired" and exc.expired_on is not None:
        return _page(
            410,
            refusal_page(
                410,
                f"Đường dẫn phản hồi đã hết hạn (dùng được đến hết ngày"
                f" {exc.expired_on:%d/%m/%Y}).",
                served_static(),
            ),
        )
    status, message = REFUSED.get(exc.kind, REFUSED["malformed"])
    return _page(status, refusal_page(status, message, served_static()))


def _open(request: Request, token: str) -> tuple[int, dt.date] | HTMLResponse:
    try:
        return verify(token)
    except ReplyTokenError as exc:
        return _refused(exc)


def _load(request: Request, reminder_id: int) -> answers.ReplyNotice | None:
    with write_engine(request).connect() as conn:
        return answers.reply_notice(conn, reminder_id)


def _show(
    request: Request,
    token: str,
    found: answers.ReplyNotice | None,
    expires: dt.date,
    status: int = 200,
    **kw,
) -> HTMLResponse:
    if found is None:
        return _page(404, refusal_page(404, "Không có phiếu nhắc này.", served_static()))
    if found.record["withdrawn_at"] is not None:
        return _page(
            410,
            refusal_page(
                410, "Phiếu nhắc này đã được thu hồi; không cần phản hồi.", served_static()
            ),  # fmt: skip
        )
    body = reply_page(
        found.record, found.tasks, found.answers, expires, f"/reply/{token}", served_static(), **kw
    )
    return _page(status, body)


@router.get(
    "/reply/{token}",
    response_class=HTMLResponse,
    summary="Answer a notice (page)",
    responses=PAGE_RESPONSES,
)
async def reply_form(request: Request, token: Token) -> HTMLResponse:
    """The notice's tasks, each with done (date) or reason, proposal and expected date."""
    opened = _open(request, token)
    if isinstance(opened, HTMLResponse):
        return opened
    rid, expires = opened
    found = await run_in_threadpool(_load, request, rid)
    return _show(request, token, found, expires)


async def _form(request: Request) -> dict[str, str] | None:
    """The posted form, bounded (None: too large or not a form)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    try:
        pairs = urllib.parse.parse_qsl(
            b"".join(chunks).decode("utf-8"), max_num_fields=MAX_FIELDS, strict_parsing=False
        )
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v for k, v in pairs}


def _answers(form: dict[str, str], count: int) -> list[answers.Answer]:
    out = []
    for i in range(count):
        ext, state = form.get(f"t{i}", ""), form.get(f"s{i}", "")
        if not ext or state not in ("done", "not"):
            continue
        out.append(
            answers.Answer(
                ext.strip(),
                state == "done",
                form.get(f"d{i}", "").strip(),
                form.get(f"r{i}", "").strip(),
                form.get(f"p{i}", "").strip(),
                form.get(f"e{i}", "").strip(),
            )
        )
    return out


@router.post(
    "/reply/{token}",
    response_class=HTMLResponse,
    summary="Answer a notice",
    responses=POST_RESPONSES,
)
async def reply_submit(request: Request, token: Token) -> HTMLResponse:
    """Import the answer as the notice's task-sheet rows; the page again, with what was
    recorded (200) or what to fix (422)."""
    opened = _open(request, token)
    if isinstance(opened, HTMLResponse):
        return opened
    rid, expires = opened
    form = await _form(request)
    if form is None:
        return _page(
            413,
            refusal_page(
                413, "Nội dung gửi quá lớn hoặc không đúng dạng biểu mẫu.", served_static()
            ),  # fmt: skip
        )
    found = await run_in_threadpool(_load, request, rid)
    if found is None or found.record["withdrawn_at"] is not None:
        return _show(request, token, found, expires)
    given = _answers(form, len(found.tasks))
    allowed = {str(t["external_id"]) for t in found.tasks}
    problems = answers.check_answers(given, allowed)
    if not given:
        problems = {"—": "chưa trả lời nhiệm vụ nào (chọn Đã hoàn thành hoặc Chưa hoàn thành)"}
    if problems:
        return _show(request, token, found, expires, 422, form=form, problems=problems)
    client = request.client.host if request.client else None
    try:
        report, _ = await run_in_threadpool(
            answers.submit, write_engine(request), rid, given, client
        )
    except (Conflict, ImportBusy) as exc:
        status = 429 if "đợi" in exc.message or "tối đa" in exc.message else 409
        if isinstance(exc, ImportBusy):
            status = 503
        return _show(request, token, found, expires, status, form=form,
                     problems={"—": exc.message})  # fmt: skip
    except (BadInput, NotFound, IocmapError) as exc:
        return _show(request, token, found, expires, 422, form=form,
                     problems={"—": exc.message})  # fmt: skip
    if report.errors:
        by_task: dict[str, str] = {}
        for p in report.errors:
            key = p.code or "—"
            by_task[key] = "; ".join(x for x in (by_task.get(key), p.reason) if x)
        return _show(request, token, found, expires, 422, form=form, problems=by_task)
    found = await run_in_threadpool(_load, request, rid)
    done = (
        f"Đã ghi nhận phản hồi: {len(given)} nhiệm vụ"
        f" ({report.updated} thay đổi, {report.unchanged} không đổi). Cảm ơn đơn vị."
    )
    return _show(request, token, found, expires, done_message=done)
