"""Application factory: lifespan (engine, cache), middleware, routers, error handlers."""

from __future__ import annotations

import gc
import os
import signal
import threading
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from api import errors, meetings, replica
from api.auth import read_guard
from api.cache import CacheFastPath, ResponseCache, StateCache
from api.cors import PublicCors
from api.dbgate import DbGate, WorkLimit
from api.deps import state_reader, strict_query
from api.head import HeadAsGet
from api.instance import instance_dir, private_dir
from api.memory import MemoryWatch, supervisor_pid, trim, worker_budget
from api.observability import Metrics, ObservabilityMiddleware, configure_logging
from api.ogc_html import OgcHtmlAccept
from api.routers import (
    agencies,
    communes,
    contacts,
    datahealth,
    deliveries,
    difficulties,
    docs,
    downloads,
    explain,
    forecast,
    health,
    imports,
    indicators,
    maps,
    ogc,
    ogc_schemas,
    ogc_tiles,
    programmes,
    provinces,
    rankings,
    reminders,
    reply,
    reports,
    search,
    series,
    summary,
    targets,
    tiles,
    units,
)
from api.settings import CONTROL_SLOTS, Settings
from api.static import AssetFiles
from api.validation import ParamGuard, typed_params
from geo.db import make_engine
from geo.ingest import attempts
from geo.procs import die_with_parent
from geo.read.cql2 import warm_filter_parsers


class IocmapAPI(FastAPI):
    """FastAPI with our edge outside its middleware stack: access log and metrics, CORS,
    then the cache fast path.

    Why outside: a warm hit is the most frequent request and is answered by the fast path
    in ~0.1 ms; FastAPI's own layers (error, telemetry, body-limit, exception middleware)
    would add a third again to every hit, and under a crowd that per-request cost is what
    queues up in front of ``/healthz``. Errors of the routes are still handled inside.
    """

    edge_settings: Settings | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack: Any = super().build_middleware_stack()  # each layer wraps the one inside
        settings = self.edge_settings or Settings()
        if not settings.read_requires_token:
            # warm hits skip routing (still logged); with token-only reading every request
            # must pass the read guard, so the fast path is off
            stack = CacheFastPath(stack)
        stack = OgcHtmlAccept(stack)  # a browser's Accept: text/html → ?f=html, before the cache
        if settings.cors_origins:
            stack = CORSMiddleware(
                stack,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "HEAD", "OPTIONS", "POST"],
                allow_headers=["Authorization", "If-None-Match", "Content-Type"],
                expose_headers=["ETag", "X-Data-Version", "X-Data-As-Of", "X-Request-ID"],
            )
        if settings.cors_public:  # outside the configured origins' CORS: reads for everyone
            stack = PublicCors(stack, settings.cors_origins)
        stack = HeadAsGet(stack)  # HEAD wherever GET is: same cache entry, no body
        stack = ParamGuard(stack)  # control characters, oversized values: before any cache
        stack = ObservabilityMiddleware(stack, metrics=self.state.metrics)
        return stack


def go_with_the_supervisor() -> None:
    """A worker of ``iocmap serve`` (2 or more) stops when its supervisor goes, even killed
    outright (the kernel tells it: ``PR_SET_PDEATHSIG``). Why: orphaned workers kept serving
    the old code and held the port, so the service could not start again ("Address already
    in use"). One whose supervisor died while it started stops at once."""
    supervisor = supervisor_pid()
    if supervisor and not die_with_parent(signal.SIGTERM, supervisor):
        os.kill(os.getpid(), signal.SIGTERM)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; settings are read here, never at import time."""
    settings = settings or Settings()
    settings.configure_readers()  # uploads are parsed in limited children (sandbox.py)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        go_with_the_supervisor()
        # least privilege: the service connects as the app role, never as the owner
        app.state.engine = make_engine(settings.app_url(), **settings.pool_kwargs())
        replica.attach(app, settings)  # app.state.write_engine / read_engine (GET traffic)
        app.state.cache = ResponseCache(
            settings.cache_entries, settings.gzip_min_bytes, settings.cache_max_bytes
        )
        # every blocking job has a bounded lane sized from IOCMAP_DB_CONCURRENCY, and the
        # pool holds a connection for each of their threads (api/dbgate.py)
        app.state.db_gate = DbGate("database", settings.db_slots(), settings.db_wait_seconds)
        app.state.control_gate = DbGate("control", CONTROL_SLOTS, settings.db_wait_seconds)
        app.state.work_limits = {  # a download may queue longer: it is worth the wait
            "downloads": WorkLimit("downloads", settings.download_slots, 60.0, after=trim),
            "filters": WorkLimit("filters", settings.heavy_slots, settings.db_wait_seconds, trim),
            "reports": WorkLimit("reports", settings.heavy_slots, 30.0, after=trim),
        }
        app.state.memory = MemoryWatch(
            worker_budget(settings.memory_budget_mb, settings.worker_count()),
            shed=app.state.cache.clear,
        )
        app.state.state_cache = StateCache(settings.version_ttl, state_reader(app.state))
        to_thread.current_default_thread_limiter().total_tokens = settings.other_threads()
        app.state.settings = settings
        app.state.work_dir = instance_dir(settings.app_url(), settings.var_dir)
        settings.configure_reply_links()  # the notices' reply links (geo/remind/reply.py)
        # upload folders of a worker that was killed: recorded and removed, off the loop
        threading.Thread(
            target=attempts.sweep,
            args=(private_dir(app.state.work_dir / "uploads"), app.state.write_engine),
            daemon=True,
        ).start()
        # The CQL2 parsers (pygeofilter, lark, dateparser: ~12 MB, ~1 s) load now, once,
        # not in the first filter's request (which took ~1 s longer) and not as growth a
        # crowd of filters seems to leave behind (bench/memory_results.md)
        warm_filter_parsers()
        # Everything loaded so far (FastAPI, pandas, shapely, Folium templates: ~1M objects)
        # lives as long as the process; a full collection scanning it took 0.3-1.3 s on a
        # loaded 2-core box, stalling the loop (and /healthz) in the middle of a crowd.
        # Frozen objects are never scanned again; new garbage is collected as usual.
        gc.collect()
        gc.freeze()
        app.state.memory.start()
        yield
        await app.state.memory.stop()
        replica.detach(app)
        app.state.engine.dispose()

    app = IocmapAPI(
        title=settings.title,
        version="0.1.0",
        description="Bản đồ giám sát tiến độ Nghị quyết 57 — GeoJSON API (RFC 7946).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    errors.install_openapi(app)
    configure_logging(settings.log_level)
    app.state.metrics = Metrics()
    app.edge_settings = settings
    strict = [Depends(typed_params), Depends(strict_query)]
    reads = [Depends(typed_params), Depends(strict_query), Depends(read_guard)]
    app.include_router(health.router)
    app.include_router(provinces.router, prefix="/api/v1", dependencies=reads)
    app.include_router(summary.router, prefix="/api/v1", dependencies=reads)
    for module in (communes, units, series, indicators, rankings, search, downloads):
        app.include_router(module.router, prefix="/api/v1", dependencies=reads)
    for module in (
        agencies, datahealth, targets, programmes, forecast, reports, explain, difficulties
    ):  # fmt: skip
        app.include_router(module.router, prefix="/api/v1", dependencies=reads)
    app.include_router(imports.router, prefix="/api/v1", dependencies=strict)
    # no read guard: EventSource sends no Authorization header (api/meetings.py)
    app.include_router(meetings.router, prefix="/api/v1", dependencies=strict)
    app.include_router(reminders.router, prefix="/api/v1", dependencies=strict)
    app.include_router(reminders.read_router, prefix="/api/v1", dependencies=reads)
    app.include_router(deliveries.router, prefix="/api/v1", dependencies=strict)
    # personal data: a scoped editor/admin token in the route, never the public read path
    app.include_router(contacts.router, prefix="/api/v1", dependencies=strict)
    # no account: the signed link is the credential (geo/remind/reply.py)
    app.include_router(reply.router, dependencies=strict)
    app.include_router(ogc.router, dependencies=reads)
    app.include_router(ogc_schemas.router, dependencies=reads)
    app.include_router(ogc_tiles.router, dependencies=reads)
    app.include_router(tiles.router, dependencies=reads)
    docs.install(app)
    app.include_router(maps.router, dependencies=reads)
    app.mount("/static", AssetFiles(directory=maps.ASSETS_DIR), name="static")  # api/static.py
    return app
