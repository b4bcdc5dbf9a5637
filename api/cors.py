"""CORS for the public reads: ``Access-Control-Allow-Origin: *`` on GET and HEAD, so a
MapLibre page or a notebook on another site can read the layers, tiles and OGC API.

Why its own layer and not Starlette's CORSMiddleware: that one answers for a list of
origins and every method; public data is public to every origin, but writes are not:
POST/PUT/DELETE (imports, reminders) and any request carrying a token get no CORS header,
and a preflight asking for anything but GET/HEAD is passed on untouched (to the configured
origins' CORSMiddleware, or to a refusal). ``IOCMAP_CORS_PUBLIC=false`` turns it off.
"""

from __future__ import annotations

from typing import Any

READ_METHODS = {b"GET", b"HEAD"}
EXPOSE = b"ETag, X-Data-Version, X-Data-As-Of, X-As-Of, Content-Crs, X-Request-ID, Link"
ALLOW_HEADERS = b"Accept, Accept-Encoding, Accept-Language, If-None-Match, Content-Type"


class PublicCors:
    """ASGI: ``*`` on public reads; preflights of public reads answered here."""

    def __init__(self, app: Any, configured: list[str] | None = None) -> None:
        self.app = app
        self.configured = {o.encode() for o in (configured or [])}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin")
        method = scope["method"].encode()
        if origin is None or origin in self.configured or b"authorization" in headers:
            await self.app(scope, receive, send)
            return
        if method == b"OPTIONS" and headers.get(b"access-control-request-method") in READ_METHODS:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        (b"access-control-allow-origin", b"*"),
                        (b"access-control-allow-methods", b"GET, HEAD"),
                        (b"access-control-allow-headers", ALLOW_HEADERS),
                        (b"access-control-max-age", b"86400"),
                        (b"vary", b"Origin"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if method not in READ_METHODS:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: dict) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                if b"access-control-allow-origin" not in names:
                    message = {
                        **message,
                        "headers": [
                            *message.get("headers", []),
                            (b"access-control-allow-origin", b"*"),
                            (b"access-control-expose-headers", EXPOSE),
                        ],
                    }
            await send(message)

        await self.app(scope, receive, send_with_cors)
