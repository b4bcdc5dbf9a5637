"""Request-scoped helpers shared by the routers: data state, strict query parameters,
a lazily opened read connection, and cached responses with ETag/304/gzip."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy import Connection, Engine

from api.cache import RawResponse, ResponseCache, render, request_key, wants_gzip
from api.dbgate import db_gate, heavy_kind, run_in_thread, work_limit
from api.errors import BadParameter
from geo.read.progress import DataState, data_state


def read_engine(request: Request) -> Engine:
    """The engine GET traffic reads from (the replica when configured, else the primary)."""
    state = request.app.state
    return getattr(state, "read_engine", None) or state.engine


async def get_state(request: Request) -> DataState:
    """The data version and reporting date, remembered for ``settings.version_ttl`` seconds
    so a warm cache hit touches no database (a new import shows within that time); see
    ``api.cache.StateCache`` and ``read_state``."""
    return await request.app.state.state_cache.get()


def state_reader(app_state: Any) -> Callable[[], Awaitable[DataState]]:
    """How the app reads the data state: on the control lane (never queued behind the
    builds), from the database GET traffic reads."""
    engine = getattr(app_state, "read_engine", None) or app_state.engine

    def read() -> DataState:
        with engine.connect() as conn:
            return data_state(conn)

    return lambda: app_state.control_gate.run(read)


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


async def cached_response(
    request: Request,
    state: DataState,
    build: Callable[[], bytes | str],
    media_type: str = "application/json",
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """Serve from the version-keyed cache (key: ``api.cache.request_key``); 304 when the
    client's ETag is current. A hit is answered on the event loop, with no thread and no
    connection; a miss runs ``build`` on the build lane, once for all concurrent callers
    of the key; a first gzip runs on a worker thread, once as well."""
    cache: ResponseCache = request.app.state.cache
    key = request_key(request.scope)
    entry = cache.get(state.version, key)
    if entry is None:
        job = _as_bytes(build, getattr(request.state, "lazy_conn", None))
        kind = heavy_kind(request)

        async def run() -> bytes:
            if kind is None:
                return await db_gate(request).run(job)
            async with work_limit(request, kind).slot():
                return await db_gate(request).run(job)

        entry = await cache.get_or_build(
            state.version, key, run, media_type, extra_headers, transient=kind == "filters"
        )
    if entry.route is None:
        entry.route = request.scope.get("route")
        entry.path_params = dict(request.scope.get("path_params") or {})
    accept = request.headers.get("accept-encoding", "")
    if wants_gzip(accept, entry):
        await cache.ensure_gzip(entry, run_in_thread)
    extra = []
    if role := getattr(request.state, "db_role", None):
        extra.append((b"x-served-by-db", role.encode()))  # replica | primary: who answered
    inm = request.headers.get("if-none-match", "")
    return RawResponse(*render(entry, state, accept, inm, extra))


def _as_bytes(build: Callable[[], bytes | str], lazy: LazyConn | None) -> Callable[[], bytes]:
    """The build as the lane thread runs it: bytes out, and the connection it checked out
    back to the pool on the same thread, before the slot is given back."""

    def build_bytes() -> bytes:
        try:
            body = build()
        finally:
            if lazy is not None:
                lazy.close()
        return body.encode() if isinstance(body, str) else body

    return build_bytes


class LazyConn:
    """A read connection checked out only when a build needs it (cache hits need none).

    It is opened and closed on the build's lane thread (see ``_as_bytes``), so the pool
    never has more connections out than the lanes have threads.
    """

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
            conn, self._conn = self._conn, None
            conn.close()


async def get_lazy_conn(request: Request) -> LazyConn:
    """A LazyConn for this request's build (found by ``cached_response`` on request.state)."""
    lazy = request.state.lazy_conn = LazyConn(request)
    return lazy


LazyConnDep = Annotated[LazyConn, Depends(get_lazy_conn)]
