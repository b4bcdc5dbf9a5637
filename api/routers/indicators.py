"""Indicator definitions and their values per unit and period."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.indicator_values import IndicatorPeriod, Level, ProvinceFilter, indicator_slice
from api.models import IndicatorList, IndicatorValues, ok
from api.params import JSON, meta
from geo.read import queries

router = APIRouter(tags=["indicators"])


@router.get(
    "/indicators",
    summary="Indicator definitions with the periods that have values",
    responses=ok(IndicatorList),
)
async def list_indicators(request: Request, db: LazyConnDep, state: StateDep):
    """Service index, DTI, PII (provinces) and commune rates; ``periods`` oldest first."""

    def build() -> bytes:
        return orjson.dumps({**meta(state), "indicators": queries.indicators(db.conn)})

    return await cached_response(request, state, build, JSON)


@router.get(
    "/indicators/{code}/values",
    summary="Values of one indicator for a period",
    responses=ok(IndicatorValues),
)
async def indicator_values(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: Annotated[
        str, Path(max_length=64, openapi_examples={"service index": {"value": "service_index"}})
    ],
    period: IndicatorPeriod = None,
    level: Level = None,
    province: ProvinceFilter = None,
):
    """Each unit's value and rank, the previous period's, the change and rank change
    (positive = improved), best rank first."""

    def build() -> bytes:
        body = indicator_slice(db.conn, code, period, level, province)
        body["values"] = body.pop("items")
        return orjson.dumps({**meta(state), **body})

    return await cached_response(request, state, build, JSON)
