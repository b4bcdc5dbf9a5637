"""Map pages drawn with Folium and served by the API (self-hosted assets only):
``/`` national, ``/p/{province_code}`` a province's communes, ``/wall`` the IOC display.

Pages are cached like data (keyed by the data version and the query), so a reload costs a
304 until the next import. The routes are async and open a connection only to build a
page: a crowd of walls on a cached page costs no thread and no connection.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import LazyConn, LazyConnDep, StateDep, cached_response, resolve_as_of
from api.errors import BadParameter
from geo.read.progress import DataState
from maps.assets_local import ASSETS_DIR
from maps.i18n import pick_lang
from maps.mappage import PageParamError, assemble, render_map_page
from maps.wall import DEFAULT_PLAYLIST, PlaylistError, assemble_wall, render_wall

router = APIRouter(tags=["maps"], include_in_schema=False)
__all__ = ["router", "ASSETS_DIR"]
HTML = "text/html; charset=utf-8"

Measure = Annotated[
    str | None, Query(pattern=r"^[a-z0-9_]{1,40}$", description="what the colours show")
]
Period = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z-]{4,10}$", description="e.g. 2025-Q3")]
Lang = Annotated[str | None, Query(pattern=r"^(vi|en)$", description="vi (default) or en")]
AsOf = Annotated[dt.date | None, Query(description="default: the data's reporting date")]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="tasks due in this year")]


async def _map_page(
    request: Request,
    db: LazyConn,
    state: DataState,
    province_code: str | None,
    measure: str | None,
    period: str | None,
    lang: str | None,
    as_of: dt.date | None,
    year: int | None,
) -> Response:
    day = resolve_as_of(as_of, state)

    def build() -> bytes:
        try:
            page = assemble(
                db.conn,
                as_of=day,
                reporting_year=(state.reporting_date or day).year,
                province_code=province_code,
                measure_code=measure,
                period=period,
                lang=pick_lang(lang),
                year=year,
                as_of_given=as_of is not None,
            )
        except PageParamError as exc:
            raise BadParameter(exc.param, str(exc)) from exc
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from exc
        return render_map_page(page).encode()

    return await cached_response(request, state, build, HTML)


@router.get("/", response_class=HTMLResponse)
async def national(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    measure: Measure = None,
    period: Period = None,
    lang: Lang = None,
    as_of: AsOf = None,
    year: Year = None,
):
    """National choropleth of the 34 provinces (click one for its details and communes)."""
    return await _map_page(request, db, state, None, measure, period, lang, as_of, year)


@router.get("/p/{province_code}", response_class=HTMLResponse)
async def province(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    province_code: Annotated[str, Path(pattern=r"^\d{2}$")],
    measure: Measure = None,
    period: Period = None,
    lang: Lang = None,
    as_of: AsOf = None,
    year: Year = None,
):
    """A province's communes (click one for its tasks and indicators)."""
    return await _map_page(request, db, state, province_code, measure, period, lang, as_of, year)


Views = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z0-9_]+(,[a-z0-9_]+)*$",
        description="playlist, comma-separated: national, regions (north, central, south), "
        "overdue (the provinces with most overdue tasks), indicator codes",
    ),
]


@router.get("/wall", response_class=HTMLResponse)
async def wall(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    refresh: Annotated[
        float | None, Query(ge=0.05, le=3600, description="seconds between data refreshes")
    ] = None,
    views: Views = None,
    dwell: Annotated[
        float, Query(ge=0, le=3600, description="seconds per view; 0 = no rotation")
    ] = 20,
    lang: Lang = None,
    force: Annotated[
        bool, Query(description="benchmarks: redraw every cycle, ignore ETags")
    ] = False,
):
    """The IOC wall: KPIs, national choropleth, rankings, overdue alerts; refreshes in place."""
    day = resolve_as_of(None, state)
    seconds = refresh or float(request.app.state.settings.wall_refresh_seconds)
    playlist = views.split(",") if views else list(DEFAULT_PLAYLIST)

    def build() -> bytes:
        try:
            page = assemble_wall(
                db.conn,
                as_of=day,
                data_as_of=state.reporting_date,
                year=(state.reporting_date or day).year,
                lang=pick_lang(lang),
                views=playlist,
                refresh_seconds=seconds,
                dwell_seconds=dwell,
                force=force,
            )
        except PlaylistError as exc:
            raise BadParameter("views", str(exc)) from exc
        return render_wall(page).encode()

    return await cached_response(request, state, build, HTML)
