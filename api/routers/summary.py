"""National KPIs: what the wall display's header and the reports quote."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.models import Summary, ok
from api.params import AsOfDay
from geo.read import followup
from geo.read.health import last_report_dates
from geo.read.progress import (
    agency_kpis,
    central_summary,
    combined_total,
    national_summary,
    province_kpis,
)
from geo.read.series import changes

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
        conn = db.conn
        provinces = national_summary(conn, day, slice_year)
        provinces["plan02"]["tasks_overdue_without_reason"] = followup.overdue_without_reason(
            conn, day, "KH02", None, None, "commune"
        )
        central = central_summary(agency_kpis(conn, day, slice_year))
        reported = last_report_dates(conn)
        body = {
            "data_as_of": state.reporting_date.isoformat() if state.reporting_date else None,
            "as_of": day.isoformat(),
            "data_version": state.version,
            **provinces,
            "tasks_overdue_without_reason": followup.overdue_without_reason(
                conn, day, "NQ57", slice_year, None
            ),
            "change": changes(conn, day, "NQ57", slice_year),
            "provinces": [
                {**p, "data_as_of": reported.get(p["code"])}
                for p in province_kpis(conn, day, slice_year)
            ],
            "central": central,
            "total": combined_total(provinces, central),
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build)
