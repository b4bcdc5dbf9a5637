"""National KPIs: what the wall display's header and the reports quote."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.models import Summary, ok
from api.params import AsOfDay
from geo.read.summary import national_figures

router = APIRouter(tags=["summary"])


@router.get(
    "/summary",
    summary="National totals of Resolution 57 tasks and Plan 02 progress",
    responses=ok(Summary),
)
async def summary(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    year: Annotated[
        int | None,
        Query(ge=2000, le=2100, description="deadline year; default: the reporting date's year"),
    ] = None,
):
    """The provinces' programme tasks due in ``year`` (default: the reporting year, so the
    headline matches the published 2025 figures), the Plan 02 commune rollup, and each
    province's figures for the same slice (with its ``data_as_of``: the day of its last
    report). ``central`` is the same slice of the ministries' and central bodies' tasks,
    ``total`` both levels together; the top-level figures stay the provinces'. ``change``
    compares with the end of the previous quarter and with a week before (from the task
    history)."""
    slice_year = year or (state.reporting_date or day).year

    def build() -> bytes:
        body = {
            "data_as_of": state.reporting_date.isoformat() if state.reporting_date else None,
            "as_of": day.isoformat(),
            "data_version": state.version,
            **national_figures(db.conn, day, slice_year),
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build)
