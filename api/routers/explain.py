"""``GET /api/v1/explain``: open a figure into the rows that make it, each with its source.

Why one route for every figure: the wall's "1.954 đã hoàn thành", a province's overdue count
and an indicator value are checked the same way — which tasks or value, from which file
(name, SHA-256 of the kept original) and which sheet row. The rows come from
``geo.read.explain`` (the counts' own filter and status rule), so ``value`` equals the
figure the summary or the unit's page shows for the same ``as_of`` and slice.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.params import AsOfDay
from geo.read import explain as read

router = APIRouter(tags=["summary"])

Measure = Literal["tasks_completed", "tasks_overdue", "tasks_total", "indicator"]


@router.get(
    "/explain",
    summary="The tasks (or the indicator value) behind a figure, with file and row",
    responses={
        200: {"description": '{"value", "numberMatched", "items": [{…, "source"}]}'},
        404: {"description": "unknown unit, or no such indicator value"},
        422: {"description": "a parameter is missing or malformed"},
    },
)
async def explain(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    measure: Annotated[Measure, Query(description="which figure")],
    unit: Annotated[
        str,
        Query(
            min_length=2,
            max_length=16,
            pattern=r"^(national|[0-9]{2,5}|[A-Za-z]{2,16})$",
            description="a province or commune code, an agency code, or ``national``",
        ),
    ],
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
):
    """Tasks: ``value`` is the figure (``tasks_completed`` counts late completions too, as
    the summary does), ``items`` one page of its tasks, each with ``source``: ``import_id``,
    ``file``, ``sha256`` (``GET /api/v1/imports/{import_id}/file`` returns those bytes to
    an editor of the scope) and ``row`` (the sheet row; ``"api"`` for an API change; null
    for the demo loader). Indicator: the value of ``code`` for ``unit`` and ``period`` —
    the stored one, or with ``as_of`` the one in force that day — with its source and
    history."""
    # an indicator's value is the stored one unless the client names a day
    value_day = day if "as_of" in request.query_params else None

    def build() -> bytes:
        try:
            kind = read.unit_kind(db.conn, unit)
            if kind is None:
                raise HTTPException(404, f"unit: no province, commune or agency '{unit}'")
            if measure == "indicator":
                if not code or not period:
                    raise HTTPException(422, "measure=indicator needs code= and period=")
                body = read.explain_indicator(
                    db.conn, code, None if kind == "national" else unit, period, value_day
                )
                if body is None:
                    raise HTTPException(
                        404, f"no value of indicator '{code}' for {unit} in {period}"
                    )
            else:
                slice_year: int | None = year
                if kind == "national":
                    slice_year = year or (state.reporting_date or day).year
                chosen = program or read.DEFAULT_PROGRAM[kind]
                body = read.explain_tasks(
                    db.conn, measure, kind, unit, day, chosen, slice_year, limit, offset
                )
                body |= {"program": chosen, "year": slice_year}
        finally:
            db.close()
        return orjson.dumps(
            {
                "measure": measure,
                "unit": unit,
                "as_of": day.isoformat(),
                **body,
                "limit": limit,
                "offset": offset,
                "data_version": state.version,
            }  # fmt: skip
        )

    return await cached_response(request, state, build)
