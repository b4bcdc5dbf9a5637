"""Data health of every unit: who has stopped reporting, whose sheets lack fields, whose
indicator values are missing (``geo/read/health.py`` has the rules)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.models import DataHealthList, ok
from api.params import JSON, AsOfDay, Offset, check_limit, meta, page_links
from geo.read import health

router = APIRouter(tags=["data health"])
CAP = 1000


@router.get(
    "/data-health",
    summary="Data health per unit: last report, days since, completeness, missing values",
    responses=ok(DataHealthList),
)
async def data_health(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    level: Annotated[
        str, Query(pattern="^(province|commune|agency)$", description="province | commune | agency")
    ] = "province",
    sort: Annotated[
        str,
        Query(
            pattern="^(" + "|".join(health.SORTS).replace("-", "\\-") + ")$",
            description="-days_since (default: longest silent first) | days_since |"
            " complete_pct | -complete_pct | missing | code",
        ),
    ] = "-days_since",
    stale_days: Annotated[
        int | None,
        Query(ge=0, le=365, description="default: the server's IOCMAP_STALE_REPORT_DAYS"),
    ] = None,
    stale: Annotated[bool | None, Query(description="only stale units (true) or not")] = None,
    limit: Annotated[int, Query(ge=1, description=f"page size (cap {CAP})")] = 100,
    offset: Offset = 0,
):
    """A unit is *stale* when its last report is more than ``stale_days`` days before
    ``as_of`` (or it never reported). Days count to the as-of date (default: the data's
    reporting date), like every other figure."""
    check_limit(limit, CAP)
    days = request.app.state.settings.stale_report_days if stale_days is None else stale_days

    def build() -> bytes:
        rows = health.sort_health(health.data_health(db.conn, level, day, days), sort)
        if stale is not None:
            rows = [r for r in rows if r["stale"] == stale]
        page = rows[offset : offset + limit]
        body = {
            **meta(state, day),
            "level": level,
            "stale_days": days,
            "sort": sort,
            "numberMatched": len(rows),
            "numberReturned": len(page),
            "stale_count": sum(1 for r in rows if r["stale"]),
            "units": page,
            "links": page_links(request, offset, limit, len(page), len(rows), JSON),
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)
