"""Request ids, structured JSON access logs, Prometheus metrics and security headers.

Why one pure-ASGI middleware: it runs on every request (maps, tiles, GeoJSON), so it must
cost microseconds; BaseHTTPMiddleware would add a task hop per request. Route labels use
the route *template* (``/api/v1/communes/{code}``), never the raw path, so label
cardinality stays bounded whatever clients send.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from api.csp import MAX_BODY, STRICT, policy_for

log = logging.getLogger("iocmap.access")

# Map pages load only what we serve; inline scripts run by their hashes (api/csp.py).
CSP = STRICT
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
]


# credentials a client may put in a query string (we refuse ?token=, but it was logged)
SECRET_QUERY = re.compile(
    r"(?i)((?:^|[?&;])(?:token|access_token|api_key|apikey|key|password|secret)=)[^&;#\s]*"
)
# a notice's reply link is its credential (geo/remind/reply.py): kept out of the logs too
SECRET_PATH = re.compile(r"(/reply/)[^/?#\s\"]+")
_REQUEST_ID = re.compile(r"[^A-Za-z0-9._:-]")


def mask_secrets(path: str) -> str:
    """``/x?token=abc&a=1`` → ``/x?token=***&a=1``, ``/reply/<token>`` → ``/reply/***``:
    what an access log may keep."""
    return SECRET_PATH.sub(r"\1***", SECRET_QUERY.sub(r"\1***", path))


class MaskSecrets(logging.Filter):
    """Mask credentials in uvicorn's (and gunicorn's, through it) access log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], mask_secrets(args[2]), *args[3:])
        elif isinstance(record.msg, str) and "=" in record.msg:
            record.msg = mask_secrets(record.msg)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log shippers (Loki, ELK) ingest without parsing rules."""

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}))
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """JSON logs on stderr for our loggers (idempotent); tokens masked in access logs."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, MaskSecrets) for f in access.filters):
        access.addFilter(MaskSecrets())
    logger = logging.getLogger("iocmap")
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)


class Metrics:
    """The app's Prometheus metrics, in a registry of its own (one per app instance)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "iocmap_http_requests_total",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "iocmap_http_request_duration_seconds",
            "Request latency by route template",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.cache_hits = Gauge("iocmap_cache_hits", "Response cache hits", registry=self.registry)
        self.cache_misses = Gauge(
            "iocmap_cache_misses", "Response cache misses", registry=self.registry
        )
        self.cache_ratio = Gauge(
            "iocmap_cache_hit_ratio", "Response cache hit ratio", registry=self.registry
        )
        self.data_version = Gauge(
            "iocmap_data_version", "Data version last read (-1: none yet)", registry=self.registry
        )
        self.pool_in_use = Gauge(
            "iocmap_db_pool_checked_out", "DB connections in use", registry=self.registry
        )
        self.pool_size = Gauge("iocmap_db_pool_size", "DB pool size", registry=self.registry)
        self.db_jobs = Gauge(
            "iocmap_db_jobs_running", "Builds running on the database lane", registry=self.registry
        )
        self.db_waiting = Gauge(
            "iocmap_db_jobs_waiting", "Requests waiting for a database slot", registry=self.registry
        )

    def render(self, app) -> tuple[bytes, str]:
        """Refresh the gauges read from the app, then the exposition text."""
        cache = getattr(app.state, "cache", None)
        if cache is not None:
            self.cache_hits.set(cache.hits)
            self.cache_misses.set(cache.misses)
            total = cache.hits + cache.misses
            self.cache_ratio.set(cache.hits / total if total else 0.0)
        states = getattr(app.state, "state_cache", None)
        last = getattr(states, "last", None)
        self.data_version.set(last.version if last is not None else -1)
        engine = getattr(app.state, "engine", None)
        if engine is not None and hasattr(engine.pool, "checkedout"):
            self.pool_in_use.set(engine.pool.checkedout())
            self.pool_size.set(engine.pool.size())
        gate = getattr(app.state, "db_gate", None)
        if gate is not None:
            self.db_jobs.set(gate.busy)
            self.db_waiting.set(gate.waiting)
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def route_label(scope: dict) -> str:
    """The full route template of a request (``/api/v1/communes/{code}``), "unmatched"
    when no route matched. Routes of included routers know only their own part of the
    template, so the prefix is recovered from the concrete path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return "unmatched"
    path = scope.get("path", "")
    try:
        concrete = template.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return template
    if path.endswith(concrete):
        return path[: len(path) - len(concrete)] + template
    return template


ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


class ObservabilityMiddleware:
    """Request id in/out, security headers, access log line and metrics per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"")
        # echoed in a header and the log: keep it to safe characters (no CR/LF)
        rid = _REQUEST_ID.sub("", incoming.decode("latin-1"))[:64] or uuid.uuid4().hex
        status = 500
        html = False

        held: dict | None = None  # an HTML response's start, sent once its body is known
        chunks: list[bytes] = []

        async def send_wrapper(message: dict) -> None:
            nonlocal status, html, held
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                content_type = dict(headers).get(b"content-type", b"")
                html = content_type.startswith(b"text/html")
                headers.append((b"x-request-id", rid.encode("latin-1")))
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
                if html:
                    held = message  # the CSP names the body's inline scripts (api/csp.py)
                    return
            elif held is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                size = sum(map(len, chunks))
                if message.get("more_body") and size <= MAX_BODY:
                    return
                await _release(policy_of(held, b"".join(chunks), size), chunks, message)
                return
            await send(message)

        def policy_of(start: dict, body: bytes, size: int) -> str:
            if size > MAX_BODY or not body:
                return STRICT
            headers = dict(start["headers"])
            gz = headers.get(b"content-encoding", b"") == b"gzip"
            return policy_for(body, gz, headers.get(b"etag"))

        async def _release(csp: str, parts: list[bytes], last: dict) -> None:
            nonlocal held
            start, held = held, None
            assert start is not None
            start["headers"].append((b"content-security-policy", csp.encode()))
            await send(start)
            body = b"".join(parts)
            parts.clear()
            await send(
                {"type": "http.response.body", "body": body, "more_body": last.get("more_body")}
            )

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            label = route_label(scope)
            self.metrics.requests.labels(label, scope["method"], str(status)).inc()
            self.metrics.latency.labels(label).observe(elapsed)
            if log.isEnabledFor(logging.INFO):  # building the fields costs more than the check
                log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": rid,
                            "method": scope["method"],
                            "path": mask_secrets(scope["path"]),
                            "route": label,
                            "status": status,
                            "ms": round(elapsed * 1000, 2),
                            "client": (scope.get("client") or ["?"])[0],
                        }
                    },
                )
