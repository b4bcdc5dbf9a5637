"""How the OGC API – Features routes answer: JSON (or GeoJSON) by default, the same
document as an HTML page with ``f=html``, cached per data version; and the ``f`` parameter.

Why outside ``api/routers``: the features, schemas and tiles routers share it, and routers
do not import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import Path, Query, Request, Response

from api.deps import cached_response
from api.ogc_docs import HTML, JSON, SCHEMA, html_page
from geo.read.progress import DataState

JSON_OR_HTML: dict[int | str, dict[str, Any]] = {
    200: {"description": "OK", "content": {JSON: {}, HTML: {}}}
}
SCHEMA_OR_HTML: dict[int | str, dict[str, Any]] = {
    200: {"description": "OK", "content": {SCHEMA: {}, HTML: {}}}
}
F = Annotated[
    str | None,
    Query(pattern="^(json|geojson|html)$", description="output format (default json)"),
]
ItemsF = Annotated[
    str | None,
    Query(
        pattern="^(json|geojson|html|csv|geojsonseq)$",
        description="output format: json/geojson (default), html, csv (properties and WKT),"
        " geojsonseq (RFC 8142: one feature per record)",
    ),
]
CollectionId = Annotated[str, Path(description="provinces | communes")]


async def respond(
    request: Request, state: DataState, build: Callable[[], bytes], media: str, f: str | None
) -> Response:
    """JSON (or GeoJSON) by default; ``f=html`` wraps the same document in a page."""
    if f == "html":
        return await cached_response(
            request,
            state,
            lambda: html_page(orjson.loads(build())),
            "text/html; charset=utf-8",
        )
    return await cached_response(request, state, build, media)
