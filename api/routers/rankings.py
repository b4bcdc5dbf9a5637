"""Rankings of units on an indicator, with the change since the previous period."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.indicator_values import IndicatorPeriod, Level, ProvinceFilter, indicator_slice
from api.models import Rankings, ok
from api.params import JSON, meta

router = APIRouter(tags=["indicators"])
_KEYS = (
    "code",
    "name",
    "full_name",
    "province_code",
    "value",
    "rank",
    "previous_value",
    "previous_rank",
    "rank_change",
    "change",
)


@router.get(
    "/rankings",
    summary="Rank, value and change since the previous period",
    responses=ok(Rankings),
)
async def rankings(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    indicator: Annotated[
        str,
        Query(
            max_length=64,
            description="indicator code (see /indicators)",
            openapi_examples={"service index": {"value": "service_index"}},
        ),
    ],
    period: IndicatorPeriod = None,
    level: Level = None,
    province: ProvinceFilter = None,
):
    """Best first; ``rank_change`` > 0 means the unit moved up."""

    def build() -> bytes:
        body = indicator_slice(db.conn, indicator, period, level, province)
        body["items"] = [{k: it[k] for k in _KEYS} for it in body["items"]]
        return orjson.dumps({**meta(state), **body})

    return await cached_response(request, state, build, JSON)
