"""GET requests to the ASGI app in this process, with no HTTP client library.

Why: ``iocmap maps build`` embeds the API's own answers in standalone pages. It used to
read them through ``fastapi.testclient``, which made httpx (a test tool) a run-time
dependency. An ASGI call is a few lines: build the HTTP scope, collect the response
messages. The app's lifespan (engine, cache) runs around the calls, in one event loop
held by an anyio blocking portal (what Starlette's TestClient does, without httpx), so
the caller stays synchronous.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import anyio
import orjson
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.types import ASGIApp, Message


class APIError(RuntimeError):
    """The API answered a build request with something other than 200."""


class InProcessAPI:
    """``get_json(path, params)`` against an app whose lifespan is running."""

    def __init__(self, app: ASGIApp, portal: BlockingPortal) -> None:
        self._app = app
        self._portal = portal

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The JSON body of ``GET path?params``; APIError naming the URL unless 200."""
        status, body = self._portal.call(asgi_get, self._app, path, params or {})
        if status != 200:
            raise APIError(f"GET {path} {params or ''}: HTTP {status}: {body[:300]!r}")
        return orjson.loads(body)


@contextmanager
def in_process_api(app: Any) -> Iterator[InProcessAPI]:
    """Start the app's lifespan, yield a client, shut the lifespan down afterwards."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
    ):
        yield InProcessAPI(app, portal)


async def asgi_get(
    app: ASGIApp,
    path: str,
    params: dict[str, Any],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, bytes]:
    """One ASGI HTTP GET on the caller's event loop: (status, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": urlencode(params).encode(),
        "headers": headers or [(b"host", b"localhost")],
        "client": ("127.0.0.1", 0),
        "server": ("localhost", 80),
        "state": {},
    }
    status = 0
    chunks: list[bytes] = []
    done = anyio.Event()
    sent_request = False

    async def receive() -> Message:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # asked again only to watch for a disconnect
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    done.set()
    return status, b"".join(chunks)
