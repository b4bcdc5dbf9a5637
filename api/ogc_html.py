"""A browser asking an OGC page for HTML (``Accept: text/html`` first) gets ``f=html``.

Why a rewrite before the cache: responses are cached by host + path + query
(``api.cache.request_key``), and the fast path answers before any route runs, so a
choice made inside the route by the Accept header would be served to the next client of
the URL whatever it accepts. Adding ``f=html`` to the query of such a request gives the
HTML its own key; GDAL, QGIS and ``curl`` (no text/html first) keep the JSON. Those
responses say ``Vary: Accept`` so a shared cache in front (nginx) keeps them apart too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# the OGC documents that have an HTML form: landing, conformance, collections, one
# collection, its items, one item (not /api, the queryables' schema, the tiles)
HTML_PATHS = re.compile(r"^/ogc(/conformance|/collections(/[^/]+(/items(/[^/]+)?)?)?)?/?$")


def prefers_html(accept: str) -> bool:
    """True when the first media type the client lists is text/html (a browser's
    navigation); ``*/*`` or JSON first keeps the default."""
    first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first in ("text/html", "application/xhtml+xml")


class OgcHtmlAccept:
    """Rewrite ``Accept: text/html`` on the OGC HTML paths to ``?f=html`` (GET only)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and HTML_PATHS.match(scope["path"]):
            query: bytes = scope.get("query_string", b"")
            has_f = any(p.split(b"=", 1)[0] == b"f" for p in query.split(b"&"))
            accept = ""
            for name, value in scope.get("headers") or ():
                if name == b"accept":
                    accept = value.decode("latin-1")
                    break
            if not has_f:
                if prefers_html(accept):
                    scope = {**scope, "query_string": query + b"&f=html" if query else b"f=html"}
                send = _vary_accept(send)
        await self.app(scope, receive, send)


def _vary_accept(send: Callable) -> Callable:
    """Add ``Vary: Accept`` to the response (a shared cache — nginx — keeps the JSON and the
    HTML of the URL apart)."""

    async def sending(message: dict) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])
            for i, (name, value) in enumerate(headers):
                if name.lower() == b"vary":
                    if b"accept" not in [v.strip().lower() for v in value.split(b",")]:
                        headers[i] = (name, value + b", Accept")
                    break
            else:
                headers.append((b"vary", b"Accept"))
            message = {**message, "headers": headers}
        await send(message)

    return sending
