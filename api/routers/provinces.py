"""Provinces as RFC 7946 GeoJSON with their task progress, Plan 02 rollup and indicators."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import Depends, Request, Response

from api.deps import LazyConnDep, StateDep
from api.models import UnitCollection, ok
from api.params import GeoJSONResponse
from api.routers import _layers
from api.routers._layer_routes import LayerDocs, code_path, layer_router

DOCS = LayerDocs(
    code_pattern=r"^\d{2}$",
    code_description="2-digit province code",
    code_examples={"Nghệ An": {"value": "40"}},
    province_description="one province",
    province_examples=None,
    list_summary="All 34 provinces with task progress (GeoJSON FeatureCollection)",
    list_description="Figures are the provinces' own Resolution 57 programme tasks (all years "
    "unless ``year`` is given: ``year=2025`` is the slice reported for 2025) plus the Plan 02 "
    "commune rollup (communes with all 16 task groups done). Top-level members: "
    "``numberMatched``, ``numberReturned``, ``links``, ``data_as_of``, ``as_of``, "
    "``data_version``.",
    detail_summary="One province with every figure, its indicators and links (GeoJSON Feature)",
    detail_description="Indicators carry value, rank (of how many), the previous period and "
    "the change.",
)
router = layer_router("province", "provinces", DOCS)
ProvinceCode = Annotated[str, code_path(DOCS)]


@router.get(
    "/provinces/{code}/communes",
    response_class=GeoJSONResponse,
    responses={**ok(UnitCollection, "GeoJSON"), 404: {"description": "unknown province"}},
    summary="The communes of one province (alias of /communes?province=code)",
)
async def province_communes(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: ProvinceCode,
    p: Annotated[_layers.LayerParams, Depends(_layers.layer_query)],
) -> Response:
    """Each commune's 16 Plan 02 task groups: done, overdue, completion %."""
    p = dataclasses.replace(p, province=code)
    return await _layers.collection(
        request, db, state, "commune", p, request.app.state.settings.max_limit
    )
