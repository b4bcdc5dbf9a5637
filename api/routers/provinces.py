"""Provinces as RFC 7946 GeoJSON with their task progress, Plan 02 rollup and indicators."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.deps import LazyConnDep, StateDep
from api.routers import _layers
from api.routers._common import (
    GEOJSON,
    AsOf,
    Period,
    Precision,
    Resolution,
    Year,
    Zoom,
)

router = APIRouter(tags=["provinces"])
ProvinceCode = Annotated[
    str,
    Path(
        pattern=r"^\d{2}$",
        description="2-digit province code",
        openapi_examples={"Nghệ An": {"value": "40"}},
    ),
]
_GEOJSON_RESPONSE = {200: {"content": {GEOJSON: {}}, "description": "GeoJSON"}}


@router.get(
    "/provinces",
    response_class=Response,
    responses=_GEOJSON_RESPONSE,
    summary="All 34 provinces with task progress (GeoJSON FeatureCollection)",
)
async def list_provinces(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    p: Annotated[_layers.LayerParams, Depends(_layers.layer_query)],
    province: Annotated[str | None, Query(pattern=r"^\d{2}$", description="one province")] = None,
):
    """Figures are the provinces' own Resolution 57 programme tasks (all years unless
    ``year`` is given: ``year=2025`` is the slice reported for 2025) plus the Plan 02
    commune rollup (communes with all 16 task groups done). Top-level members:
    ``numberMatched``, ``numberReturned``, ``links``, ``data_as_of``, ``as_of``,
    ``data_version``."""
    p = dataclasses.replace(p, province=province)
    return await _layers.collection(
        request, db, state, "province", p, request.app.state.settings.max_limit
    )


@router.get(
    "/provinces/{code}",
    response_class=Response,
    responses={**_GEOJSON_RESPONSE, 404: {"description": "unknown province"}},
    summary="One province with every figure, its indicators and links (GeoJSON Feature)",
)
async def get_province(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: ProvinceCode,
    as_of: AsOf = None,
    year: Year = None,
    period: Period = None,
    precision: Precision = 6,
    zoom: Zoom = None,
    resolution: Resolution = None,
):
    """Indicators carry value, rank (of how many), the previous period and the change."""
    return await _layers.detail(
        request, db, state, "province", code, as_of, year, period, precision, zoom, resolution
    )


@router.get(
    "/provinces/{code}/communes",
    response_class=Response,
    responses={**_GEOJSON_RESPONSE, 404: {"description": "unknown province"}},
    summary="The communes of one province (alias of /communes?province=code)",
)
async def province_communes(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: ProvinceCode,
    p: Annotated[_layers.LayerParams, Depends(_layers.layer_query)],
):
    """Each commune's 16 Plan 02 task groups: done, overdue, completion %."""
    p = dataclasses.replace(p, province=code)
    return await _layers.collection(
        request, db, state, "commune", p, request.app.state.settings.max_limit
    )
