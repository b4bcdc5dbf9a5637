"""Warming: build the map pages of a new data version before anyone asks for them.

Why outside ``api/routers``: the import route (after an import) and the page routes (when
a worker first sees a version) both start it, and routers do not import each other.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

from fastapi import Request

log = logging.getLogger("iocmap.maps")


WARM_PATHS_FIXED = ("/", "/wall")


def _warm_enabled(app: Any) -> bool:
    settings = getattr(app.state, "settings", None)
    return bool(settings.warm_pages) if settings is not None else False


def _host(request: Request | None) -> str:
    return (request.headers.get("host") if request is not None else None) or "localhost"


def schedule_warm(
    app: Any, version: int | None = None, request: Request | None = None
) -> asyncio.Task | None:
    """Warm this worker's page cache for ``version`` (None: whatever is current), once per
    version, as a task on the server's own event loop. Called by the import route after an
    import (``api/routers/imports.py``) and by the page routes when they first see a version
    (so every worker of a multi-worker server warms itself). Returns the task started.

    Why a task on the server's loop, not a thread with a test client: the response cache's
    single-flight and the database lanes are asyncio objects bound to that loop; and the
    warm requests carry the host the visitors use, since the host is part of the cache key."""
    if not _warm_enabled(app) or not hasattr(app.state, "cache"):
        return None
    if request is not None:
        app.state.maps_warm_host = _host(request)
    if version is not None and getattr(app.state, "maps_warm_version", None) == version:
        return None
    running = getattr(app.state, "maps_warm_task", None)
    if running is not None and not running.done():
        app.state.maps_warm_again = True  # the running one goes round once more
        return None
    app.state.maps_warm_version = version
    app.state.maps_warm_again = False
    task = asyncio.get_running_loop().create_task(warm_pages(app), name="warm")
    app.state.maps_warm_task = task
    return task


async def warm_pages(app: Any) -> int:
    """Request every default page once through the app itself, so the cache holds them for
    the current data version; returns the pages built. A newer version stops the round and
    starts another (an import during warming must not leave the old pages warm)."""
    from geo.read.progress import data_state, province_kpis
    from maps.inprocess import asgi_get

    def current() -> tuple[int, list[str]]:
        with app.state.engine.connect() as conn:
            state = data_state(conn)
            kpis = province_kpis(conn, state.default_as_of(), None)
            return state.version, [p["code"] for p in kpis]

    built = 0
    while True:
        try:
            version, provinces = await asyncio.to_thread(current)
        except Exception as exc:  # noqa: BLE001 - a warm-up must never take the server down
            log.warning("warming skipped: %s", exc)
            return built
        app.state.maps_warm_version = version
        host = getattr(app.state, "maps_warm_host", "localhost")
        headers = [(b"host", host.encode("latin-1")), (b"accept", b"text/html")]
        for path in [*WARM_PATHS_FIXED, *(f"/p/{c}" for c in provinces)]:
            if getattr(app.state, "maps_warm_again", False):
                break
            try:
                status, _ = await asgi_get(app, path, {}, headers)
                built += status == 200
            except Exception as exc:  # noqa: BLE001 - a warm-up must never take the server down
                log.warning("warming %s failed: %s", html.escape(path), exc)
                break
        if not getattr(app.state, "maps_warm_again", False):
            return built
        app.state.maps_warm_again = False
