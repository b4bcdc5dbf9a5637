"""Request-scoped helpers shared by the routers: DB connection, data state, strict
query parameters, and cached responses with ETag/304/gzip."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import Connection

from api.cache import ResponseCache
from api.errors import BadParameter
from geo.progress import DataState, data_state


def get_conn(request: Request) -> Iterator[Connection]:
    """One pooled connection per request (the engine lives on app.state)."""
    with request.app.state.engine.connect() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]


def get_state(conn: ConnDep) -> DataState:
    return data_state(conn)


StateDep = Annotated[DataState, Depends(get_state)]


def strict_query(request: Request) -> None:
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
    """The caller's date, else the data's reporting date (see geo/progress.py)."""
    return as_of or state.default_as_of()


def cached_response(
    request: Request,
    state: DataState,
    build: Callable[[], bytes | str],
    media_type: str = "application/json",
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """Serve from the version-keyed cache; 304 when the client's ETag is current."""
    cache: ResponseCache = request.app.state.cache
    key = f"{request.url.path}?{sorted(request.query_params.multi_items())}"

    def build_bytes() -> bytes:
        body = build()
        return body.encode() if isinstance(body, str) else body

    entry = cache.get_or_build(state.version, key, build_bytes, media_type)
    wants_gzip = "gzip" in request.headers.get("accept-encoding", "") and entry.gzipped
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
