"""Request-scoped helpers shared by the routers: DB connection, data state, strict
query parameters, and cached responses with ETag/304/gzip."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from api.cache import Entry, ResponseCache, StateCache
from api.errors import BadParameter
from geo.read.progress import DataState, data_state


def get_conn(request: Request) -> Iterator[Connection]:
    """One pooled connection per request: GET/HEAD read the replica when one is configured
    (``IOCMAP_READ_DATABASE_URL``), every other method goes to the primary."""
    state = request.app.state
    if request.method in ("GET", "HEAD") and getattr(state, "read_engine", None) is not None:
        request.state.db_role = state.db_read_role
        engine = state.read_engine
    else:
        request.state.db_role = "primary"
        engine = getattr(state, "write_engine", state.engine)
    with engine.connect() as conn:
        yield conn


def get_write_conn(request: Request) -> Iterator[Connection]:
    """A connection to the primary whatever the method (imports, task updates)."""
    request.state.db_role = "primary"
    with getattr(request.app.state, "write_engine", request.app.state.engine).connect() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]
WriteConnDep = Annotated[Connection, Depends(get_write_conn)]


def read_engine(request: Request):
    """The engine GET traffic reads from (the replica when configured, else the primary)."""
    state = request.app.state
    return getattr(state, "read_engine", None) or state.engine


def _state_cache(request: Request) -> StateCache[DataState]:
    app_state = request.app.state
    cache = getattr(app_state, "state_cache", None)
    if cache is None:
        settings = getattr(app_state, "settings", None)
        cache = app_state.state_cache = StateCache(getattr(settings, "version_ttl", 1.0))
    return cache


async def get_state(request: Request) -> DataState:
    """The data version and reporting date, remembered for ``settings.version_ttl`` seconds
    so a warm cache hit touches no database (a new import shows within that time)."""
    cache = _state_cache(request)
    state = cache.fresh()
    if state is not None:
        return state

    def read() -> DataState:
        with read_engine(request).connect() as conn:
            return data_state(conn)

    return await run_in_threadpool(cache.refresh, read)


StateDep = Annotated[DataState, Depends(get_state)]


async def strict_query(request: Request) -> None:
    """Reject query parameters the route does not declare (OGC API Part 1 asks for 400)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = {p.alias for p in _all_query_params(dependant)}
    for name in request.query_params:
        if name not in allowed:
            raise BadParameter(
                name, f"unknown query parameter '{name}'; allowed: {', '.join(sorted(allowed))}"
            )


def _all_query_params(dependant) -> list:
    params = list(dependant.query_params)
    for sub in dependant.dependencies:
        params.extend(_all_query_params(sub))
    return params


def resolve_as_of(as_of: dt.date | None, state: DataState) -> dt.date:
    """The caller's date, else the data's reporting date (see geo/read/progress.py)."""
    return as_of or state.default_as_of()


def cached_response(
    request: Request,
    state: DataState,
    build: Callable[[], bytes | str],
    media_type: str = "application/json",
    extra_headers: dict[str, str] | None = None,
    key: str | None = None,
) -> Response:
    """Serve from the version-keyed cache; 304 when the client's ETag is current."""
    cache: ResponseCache = request.app.state.cache
    key = key or cache_key(request)
    entry = cache.get_or_build(state.version, key, _as_bytes(build), media_type, extra_headers)
    return _respond(request, state, entry, media_type, extra_headers)


async def cached_response_async(
    request: Request,
    state: DataState,
    build: Callable[[], bytes | str],
    media_type: str = "application/json",
    extra_headers: dict[str, str] | None = None,
    key: str | None = None,
) -> Response:
    """``cached_response`` for async routes: a hit is served on the event loop without a
    thread hop; a miss (and a first gzip) runs in the thread pool."""
    cache: ResponseCache = request.app.state.cache
    key = key or cache_key(request)
    entry = cache.get(state.version, key)
    if entry is None:
        entry = await run_in_threadpool(
            cache.get_or_build, state.version, key, _as_bytes(build), media_type, extra_headers
        )
    if entry.route is None:
        entry.route = request.scope.get("route")
        entry.path_params = dict(request.scope.get("path_params") or {})
    if _accepts_gzip(request) and entry.compressible and not entry.gzip_ready:
        await run_in_threadpool(lambda: entry.gzipped)
    return _respond(request, state, entry, media_type, extra_headers)


def cache_key(request: Request) -> str:
    """Path plus sorted query: the same question in any parameter order shares an entry."""
    return f"{request.url.path}?{sorted(request.query_params.multi_items())}"


def _as_bytes(build: Callable[[], bytes | str]) -> Callable[[], bytes]:
    def build_bytes() -> bytes:
        body = build()
        return body.encode() if isinstance(body, str) else body

    return build_bytes


def _accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "")


def _respond(
    request: Request,
    state: DataState,
    entry: Entry,
    media_type: str,
    extra_headers: dict[str, str] | None,
) -> Response:
    wants_gzip = _accepts_gzip(request) and entry.compressible
    etag = entry.etag[:-1] + '-gz"' if wants_gzip else entry.etag
    headers = {
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "Cache-Control": "no-cache",
        "X-Data-Version": str(state.version),
        **(extra_headers or {}),
    }
    if state.reporting_date:
        headers["X-Data-As-Of"] = state.reporting_date.isoformat()
    if role := getattr(request.state, "db_role", None):
        headers["X-Served-By-DB"] = role  # replica | primary: which database answered
    inm = request.headers.get("if-none-match", "")
    if inm and (
        inm.strip() == "*"
        or any(
            tag.strip().removeprefix("W/") in (entry.etag, entry.etag[:-1] + '-gz"')
            for tag in inm.split(",")
        )
    ):
        return Response(status_code=304, headers=headers)
    if wants_gzip:
        headers["Content-Encoding"] = "gzip"
        return Response(entry.gzipped, media_type=media_type, headers=headers)
    return Response(entry.body, media_type=media_type, headers=headers)


class LazyConn:
    """A read connection checked out only when a build needs it (cache hits need none)."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self._conn: Connection | None = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            state = self._request.app.state
            self._request.state.db_role = getattr(state, "db_read_role", "primary")
            self._conn = read_engine(self._request).connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


async def get_lazy_conn(request: Request):
    """Yield a LazyConn and return its connection to the pool after the response."""
    lazy = LazyConn(request)
    try:
        yield lazy
    finally:
        if lazy._conn is not None:
            await run_in_threadpool(lazy.close)


LazyConnDep = Annotated[LazyConn, Depends(get_lazy_conn)]
