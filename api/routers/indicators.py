"""Indicator definitions and their values per unit and period."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.models import IndicatorList, IndicatorValues, ok
from api.params import JSON, PERIOD_PATTERN, meta
from geo.read import queries

router = APIRouter(tags=["indicators"])
Level = Annotated[
    str | None,
    Query(pattern="^(province|commune)$", description="province | commune (default: province)"),
]
ProvinceFilter = Annotated[
    str | None, Query(pattern=r"^\d{2}$", description="only this province's communes")
]
IndicatorPeriod = Annotated[
    str | None,
    Query(
        pattern=PERIOD_PATTERN,
        description="default: the indicator's latest period",
        openapi_examples={"quarter": {"value": "2025-Q3"}},
    ),
]


def indicator_slice(
    conn, code: str, period: str | None, level: str | None, province: str | None
) -> dict:
    """Values of one indicator for a period with the previous period's and the changes."""
    ind = queries.indicator(conn, code)
    if ind is None:
        raise BadParameter("indicator", f"unknown indicator code '{code}'", 404)
    periods = ind["periods"]
    period = period or ind["latest_period"]
    if period is None or period not in periods:
        raise BadParameter(
            "period", f"no values of '{code}' for {period!r}; available: {', '.join(periods)}", 404
        )
    level = level or ("commune" if ind["level"] == "commune" else "province")
    prev = queries.previous_period(periods, period)
    items = queries.indicator_values(conn, code, period, prev, level, province)
    return {
        "indicator": ind,
        "period": period,
        "previous_period": prev,
        "level": level,
        "province": province,
        "items": items,
    }


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
