"""Provinces and their communes as RFC 7946 GeoJSON with progress figures."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from geo.simplify import DEFAULT_LEVELS
from sqlalchemy import text

from api.deps import ConnDep, StateDep, cached_response, resolve_as_of
from geo.features import UnitQuery, band_for_zoom, unit_features

router = APIRouter(tags=["provinces"])
GEOJSON = "application/geo+json"

AsOf = Annotated[
    dt.date | None,
    Query(description="Date the task status is derived for (default: the data's reporting date)"),
]
Year = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="Only tasks whose deadline falls in this year"),
]
Precision = Annotated[int, Query(ge=0, le=15, description="Coordinate decimals")]
Zoom = Annotated[
    int | None,
    Query(ge=0, le=24, description="Web-map zoom: picks a simplified geometry level"),
]
ProvinceCode = Annotated[str, Path(pattern=r"^\d{2}$", description="2-digit province code")]


def _meta_headers(as_of: dt.date) -> dict[str, str]:
    return {"X-As-Of": as_of.isoformat()}


@router.get(
    "/provinces",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    summary="All 34 provinces with task progress (GeoJSON)",
)
def list_provinces(
    request: Request,
    conn: ConnDep,
    state: StateDep,
    as_of: AsOf = None,
    year: Year = None,
    precision: Precision = 6,
    zoom: Zoom = None,
):
    """Figures are the provinces' own Resolution 57 programme tasks (all years unless
    ``year`` is given: ``year=2025`` is the slice reported for 2025) plus the Plan 02
    commune rollup (communes with all 16 task groups done)."""
    day = resolve_as_of(as_of, state)
    q = UnitQuery(
        level="province",
        as_of=day,
        year=year,
        band=band_for_zoom(zoom, list(DEFAULT_LEVELS)),
        precision=precision,
    )
    return cached_response(
        request, state, lambda: unit_features(conn, q), GEOJSON, _meta_headers(day)
    )


@router.get(
    "/provinces/{code}/communes",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}, 404: {"description": "unknown province"}},
    summary="The communes of one province with Plan 02 progress (GeoJSON)",
)
def province_communes(
    request: Request,
    conn: ConnDep,
    state: StateDep,
    code: ProvinceCode,
    as_of: AsOf = None,
    year: Year = None,
    precision: Precision = 6,
    zoom: Zoom = None,
):
    """Each commune's 16 Plan 02 task groups: done, overdue, completion %."""
    exists = conn.execute(
        text("select 1 from admin_unit where code = :c and level = 'province'"), {"c": code}
    ).first()
    if not exists:
        raise HTTPException(404, f"unknown province code '{code}'")
    day = resolve_as_of(as_of, state)
    q = UnitQuery(
        level="commune",
        as_of=day,
        year=year,
        parent=code,
        band=band_for_zoom(zoom, list(DEFAULT_LEVELS)),
        precision=precision,
    )
    return cached_response(
        request, state, lambda: unit_features(conn, q), GEOJSON, _meta_headers(day)
    )
