"""Application factory: lifespan (engine, cache), middleware, routers, error handlers."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api import errors, replica
from api.auth import read_guard
from api.cache import CacheFastPath, ResponseCache
from api.deps import strict_query
from api.instance import instance_dir
from api.observability import Metrics, ObservabilityMiddleware, configure_logging
from api.routers import (
    communes,
    docs,
    downloads,
    health,
    imports,
    indicators,
    maps,
    ogc,
    provinces,
    rankings,
    search,
    summary,
    tiles,
    units,
)
from api.settings import Settings
from api.validation import ParamGuard, typed_params
from geo.db import make_engine


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; settings are read here, never at import time."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # least privilege: the service connects as the app role, never as the owner
        app.state.engine = make_engine(settings.app_url(), pool_size=settings.pool_size)
        replica.attach(app, settings)  # app.state.write_engine / read_engine (GET traffic)
        app.state.cache = ResponseCache(
            settings.cache_entries, settings.gzip_min_bytes, settings.cache_max_bytes
        )
        app.state.settings = settings
        app.state.work_dir = instance_dir(settings.app_url(), settings.var_dir)
        yield
        replica.detach(app)
        app.state.engine.dispose()

    app = FastAPI(
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
    if not settings.read_requires_token:
        # warm hits skip routing (still logged); with token-only reading every request
        # must pass the read guard, so the fast path is off
        app.add_middleware(CacheFastPath)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "OPTIONS", "POST"],
            allow_headers=["Authorization", "If-None-Match", "Content-Type"],
            expose_headers=["ETag", "X-Data-Version", "X-Data-As-Of", "X-Request-ID"],
        )
    app.add_middleware(ParamGuard)  # control characters, oversized values: before any cache
    app.add_middleware(ObservabilityMiddleware, metrics=app.state.metrics)
    strict = [Depends(typed_params), Depends(strict_query)]
    reads = [Depends(typed_params), Depends(strict_query), Depends(read_guard)]
    app.include_router(health.router)
    app.include_router(provinces.router, prefix="/api/v1", dependencies=reads)
    app.include_router(summary.router, prefix="/api/v1", dependencies=reads)
    for module in (communes, units, indicators, rankings, search, downloads):
        app.include_router(module.router, prefix="/api/v1", dependencies=reads)
    app.include_router(imports.router, prefix="/api/v1", dependencies=strict)
    app.include_router(ogc.router, dependencies=reads)
    app.include_router(tiles.router, dependencies=reads)
    docs.install(app)
    app.include_router(maps.router, dependencies=reads)
    app.mount("/static", StaticFiles(directory=maps.ASSETS_DIR), name="static")
    return app
