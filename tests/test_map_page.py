"""The national map in a real browser: it draws, it is offline, it says what it shows."""

from __future__ import annotations

import re
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def test_national_map_draws_34_provinces_offline(browser, live_server, client):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            foreign.append(r.url)
            if not r.url.startswith(live_server) and not r.url.startswith("data:")
            else None
        ),
    )
    page.goto(live_server + "/", wait_until="networkidle")
    shapes = page.locator("path.leaflet-interactive").count()
    api_count = len(client.get("/api/v1/provinces").json()["features"])
    assert shapes == api_count == 34
    assert errors == []
    assert foreign == []
    legend = page.locator(".ioc-legend").inner_text()
    assert "13/11/2025" in legend and "Không có dữ liệu" in legend
    assert "56,97" in page.locator(".ioc-title").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "national.png"))
    page.close()


def test_map_html_has_no_external_references(client):
    html = client.get("/").text
    assert not re.search(r"""(src|href)=["']https?://""", html)
