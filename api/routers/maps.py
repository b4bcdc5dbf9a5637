"""Map pages drawn with Folium and served by the API (self-hosted assets only):
``/`` national, ``/p/{province_code}`` a province's communes, ``/wall`` the IOC display,
``/upload`` the sheet upload page for office staff.

Pages are cached like data (keyed by the data version and the query), so a reload costs a
304 until the next import; ``warm_pages`` builds them for a new data version in the
background, so the first visitor after an import gets a warm page. A browser that asks
for a page with a bad parameter gets an HTML page saying which, not raw JSON.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import ConnDep, StateDep, cached_response, resolve_as_of
from api.errors import BadParameter
from maps.assets_local import ASSETS_DIR
from maps.i18n import pick_lang, strings
from maps.mappage import PageParamError, assemble, render_map_page
from maps.render import render_template
from maps.upload import render_upload_page
from maps.wall import DEFAULT_PLAYLIST, PlaylistError, assemble_wall, render_wall

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
__all__ = ["router", "ASSETS_DIR", "warm_pages"]

Measure = Annotated[
    str | None, Query(pattern=r"^[a-z0-9_]{1,40}$", description="what the colours show")
]
Period = Annotated[str | None, Query(pattern=r"^[0-9A-Za-z-]{4,10}$", description="e.g. 2025-Q3")]
Lang = Annotated[str | None, Query(pattern=r"^(vi|en)$", description="vi (default) or en")]
AsOf = Annotated[dt.date | None, Query(description="default: the data's reporting date")]
Year = Annotated[
    int | None, Query(ge=2000, le=2100, description="tasks due in this year (default: reporting)")
]


def _map_page(request, conn, state, province_code, measure, period, lang, as_of, year):
    day = resolve_as_of(as_of, state)
    schedule_warm(request.app, state.version)

    def build() -> bytes:
        try:
            page = assemble(
                conn,
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

    return cached_response(request, state, build, HTML)


@router.get("/", response_class=HTMLResponse)
def national(
    request: Request,
    conn: ConnDep,
    state: StateDep,
    measure: Measure = None,
    period: Period = None,
    lang: Lang = None,
    as_of: AsOf = None,
    year: Year = None,
):
    """National choropleth of the 34 provinces (click one for its details and communes)."""
    return _map_page(request, conn, state, None, measure, period, lang, as_of, year)


@router.get("/p/{province_code}", response_class=HTMLResponse)
def province(
    request: Request,
    conn: ConnDep,
    state: StateDep,
    province_code: Annotated[str, Path(pattern=r"^\d{2}$")],
    measure: Measure = None,
    period: Period = None,
    lang: Lang = None,
    as_of: AsOf = None,
    year: Year = None,
):
    """A province's communes (click one for its tasks and indicators)."""
    return _map_page(request, conn, state, province_code, measure, period, lang, as_of, year)


Views = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z0-9_]+(,[a-z0-9_]+)*$",
        max_length=400,
        description="playlist, comma-separated: national, regions (north, central, south), "
        "overdue (the provinces with most overdue tasks), indicator codes",
    ),
]


@router.get("/wall", response_class=HTMLResponse)
def wall(
    request: Request,
    conn: ConnDep,
    state: StateDep,
    refresh: Annotated[
        float | None, Query(ge=0.05, le=3600, description="seconds between data refreshes")
    ] = None,
    views: Views = None,
    dwell: Annotated[
        float, Query(ge=0, le=3600, description="seconds per view; 0 = no rotation")
    ] = 20,
    lang: Lang = None,
    as_of: AsOf = None,
    year: Year = None,
    force: Annotated[
        bool, Query(description="benchmarks: redraw every cycle, ignore ETags")
    ] = False,
):
    """The IOC wall: KPIs, national choropleth, rankings, overdue alerts; refreshes in place.

    ``as_of`` and ``year`` set the basis of every figure, as for ``/api/v1/summary``."""
    day = resolve_as_of(as_of, state)
    basis_year = year or (state.reporting_date or day).year
    seconds = refresh or float(request.app.state.settings.wall_refresh_seconds)
    playlist = views.split(",") if views else list(DEFAULT_PLAYLIST)
    query = {"year": str(basis_year), **({"as_of": as_of.isoformat()} if as_of else {})}
    schedule_warm(request.app, state.version)

    def build() -> bytes:
        try:
            page = assemble_wall(
                conn,
                as_of=day,
                data_as_of=state.reporting_date,
                year=basis_year,
                lang=pick_lang(lang),
                views=playlist,
                refresh_seconds=seconds,
                dwell_seconds=dwell,
                force=force,
                query=query,
            )
        except PlaylistError as exc:
            raise BadParameter("views", str(exc)) from exc
        return render_wall(page).encode()

    return cached_response(request, state, build, HTML)


@router.get("/upload", response_class=HTMLResponse)
def upload(request: Request, lang: Lang = None):
    """The sheet upload page (task or indicator sheets) for provincial and commune staff.

    Static: it holds no data; the browser posts to ``/api/v1/imports/{kind}`` with the
    token the user typed, so the API's scope rules apply unchanged."""
    return HTMLResponse(render_upload_page(pick_lang(lang)))


# ---------------------------------------------------------------------------------------
# Warming: build the pages of a new data version before anyone asks for them.

WARM_PATHS_FIXED = ("/", "/wall")
_warm_lock = threading.Lock()


def _warm_enabled() -> bool:
    return os.environ.get("IOCMAP_WARM_PAGES", "1").lower() not in ("0", "false", "no")


def schedule_warm(app, version: int | None = None) -> threading.Thread | None:
    """Warm this worker's page cache for ``version`` (None: whatever is current) in a
    background thread, once per version. Called by the import route after an import
    (``api/routers/imports.py``) and by the page routes when they first see a version
    (so every worker of a multi-worker server warms itself). Returns the thread started."""
    if not _warm_enabled() or not hasattr(app.state, "cache"):
        return None
    with _warm_lock:
        if version is not None and getattr(app.state, "maps_warm_version", None) == version:
            return None
        running = getattr(app.state, "maps_warm_thread", None)
        if running is not None and running.is_alive():
            app.state.maps_warm_again = True  # the running one goes round once more
            return None
        app.state.maps_warm_version = version
        app.state.maps_warm_again = False
        thread = threading.Thread(target=warm_pages, args=(app,), daemon=True, name="warm")
        app.state.maps_warm_thread = thread
        thread.start()
        return thread


def warm_pages(app) -> int:
    """Request every default page once, in-process, so the cache holds them for the
    current data version; returns the pages built. A newer version stops the round and
    starts another (an import during warming must not leave the old pages warm)."""
    from fastapi.testclient import TestClient

    from geo.read.progress import data_state, province_kpis

    built = 0
    while True:
        with app.state.engine.connect() as conn:
            state = data_state(conn)
            version = state.version
            provinces = [p["code"] for p in province_kpis(conn, state.default_as_of(), None)]
        app.state.maps_warm_version = version
        paths = [*WARM_PATHS_FIXED, *(f"/p/{c}" for c in provinces)]
        client = TestClient(app, headers={"Accept": "text/html", "X-Iocmap-Warm": "1"})
        for path in paths:
            if getattr(app.state, "maps_warm_again", False):
                break
            try:
                r = client.get(path)
                built += r.status_code == 200
            except Exception as exc:  # a warm-up must never take the server down
                log.warning("warming %s failed: %s", html.escape(path), exc)
                break
        with _warm_lock:
            if not getattr(app.state, "maps_warm_again", False):
                return built
            app.state.maps_warm_again = False
