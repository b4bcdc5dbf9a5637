"""Liveness and readiness: /healthz never touches the database nor a thread, /readyz
reads the database on the small control lane (never behind the data builds)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from api.dbgate import control_gate
from api.replica import replica_status
from geo.read.progress import DataState, data_state

router = APIRouter(tags=["health"])


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    """Browsers ask for it on every page; a 404 would show as a console error."""
    from maps.assets_local import ASSETS_DIR

    return FileResponse(ASSETS_DIR / "favicon.svg", media_type="image/svg+xml")


HEALTHY = b'{"status":"ok"}'


@router.get("/healthz")
async def healthz() -> Response:
    """The process is up: answered on the event loop (a crowd cannot queue it behind
    threads or connections, so a load balancer sees a busy server as alive)."""
    return Response(HEALTHY, media_type="application/json")


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and holds data (503 otherwise, so a balancer can skip us);
    with a read replica, the database that serves GETs and its replication lag."""
    state = request.app.state
    read_engine = getattr(state, "read_engine", state.engine)

    def check() -> tuple[DataState, dict | None]:
        with read_engine.connect() as conn:
            row = data_state(conn)
        if read_engine is state.engine:
            return row, None
        return row, replica_status(state.engine, read_engine, state.settings.read_max_lag_seconds)

    try:
        row, replica = await control_gate(request).run(check)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return JSONResponse(
            {"status": "unavailable", "detail": type(exc).__name__},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    body = {
        "status": "ok",
        "data_version": row.version,
        "data_as_of": row.reporting_date.isoformat() if row.reporting_date else None,
    }
    if replica is not None:
        body["replica"] = replica
        body["status"] = "degraded" if replica["problems"] else "ok"
    return JSONResponse(body)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus exposition: request counts/latency per route, cache, data version, pool."""
    body, content_type = request.app.state.metrics.render(request.app)
    return Response(body, media_type=content_type)
