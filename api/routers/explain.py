"""``GET /api/v1/explain``: open a figure into the rows that make it, each with its source.

Why one route for every figure: the wall's "1.954 đã hoàn thành", a province's overdue count
and an indicator value are checked the same way — which tasks or value, from which file
(name, SHA-256 of the kept original) and which sheet row. The rows come from
``geo.read.explain`` (the counts' own filter and status rule), so ``value`` equals the
figure the summary or the unit's page shows for the same ``as_of`` and slice.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.dbgate import db_gate, work_limit
from api.deps import LazyConnDep, StateDep, cached_response
from api.params import AsOfDay, FigureUnit
from api.routers._download_files import sheet_payload, write_in_child
from geo.read import explain as read
from maps.explain_page import explain_html

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(tags=["summary"])

Measure = Literal["tasks_completed", "tasks_overdue", "tasks_total", "indicator"]


@router.get(
    "/explain",
    summary="The tasks (or the indicator value) behind a figure, with file and row",
    responses={
        200: {
            "description": '{"value", "numberMatched", "items": [{…, "source"}]}; f=html a'
            " page of them; f=xlsx all of them",
            "content": {
                "application/json": {},
                "text/html": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            },
        },
        400: {"description": "f=html of an indicator value"},
        413: {"description": "f=xlsx of a figure over XLSX_ROWS tasks"},
        404: {"description": "unknown unit, or no such indicator value"},
        422: {"description": "a parameter is missing or malformed"},
    },
)
async def explain(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    measure: Annotated[Measure, Query(description="which figure")],
    unit: FigureUnit,
    day: AsOfDay,
    program: Annotated[
        str | None,
        Query(
            max_length=16,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="tasks: the programme (default as the page shows it: NQ57 for the"
            " nation and a province, KH02 for a commune, every programme for an agency)",
        ),
    ] = None,
    year: Annotated[
        int | None,
        Query(
            ge=2000,
            le=2100,
            description="tasks: deadline year (default: the reporting year for ``national``,"
            " as the summary; all years for a unit or agency)",
        ),
    ] = None,
    code: Annotated[str | None, Query(max_length=64, description="indicator: its code")] = None,
    period: Annotated[
        str | None,
        Query(
            max_length=16,
            pattern=r"^[0-9]{4}(-Q[1-4]|-[0-9]{2})?$",
            description="indicator: the period (2025, 2025-Q3, 2025-09)",
        ),
    ] = None,  # fmt: skip
    limit: Annotated[int, Query(ge=1, le=read.MAX_LIMIT, description="page size")] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    f: Annotated[
        Literal["json", "html", "xlsx"],
        Query(
            description="``html``: a page of the tasks with their sources (what the maps"
            " link); ``xlsx``: every task of the figure in a spreadsheet, with sources"
        ),
    ] = "json",
    lang: Annotated[Literal["vi", "en"], Query(description="f=html: the page's language")] = "vi",
):
    """Tasks: ``value`` is the figure (``tasks_completed`` counts late completions too, as
    the summary does), ``items`` one page of its tasks, each with ``source``: ``import_id``,
    ``file``, ``sha256`` (``GET /api/v1/imports/{import_id}/file`` returns those bytes to
    an editor of the scope) and ``row`` (the sheet row; ``"api"`` for an API change; null
    for the demo loader). Indicator: the value of ``code`` for ``unit`` and ``period`` —
    the stored one, or with ``as_of`` the one in force that day — with its source and
    history. ``f=xlsx``: the tasks of the figure (all of them, up to
    ``XLSX_ROWS``; ``limit``/``offset`` do not apply) as a spreadsheet an office can file."""
    # an indicator's value is the stored one unless the client names a day
    value_day = day if "as_of" in request.query_params else None
    if f == "xlsx":
        limit, offset = XLSX_ROWS, 0

    def figure() -> dict:
        named = read.unit_named(db.conn, unit)
        if named is None:
            raise HTTPException(404, f"unit: no province, commune or agency '{unit}'")
        kind, name = named
        if measure == "indicator":
            if not code or not period:
                raise HTTPException(422, "measure=indicator needs code= and period=")
            body = read.explain_indicator(
                db.conn, code, None if kind == "national" else unit, period, value_day
            )
            if body is None:
                raise HTTPException(404, f"no value of indicator '{code}' for {unit} in {period}")
        else:
            slice_year: int | None = year
            if kind == "national":
                slice_year = year or (state.reporting_date or day).year
            chosen = program or read.DEFAULT_PROGRAM[kind]
            body = read.explain_tasks(
                db.conn, measure, kind, unit, day, chosen, slice_year, limit, offset,
                max_limit=XLSX_ROWS if f == "xlsx" else read.MAX_LIMIT,
            )  # fmt: skip
            body |= {"program": chosen, "year": slice_year}
        return {
            "measure": measure,
            "unit": unit,
            "unit_name": name,
            "as_of": day.isoformat(),
            **body,
            "limit": limit,
            "offset": offset,
            "data_version": state.version,
        }

    def build() -> bytes:
        try:
            return orjson.dumps(figure())
        finally:
            db.close()

    if f == "xlsx":
        return await _spreadsheet(request, figure, db.close)
    if f == "html":
        if measure == "indicator":
            raise HTTPException(400, "f=html: a page for task figures; an indicator value is JSON")
        href = str(request.url)

        def page() -> bytes:
            try:
                body = figure()
            finally:
                db.close()
            return explain_html(body, href, lang)

        return await cached_response(request, state, page, media_type="text/html; charset=utf-8")
    return await cached_response(request, state, build)


XLSX_ROWS = 100_000  # tasks in one spreadsheet: more than any figure of the demo or 2025


async def _spreadsheet(request: Request, figure, close) -> Response:
    """The figure's tasks as XLSX, written by the download child (``geo.ingest.sandbox``:
    openpyxl never loads into the serving worker), one work slot of the downloads."""

    def write() -> tuple[bytes, dict]:
        try:
            body = figure()
        finally:
            close()
        if body.get("value", 0) > XLSX_ROWS:
            raise HTTPException(
                413,
                f"f=xlsx: {body['value']} tasks, over the {XLSX_ROWS} a spreadsheet takes;"
                " narrow the figure (unit=, program=, year=)",
            )
        return spreadsheet_bytes(body), body

    async with work_limit(request, "downloads").slot():
        data, body = await db_gate(request).run(write)
    name = f"explain_{body['measure']}_{body['unit']}_{body['as_of']}.xlsx"
    return Response(
        data,
        media_type=XLSX_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Data-Version": str(body["data_version"]),
            "X-As-Of": body["as_of"],
            "Cache-Control": "no-cache",
        },
    )


def spreadsheet_bytes(body: dict) -> bytes:
    """The figure's rows, one per task (its source flattened into file, SHA-256 and row),
    and a sheet saying which figure, day and data version — written in the download child."""
    rows = []
    for item in body.get("items") or []:
        source = item.get("source") or {}
        flat = {k: v for k, v in item.items() if k != "source"}
        flat |= {
            "import_id": source.get("import_id"),
            "source_file": source.get("file"),
            "source_sha256": source.get("sha256"),
            "source_row": source.get("row"),
        }
        rows.append(flat)
    meta = {
        "title": f"{body['measure']} · {body['unit']} = {body.get('value')}",
        "as_of": body["as_of"],
        "data_version": body["data_version"],
        "source": "iocmap — GET /api/v1/explain",
    }
    with tempfile.TemporaryDirectory(prefix="iocmap-explain-") as tmp:
        wkb, out = Path(tmp) / "none.wkb", Path(tmp) / "explain.xlsx"
        wkb.write_bytes(b"")  # a sheet without geometry
        write_in_child(
            wkb, "explain.xlsx", out, fmt="xlsx", layer="explain",
            sheets=[sheet_payload("explain", rows)], meta=meta,
        )  # fmt: skip
        return out.read_bytes()
