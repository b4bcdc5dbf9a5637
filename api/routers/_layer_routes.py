"""One factory for the per-layer routes: ``/{layer}`` (a FeatureCollection page) and
``/{layer}/{code}`` (one Feature), for provinces and communes alike.

Why a factory: the two layers differ only in level, code pattern, wording and the
``province`` filter's description; the routes were two 32-line copies. The operation
names (``list_provinces``, ``get_commune``, …) are kept, so OpenAPI operation ids and
paths stay what clients know.

No ``from __future__ import annotations`` here on purpose: the route functions are built
inside the factory and FastAPI reads their parameter types from the annotations; as
strings they could not be resolved from the closure.
"""

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.openapi.models import Example

from api.deps import LazyConnDep, StateDep
from api.models import UnitCollection, UnitDetail, ok
from api.params import (
    AsOfDay,
    GeoJSONResponse,
    Period,
    Precision,
    Resolution,
    Year,
    Zoom,
)
from api.routers import _layers
from api.routers._out_crs import CRS_DESCRIPTION


@dataclass(frozen=True)
class LayerDocs:
    """What a layer's routes say about themselves in OpenAPI."""

    code_pattern: str
    code_description: str
    code_examples: dict[str, Example]
    province_description: str
    province_examples: dict[str, Example] | None
    list_summary: str
    list_description: str
    detail_summary: str
    detail_description: str


def code_path(docs: LayerDocs) -> Any:
    """The ``{code}`` path parameter of a layer, for ``Annotated[str, code_path(docs)]``."""
    return Path(
        pattern=docs.code_pattern,
        description=docs.code_description,
        openapi_examples=docs.code_examples,
    )


def layer_router(level: str, tag: str, docs: LayerDocs) -> APIRouter:
    """An APIRouter with the list and detail routes of one unit layer."""
    plural = _layers.PLURAL[level]
    singular = level
    router = APIRouter(tags=[tag])
    province_query = Query(
        pattern=r"^\d{2}$",
        description=docs.province_description,
        openapi_examples=docs.province_examples,
    )

    async def list_units(
        request: Request,
        db: LazyConnDep,
        state: StateDep,
        p: Annotated[_layers.LayerParams, Depends(_layers.layer_query)],
        province: Annotated[str | None, province_query] = None,
    ) -> Response:
        p = dataclasses.replace(p, province=province)
        return await _layers.collection(
            request, db, state, level, p, request.app.state.settings.max_limit
        )

    async def get_unit(
        request: Request,
        db: LazyConnDep,
        state: StateDep,
        code: Annotated[str, code_path(docs)],
        day: AsOfDay,
        year: Year = None,
        period: Period = None,
        precision: Precision = 6,
        zoom: Zoom = None,
        resolution: Resolution = None,
        crs: Annotated[str | None, Query(max_length=100, description=CRS_DESCRIPTION)] = None,
    ) -> Response:
        return await _layers.detail(
            request, db, state, level, code, day, year, period, precision, zoom, resolution, crs
        )

    router.add_api_route(
        f"/{plural}",
        list_units,
        methods=["GET"],
        name=f"list_{plural}",
        summary=docs.list_summary,
        description=docs.list_description,
        response_class=GeoJSONResponse,
        responses=ok(UnitCollection, "GeoJSON"),
    )
    router.add_api_route(
        f"/{plural}/{{code}}",
        get_unit,
        methods=["GET"],
        name=f"get_{singular}",
        summary=docs.detail_summary,
        description=docs.detail_description,
        response_class=GeoJSONResponse,
        responses={**ok(UnitDetail, "GeoJSON"), 404: {"description": f"unknown {singular}"}},
    )
    return router
