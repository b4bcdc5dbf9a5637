"""One map from errors to JSON responses ``{"detail": ..., "errors": [...]}``.

Why: clients (maps, QGIS users, scripts) get the same shape for every failure, with the
parameter named, and bad input never surfaces as a 500.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException


class BadParameter(Exception):
    """A query parameter the route does not accept or cannot use."""

    def __init__(self, param: str, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.param = param
        self.message = message
        self.status_code = status_code


def _body(detail: str, errors: list[dict] | None = None) -> dict:
    return {"detail": detail, "errors": errors or []}


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(BadParameter)
    async def bad_parameter(_: Request, exc: BadParameter) -> JSONResponse:
        return JSONResponse(
            _body(exc.message, [{"param": exc.param, "msg": exc.message}]),
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "param": ".".join(str(p) for p in e.get("loc", ())[1:]) or None,
                "in": (e.get("loc") or ["?"])[0],
                "msg": e.get("msg"),
            }
            for e in exc.errors()
        ]
        names = ", ".join(sorted({e["param"] for e in errors if e["param"]}))
        return JSONResponse(_body(f"invalid parameter: {names}", errors), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            _body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(OperationalError)
    async def db_down(_: Request, exc: OperationalError) -> JSONResponse:
        return JSONResponse(
            _body("database unavailable, retry shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )
