"""HEAD on every GET route: the GET's status and headers (ETag, Content-Length, Content-Type,
X-Data-Version…), no body.

Why a middleware: FastAPI registers a route for exactly the methods it is given, so HEAD was
a 405 everywhere; HTTP (RFC 9110 §9.3.2) expects HEAD wherever GET is. Running the request as
a GET keeps one code path — the same cache key, ETag and 304 as the GET, and a warm HEAD is
answered by the cache fast path like a warm GET — and only the body is dropped on the way
out. A route without GET still answers 405 (as its GET would).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
ASGIApp = Callable[[dict, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
                   Awaitable[None]]  # fmt: skip


class HeadAsGet:
    """Serve HEAD as GET without the body (the headers, Content-Length included, are kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
