"""Map pages drawn with Folium and served by the API (self-hosted assets only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import ConnDep, StateDep, cached_response, resolve_as_of
from geo.features import UnitQuery, unit_features
from geo.progress import national_summary
from maps.assets_local import ASSETS_DIR
from maps.choropleth import national_map

router = APIRouter(tags=["maps"], include_in_schema=False)
__all__ = ["router", "ASSETS_DIR"]


@router.get("/", response_class=HTMLResponse)
def national(
    request: Request,
    conn: ConnDep,
    state: StateDep,
    as_of: Annotated[dt.date | None, Query()] = None,
):
    """National choropleth of provinces' completion %."""
    day = resolve_as_of(as_of, state)

    def build() -> bytes:
        fc = orjson.loads(
            unit_features(conn, UnitQuery(level="province", as_of=day, band="z6", precision=4))
        )
        approximate = any(
            f["properties"].get("geometry_quality") == "approximate" for f in fc["features"]
        )
        summary = national_summary(conn, day, (state.reporting_date or day).year)
        return national_map(fc, day, summary, approximate).get_root().render().encode()

    return cached_response(request, state, build, "text/html; charset=utf-8")
