"""One map from errors to JSON responses ``{"detail": ..., "errors": [...]}``.

Why: clients (maps, QGIS users, scripts) get the same shape for every failure, with the
parameter named, and bad input never surfaces as a 500.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo.errors import (
    BadInput,
    Conflict,
    Forbidden,
    ImportBusy,
    IocmapError,
    LimitExceeded,
    NotFound,
)
from geo.ingest.report import ImportReport


class ImportRejected(IocmapError):
    """The file was read but failed validation: nothing was written; the report says why.

    Only the API raises it (the CLI prints the report and exits 1), so it lives here."""

    def __init__(self, report: ImportReport) -> None:
        n = len(report.errors)
        if report.lang == "en":
            super().__init__(f"import rejected: {n} error{'s' if n != 1 else ''} in {report.file}")
        else:
            super().__init__(f"tệp bị từ chối: {n} lỗi trong {report.file}; không có gì được ghi")
        self.report = report


class FileTooLarge(IocmapError):
    """An upload over the configured size cap (the body is refused while it streams in)."""


# The one map from domain errors to HTTP statuses; the most specific class wins (mro order).
STATUS: dict[type[IocmapError], int] = {
    IocmapError: 400,
    BadInput: 422,
    LimitExceeded: 413,
    ImportRejected: 422,
    ImportBusy: 409,
    Conflict: 409,
    NotFound: 404,
    Forbidden: 403,
    FileTooLarge: 413,
}


def status_of(exc: IocmapError) -> int:
    """The HTTP status of a domain error: its nearest class in ``STATUS``."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


class BadParameter(Exception):
    """A query parameter the route does not accept or cannot use."""

    def __init__(self, param: str, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.param = param
        self.message = message
        self.status_code = status_code


def _body(detail: str, errors: list[dict] | None = None) -> dict:
    return {"detail": detail, "errors": errors or []}


def _server_dirs() -> re.Pattern[str]:
    """Directories whose names must not reach a client: temp, var/ and the project."""
    from api.instance import PROJECT_ROOT

    roots = {tempfile.gettempdir(), "/tmp", "/var/tmp", str(PROJECT_ROOT)}  # noqa: S108
    alternatives = "|".join(re.escape(r.rstrip("/")) for r in sorted(roots, key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})/(?:[^\s'\"/]+/)*")


_SERVER_DIRS = _server_dirs()


def scrub_paths(body: dict) -> dict:
    """``body`` with server directories cut from every text (``/tmp/iocmap-upload-x/a.zip``
    → ``a.zip``): GDAL and Python errors quote the temp path of an upload."""
    text = orjson.dumps(body, default=str).decode()
    return orjson.loads(_SERVER_DIRS.sub("", text))


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

    @app.exception_handler(PoolTimeout)
    async def overloaded(_: Request, exc: PoolTimeout) -> JSONResponse:
        return JSONResponse(
            _body("server busy: no database connection free, retry shortly"),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(OperationalError)
    async def db_down(_: Request, exc: OperationalError) -> JSONResponse:
        return JSONResponse(
            _body("database unavailable, retry shortly"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(IocmapError)
    async def domain_error(_: Request, exc: IocmapError) -> JSONResponse:
        """Domain error → ``STATUS``: bad file 422, over a limit 413, rejected import 422
        (+ the report), busy 409, forbidden 403; problems name file, row and field."""
        body = _body(exc.message)
        if isinstance(exc, ImportRejected):
            body["errors"] = [dataclasses.asdict(p) for p in exc.report.errors]
            body["report"] = exc.report.to_dict()
        elif isinstance(exc, BadInput):
            body["errors"] = [exc.as_problem()]
        import_id = getattr(exc, "import_id", None) or body.get("report", {}).get("import_id")
        if import_id is not None:  # a refused upload is logged and kept too (issue 28)
            body["import_id"] = import_id
        return JSONResponse(scrub_paths(body), status_code=status_of(exc))


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string", "description": "what went wrong, naming the parameter"},
        "errors": {
            "type": "array",
            "items": {"type": "object", "additionalProperties": True},
        },
    },
}
_STANDARD = {
    "400": "Unknown or unusable parameter",
    "401": "A token is required",
    "403": "The token may not do this",
    "404": "No such unit, collection or resource",
    "422": "Malformed parameter",
    "503": "Database unavailable; retry after the given seconds",
}


def install_openapi(app: FastAPI) -> None:
    """Describe our real error shape in /openapi.json, for every operation.

    Why: FastAPI documents 422 as its own ``HTTPValidationError`` and nothing else, while
    every route here can answer 400/404/422/503 with ``{"detail", "errors"}``; clients
    and schemathesis must see what we actually send, and 304 for conditional GETs.
    """
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Error"] = ERROR_SCHEMA
        schemas["HTTPValidationError"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for path_item in schema.get("paths", {}).values():
            for method, op in path_item.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                responses = op["responses"]
                for code, text in _STANDARD.items():
                    responses.setdefault(code, {"description": text})
                    # a page's own error pages (text/html) stay documented beside the JSON
                    kept = {
                        k: v
                        for k, v in responses[code].get("content", {}).items()
                        if k == "text/html"
                    }
                    responses[code]["content"] = {**kept, "application/json": {"schema": ref}}
                if method == "get":
                    responses.setdefault("304", {"description": "Not modified (ETag matched)"})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
