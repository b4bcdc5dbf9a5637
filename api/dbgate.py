"""Database work off the event loop, bounded so that threads never wait on the pool.

Why: a blocking call (psycopg, Folium, orjson over a big page) must not run on the event
loop, or every client waits behind it, ``/healthz`` included. But one thread per waiting
request is what starved the service before: 40 worker threads, each holding or waiting
for one of 40 pooled connections, while cache hits queued behind them for the pool's 15 s
timeout. A ``DbGate`` admits at most ``slots`` jobs at once (an asyncio semaphore: the
waiting is done by coroutines, which cost nothing) and runs each on a thread of its own
lane of exactly ``slots`` threads; the pool is sized so that every thread of every lane
finds a connection (see ``api.settings.Settings.pool_kwargs``). A request that cannot get
a slot within ``wait_seconds`` is answered 503 with ``Retry-After``: a bounded wait,
never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import HTTPException, Request

T = TypeVar("T")
RETRY_AFTER = "2"


async def admit(semaphore: asyncio.Semaphore, wait_seconds: float, busy: str) -> None:
    """Take a slot of ``semaphore`` within ``wait_seconds``, else 503 + Retry-After."""
    try:
        async with asyncio.timeout(wait_seconds):
            await semaphore.acquire()
    except TimeoutError:
        raise HTTPException(503, busy, headers={"Retry-After": RETRY_AFTER}) from None


class DbGate:
    """At most ``slots`` blocking jobs at once, each on a thread of this gate's lane.

    Create it on the event loop that will use it (the app's lifespan does).
    """

    def __init__(self, name: str, slots: int, wait_seconds: float) -> None:
        self.name = name
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._admit = asyncio.Semaphore(slots)
        self._threads = CapacityLimiter(slots)
        self.waiting = 0  # coroutines queued for a slot (for /metrics)

    @property
    def busy(self) -> int:
        """Jobs running now."""
        return self.slots - self._admit._value  # noqa: SLF001 - asyncio exposes no getter

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` on a lane thread once a slot is free; 503 after ``wait_seconds``."""
        self.waiting += 1
        try:
            await admit(
                self._admit,
                self.wait_seconds,
                f"server busy: no {self.name} slot free within {self.wait_seconds:g} s, "
                "retry shortly",
            )
        finally:
            self.waiting -= 1
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self._threads)
        finally:
            self._admit.release()


class WorkLimit:
    """At most ``slots`` expensive requests (downloads, CQL2 filters) at once per worker;
    the next waits ``wait_seconds`` and then gets 503 + Retry-After. It admits, it runs
    nothing: the admitted job still takes a slot of the build lane (whose pool it sizes).

    Why: a download or a distinct filter builds whole frames; a crowd of them at once is
    what took a worker past its memory, not the number of requests."""

    def __init__(
        self,
        name: str,
        slots: int,
        wait_seconds: float,
        after: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.slots = max(1, slots)
        self.wait_seconds = wait_seconds
        self.after = after  # run on a thread when the last running job of the kind ends
        self._admit = asyncio.Semaphore(self.slots)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await admit(
            self._admit,
            self.wait_seconds,
            f"máy chủ đang bận ({self.name}): thử lại sau ít giây — server busy: too many"
            f" {self.name} at once, retry shortly",
        )
        try:
            yield
        finally:
            self._admit.release()
            if self.after is not None and self._admit._value == self.slots:  # noqa: SLF001
                # the last one out hands the frames' memory back (api/memory.trim)
                await anyio.to_thread.run_sync(self.after)


def heavy_kind(request: Request) -> str | None:
    """Which expensive kind a request is, if any: downloads, reports, or a CQL2 filter."""
    if "/downloads/" in request.url.path:
        return "downloads"
    if "/reports/" in request.url.path:
        return "reports"
    if "filter" in request.query_params:
        return "filters"
    return None


def work_limit(request: Request, kind: str) -> WorkLimit:
    return request.app.state.work_limits[kind]


def db_gate(request: Request) -> DbGate:
    """The gate of the data builds (one per worker process)."""
    return request.app.state.db_gate


def control_gate(request: Request) -> DbGate:
    """The small lane of the version check and readiness: never queued behind builds."""
    return request.app.state.control_gate


async def run_in_thread(fn: Callable[..., T], *args: object) -> T:
    """CPU work that needs no database (gzip): anyio's default, bounded thread pool."""
    return await anyio.to_thread.run_sync(fn, *args)
