"""OpenAPI with examples, and a docs page that works with no network."""

from __future__ import annotations

import re


def test_openapi_has_every_endpoint_and_examples(client):
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/provinces", "/api/v1/communes", "/api/v1/communes/{code}",
                 "/api/v1/units/{code}/tasks", "/api/v1/units/{code}/history",
                 "/api/v1/rankings", "/api/v1/indicators", "/api/v1/search",
                 "/api/v1/download/{layer}.{fmt}", "/ogc/collections/{collectionId}/items",
                 "/tiles/{layer}/{z}/{x}/{y}.mvt"):  # fmt: skip
        assert path in spec["paths"], path
    params = {p["name"]: p for p in spec["paths"]["/api/v1/communes"]["get"]["parameters"]}
    assert params["fields"]["examples"]["styling"]["value"] == "code,completion_pct"
    assert params["province"]["examples"]


def test_docs_page_loads_only_our_assets(client):
    html = client.get("/docs").text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)""", html) + re.findall(r"url: '([^']+)'", html)
    assert urls and all(u.startswith("/") for u in urls), urls
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/redoc").status_code == 200


def test_swagger_renders_offline_in_chromium(live_server, browser):
    page = browser.new_page()
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(f"{live_server}/docs")
    page.wait_for_selector(".opblock", timeout=20000)
    assert "/api/v1/communes" in page.content()
    assert page.locator(".opblock").count() > 10
    assert outside == []
    page.close()
