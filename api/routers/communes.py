"""Communes (xã, phường, đặc khu) as RFC 7946 GeoJSON with Plan 02 progress."""

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

router = APIRouter(tags=["communes"])
CommuneCode = Annotated[
    str,
    Path(
        pattern=r"^\d{5}$",
        description="5-digit commune code",
        openapi_examples={"Phường Ba Đình": {"value": "00004"}},
    ),
]
_GEOJSON_RESPONSE = {200: {"content": {GEOJSON: {}}, "description": "GeoJSON"}}


@router.get(
    "/communes",
    response_class=Response,
    responses=_GEOJSON_RESPONSE,
    summary="Communes with Plan 02 progress (GeoJSON FeatureCollection)",
)
async def list_communes(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    p: Annotated[_layers.LayerParams, Depends(_layers.layer_query)],
    province: Annotated[
        str | None,
        Query(
            pattern=r"^\d{2}$",
            description="only this province's communes",
            openapi_examples={"Nghệ An": {"value": "40"}},
        ),
    ] = None,
):
    """Lean properties by default (code, name, figures, province); ``fields`` picks
    others, ``period`` adds indicator values, ``zoom``/``resolution`` pick a lighter
    geometry, ``limit``/``offset`` page with ``next``/``prev`` links."""
    p = dataclasses.replace(p, province=province)
    return await _layers.collection(
        request, db, state, "commune", p, request.app.state.settings.max_limit
    )


@router.get(
    "/communes/{code}",
    response_class=Response,
    responses={**_GEOJSON_RESPONSE, 404: {"description": "unknown commune"}},
    summary="One commune with every figure, its province, indicators and links",
)
async def get_commune(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: CommuneCode,
    as_of: AsOf = None,
    year: Year = None,
    period: Period = None,
    precision: Precision = 6,
    zoom: Zoom = None,
    resolution: Resolution = None,
):
    """Full detail of one commune (GeoJSON Feature)."""
    return await _layers.detail(
        request, db, state, "commune", code, as_of, year, period, precision, zoom, resolution
    )
