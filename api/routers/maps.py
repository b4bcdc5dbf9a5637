"""Map pages drawn with Folium and served by the API (self-hosted assets only):
``/`` national, ``/p/{province_code}`` a province's communes, ``/wall`` the IOC display,
``/upload`` the sheet upload page for office staff.

Pages are cached like data (keyed by the data version and the query), so a reload costs a
304 until the next import; ``api.page_warm`` builds them for a new data version in the
background, so the first visitor after an import gets a warm page. The routes are async and
open a connection only to build a page: a crowd of walls on a cached page costs no thread
and no connection. A browser that asks for a page with a bad parameter gets an HTML page
saying which, not raw JSON.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import LazyConn, LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.meetings import KEY_PATTERN
from api.page_warm import schedule_warm
from api.params import AsOfDay, Day
from geo.read.progress import DataState
from maps.assets_local import ASSETS_DIR, served_static
from maps.i18n import pick_lang, strings
from maps.mappage import PageParamError, assemble, render_map_page
from maps.reminders_page import render_reminders_page
from maps.render import render_template
from maps.upload import render_upload_page
from maps.wall import DEFAULT_PLAYLIST, PlaylistError, assemble_wall, render_wall
from maps.wall_province import UnknownProvince, assemble_province_wall

log = logging.getLogger("iocmap.maps")
HTML = "text/html; charset=utf-8"


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, message: str, param: str | None) -> HTMLResponse:
    """What a person sees for a bad page address: the problem in words, a way back."""
    lang = pick_lang(request.query_params.get("lang"))
    s = strings(lang)
    body = render_template(
        "error_page.html", s=s, lang=lang, status=status, message=message, param=param
    )
    return HTMLResponse(body, status_code=status)


def _describe(exc: Exception) -> tuple[int, str, str | None]:
    if isinstance(exc, BadParameter):
        return exc.status_code, exc.message, exc.param
    if isinstance(exc, RequestValidationError):
        errs = exc.errors()
        names = [".".join(str(p) for p in e.get("loc", ())[1:]) for e in errs]
        first = errs[0] if errs else {}
        param = names[0] if names else None
        return 422, f"invalid parameter '{param}': {first.get('msg', 'invalid value')}", param
    assert isinstance(exc, StarletteHTTPException)
    return exc.status_code, str(exc.detail), None


class PageRoute(APIRoute):
    """A page route: errors become an HTML page for browsers (API clients keep JSON)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except (BadParameter, RequestValidationError, StarletteHTTPException) as exc:
                if not _wants_html(request) or getattr(exc, "status_code", 400) >= 500:
                    raise
                return error_page(request, *_describe(exc))

        return route


router = APIRouter(tags=["maps"], include_in_schema=False, route_class=PageRoute)
__all__ = ["router", "ASSETS_DIR"]

Measure = Annotated[
    str | None, Query(pattern=r"^[a-z0-9_]{1,40}$", description="what the colours show")
]
Period = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z-]{4,10}$", description="e.g. 2025-Q3")]
Lang = Annotated[str | None, Query(pattern=r"^(vi|en)$", description="vi (default) or en")]
AsOf = Annotated[dt.date | None, Query(description="default: the data's reporting date"), Day]
Year = Annotated[
    int | None, Query(ge=2000, le=2100, description="tasks due in this year (default: reporting)")
]


async def _map_page(
    request: Request,
    db: LazyConn,
    state: DataState,
    province_code: str | None,
    measure: str | None,
    period: str | None,
    lang: str | None,
    day: dt.date,
    year: int | None,
) -> Response:
    as_of_given = "as_of" in request.query_params  # the page keeps it in its links
    schedule_warm(request.app, state.version, request)

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
                as_of_given=as_of_given,
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
    day: AsOfDay,
    measure: Measure = None,
    period: Period = None,
    lang: Lang = None,
    year: Year = None,
):
    """National choropleth of the 34 provinces (click one for its details and communes)."""
    return await _map_page(request, db, state, None, measure, period, lang, day, year)


@router.get("/p/{province_code}", response_class=HTMLResponse)
async def province(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    province_code: Annotated[str, Path(pattern=r"^\d{2}$")],
    measure: Measure = None,
    period: Period = None,
    lang: Lang = None,
    year: Year = None,
):
    """A province's communes (click one for its tasks and indicators)."""
    return await _map_page(request, db, state, province_code, measure, period, lang, day, year)


Views = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z0-9_]+(,[a-z0-9_]+)*$",
        max_length=400,
        description="playlist, comma-separated: national, regions (north, central, south), "
        "overdue (the provinces with most overdue tasks), indicator codes",
    ),
]


WallRefresh = Annotated[
    float | None, Query(ge=0.05, le=3600, description="seconds between data refreshes")
]
WallDwell = Annotated[float, Query(ge=0, le=3600, description="seconds per view; 0 = no rotation")]
WallForce = Annotated[bool, Query(description="benchmarks: redraw every cycle, ignore ETags")]
Meeting = Annotated[
    str | None,
    Query(pattern=KEY_PATTERN, description="follow (or with present=1, lead) this meeting"),
]
Present = Annotated[bool, Query(description="this screen presents the meeting")]


@router.get("/wall", response_class=HTMLResponse)
async def wall(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    refresh: WallRefresh = None,
    views: Views = None,
    dwell: WallDwell = 20,
    lang: Lang = None,
    year: Year = None,
    force: WallForce = False,
    meeting: Meeting = None,
    present: Present = False,
):
    """The IOC wall: KPIs, national choropleth, rankings, overdue alerts; refreshes in place.

    ``as_of`` and ``year`` set the basis of every figure, as for ``/api/v1/summary``."""
    return await _wall(request, db, state, day, None, refresh, views, dwell, lang, year, force)


@router.get("/wall/{province_code}", response_class=HTMLResponse)
async def province_wall(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    province_code: Annotated[str, Path(pattern=r"^\d{2}$")],
    refresh: WallRefresh = None,
    views: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z0-9_]+(,[a-z0-9_]+)*$",
            max_length=400,
            description="playlist, comma-separated: province, province_overdue, targets",
        ),
    ] = None,
    dwell: WallDwell = 20,
    lang: Lang = None,
    year: Year = None,
    force: WallForce = False,
    meeting: Meeting = None,
    present: Present = False,
):
    """A province's wall, for a provincial IOC: its communes on the map, its figures and
    trend, its communes' overdue tasks, its targets; 404 for a code no province has."""
    return await _wall(
        request, db, state, day, province_code, refresh, views, dwell, lang, year, force
    )


async def _wall(request, db, state, day, province_code, refresh, views, dwell, lang, year, force):
    basis_year = year or (state.reporting_date or day).year
    seconds = refresh or float(request.app.state.settings.wall_refresh_seconds)
    playlist = views.split(",") if views else None
    query = {
        "year": str(basis_year),
        **({"as_of": day.isoformat()} if "as_of" in request.query_params else {}),
    }
    schedule_warm(request.app, state.version, request)

    def build() -> bytes:
        common = {
            "as_of": day,
            "data_as_of": state.reporting_date,
            "year": basis_year,
            "lang": pick_lang(lang),
            "refresh_seconds": seconds,
            "dwell_seconds": dwell,
            "force": force,
            "query": query,
            "stale_days": request.app.state.settings.stale_report_days,
        }
        try:
            if province_code is None:
                page = assemble_wall(db.conn, views=playlist or list(DEFAULT_PLAYLIST), **common)
            else:
                page = assemble_province_wall(db.conn, province_code, views=playlist, **common)
        except PlaylistError as exc:
            raise BadParameter("views", str(exc)) from exc
        except UnknownProvince as exc:
            raise HTTPException(404, str(exc)) from exc
        return render_wall(page).encode()

    return await cached_response(request, state, build, HTML)


@router.get("/upload", response_class=HTMLResponse)
def upload(request: Request, lang: Lang = None):
    """The sheet upload page (task or indicator sheets) for provincial and commune staff.

    Static: it holds no data; the browser posts to ``/api/v1/imports/{kind}`` with the
    token the user typed, so the API's scope rules apply unchanged."""
    return HTMLResponse(render_upload_page(pick_lang(lang), served_static()))


@router.get("/reminders", response_class=HTMLResponse)
def reminders_page(request: Request, lang: Lang = None):
    """The reminders page: preview → issue → download, for provincial office staff.

    Static like ``/upload``: the browser calls ``/api/v1/reminders`` with the user's token."""
    return HTMLResponse(render_reminders_page(pick_lang(lang), served_static()))
