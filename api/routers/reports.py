"""The steering committee's report (``maps/report.py``): built on request as DOCX (PDF when
LibreOffice is installed), and the reports the scheduled run stored.

A built report is cached per data version like any response (``api/cache.py``); building
one draws two maps and a chart and, for the PDF, runs LibreOffice, so it takes a slot of
the heavy work (``api/dbgate.py``: 503 + Retry-After when they are all busy) and runs on the
build lane, never on the event loop. matplotlib and python-docx load on the
first build only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.params import JSON, Day
from geo.errors import BadInput
from geo.read.report import Period, parse_period
from maps import report_store

router = APIRouter(tags=["reports"])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
NO_OFFICE = (
    "Máy chủ chưa cài LibreOffice (soffice) nên không xuất được PDF; hãy tải bản DOCX"
    " (cùng địa chỉ, đuôi .docx) — PDF needs LibreOffice, which is not installed here"
)
PeriodParam = Annotated[
    str,
    PathParam(
        max_length=20,
        description="2025-Q3 (quarter) or 2025-09 (month)",
        openapi_examples={"quý III/2025": {"value": "2025-Q3"}},
    ),
]
AsOfParam = Annotated[
    dt.date | None, Query(description="figures as of this day (default: the period's end)"), Day
]
Province = Annotated[
    str | None,
    Query(pattern=r"^\d{2}$", description="also this province's own map and figures"),
]
BAD: dict[int | str, dict[str, Any]] = {
    422: {"description": "bad period, as_of, province (the parameter is named)"},
    503: {"description": "busy (Retry-After), or no LibreOffice for the PDF"},
}


def reports_folder(request: Request) -> Path:
    settings = request.app.state.settings
    return Path(settings.reports_dir) if settings.reports_dir else Path("var/reports")


def _period(period: str, as_of: dt.date | None) -> Period:
    try:
        per = parse_period(period)
    except BadInput as exc:
        raise BadParameter("period", exc.message, 422) from None
    if as_of is not None and not dt.date(2000, 1, 1) <= as_of <= dt.date(2100, 12, 31):
        raise BadParameter("as_of", "as_of must fall between 2000-01-01 and 2100-12-31", 422)
    return per


def _filename(per: Period, as_of: dt.date | None, province: str | None, ext: str) -> str:
    return f"{report_store.file_stem(per.label, per.day(as_of), province)}.{ext}"


@router.get(
    "/reports",
    summary="Stored reports (written by the scheduled run), newest first",
)
async def reports(request: Request) -> Response:
    """What ``iocmap report scheduled`` (weekly in ``make prod-local`` and the compose
    stack) stored: period, as-of date, created, and links to the files."""
    from api.dbgate import run_in_thread

    rows = await run_in_thread(report_store.listing, reports_folder(request))
    return Response(orjson.dumps({"reports": rows}), media_type=JSON)


@router.get(
    "/reports/stored/{name}",
    summary="One stored report file (DOCX or PDF)",
    response_class=FileResponse,
    responses={200: {"content": {DOCX: {}, PDF: {}}, "description": "the stored file"}},
)
async def stored_report(
    request: Request,
    name: Annotated[str, PathParam(max_length=80, description="a name from /reports")],
) -> FileResponse:
    if not report_store.NAME.match(name):
        raise BadParameter("name", "tên tệp báo cáo không hợp lệ / not a report file name", 422)
    path = reports_folder(request) / name
    if not path.is_file():
        raise HTTPException(404, f"không có báo cáo {name} / no stored report {name}")
    return FileResponse(path, media_type=DOCX if name.endswith(".docx") else PDF, filename=name)


@router.get(
    "/reports/{period}.docx",
    summary="The committee's report of a period as DOCX (Nghị định 30/2020/NĐ-CP)",
    responses={**BAD, 200: {"content": {DOCX: {}}, "description": "the report"}},
)
async def report_docx(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    period: PeriodParam,
    as_of: AsOfParam = None,
    province: Province = None,
) -> Response:
    """National and per-province figures of the period and their change against the
    previous one (equal to ``/summary`` on the same dates), the map, the trend, the slowest
    units with their reasons, targets, the forecast's "will miss" list and data health."""
    per = _period(period, as_of)

    def build() -> bytes:
        return _render(request, db, per, as_of, province)

    name = _filename(per, as_of, province, "docx")
    return await cached_response(
        request, state, _named(build), DOCX,
        {"content-disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


@router.get(
    "/reports/{period}.pdf",
    summary="The same report as PDF (where LibreOffice is installed)",
    responses={**BAD, 200: {"content": {PDF: {}}, "description": "the report"}},
)
async def report_pdf(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    period: PeriodParam,
    as_of: AsOfParam = None,
    province: Province = None,
) -> Response:
    """The DOCX rendered by LibreOffice; 503 saying so (in Vietnamese first) when it is
    not installed on the server."""
    from maps.report import soffice

    per = _period(period, as_of)
    if soffice() is None:
        raise HTTPException(503, NO_OFFICE)

    def build() -> bytes:
        from maps.report import to_pdf

        return to_pdf(_render(request, db, per, as_of, province))

    name = _filename(per, as_of, province, "pdf")
    return await cached_response(
        request, state, _named(build), PDF,
        {"content-disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


def _render(request: Request, db, per: Period, as_of, province) -> bytes:
    """Read what the report needs, give the connection back to the pool, then draw and
    write (seconds of matplotlib and LibreOffice hold no connection)."""
    from maps.report import read_inputs, render

    days = request.app.state.settings.stale_report_days
    inputs = read_inputs(db.conn, per, as_of, province, days)
    db.close()
    return render(inputs)


def _named(build):
    """Domain errors of the build (an unknown province) as the parameter's 422."""

    def run() -> bytes:
        try:
            return build()
        except BadInput as exc:
            raise BadParameter(exc.field or "period", exc.message, 422) from None

    return run
