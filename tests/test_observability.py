"""Operators see what the service does: request ids, JSON logs, metrics, security headers."""

from __future__ import annotations

import json
import logging


def test_request_id_is_echoed_or_created(client):
    r = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32


def test_security_headers_and_csp_on_pages(client):
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    api = client.get("/api/v1/summary")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in api.headers


def test_metrics_count_requests_per_route_template(client):
    client.get("/api/v1/provinces/40/communes")
    client.get("/api/v1/provinces/96/communes")
    client.get("/api/v1/provinces/96/communes")
    body = client.get("/metrics").text
    line = next(
        ln
        for ln in body.splitlines()
        if ln.startswith("iocmap_http_requests_total{")
        and 'route="/api/v1/provinces/{code}/communes"' in ln
        and 'status="200"' in ln
    )
    assert float(line.rsplit(" ", 1)[1]) >= 3
    assert "/api/v1/provinces/96/communes" not in body  # templates, not raw paths
    assert "iocmap_cache_hit_ratio" in body
    version = next(ln for ln in body.splitlines() if ln.startswith("iocmap_data_version "))
    assert float(version.split()[1]) >= 1
    assert "iocmap_db_pool_checked_out" in body


def test_access_log_is_json_with_request_id(client, caplog):
    logger = logging.getLogger("iocmap.access")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="iocmap.access"):
            client.get("/healthz", headers={"X-Request-ID": "log-me"})
    finally:
        logger.removeHandler(caplog.handler)
    rec = next(r for r in caplog.records if getattr(r, "fields", {}).get("request_id") == "log-me")
    from api.observability import JsonFormatter

    line = json.loads(JsonFormatter().format(rec))
    assert line["route"] == "/healthz" and line["status"] == 200 and "ms" in line
