"""The OGC collection and items pages as a browser gets them (f=html or Accept: text/html):
a small map of the page's features and an attribute table, our own files only, no inline
script; in a real browser the map draws as many features as the table has rows."""

from __future__ import annotations

import re

from maps.assets_local import asset_version
from tests.test_map_page import Watch, wait_js

ITEMS = "/ogc/collections/communes/items"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _row_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-id="(\d+)"', html)


def test_items_page_has_a_row_per_feature_and_a_strict_csp(client):
    params = {"f": "html", "limit": 7, "province_code": "01", "sortby": "name"}
    r = client.get(ITEMS, params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self';" in r.headers["content-security-policy"]  # no inline script
    body = r.text
    doc = client.get(ITEMS, params={k: v for k, v in params.items() if k != "f"}).json()
    assert _row_ids(body) == [f["id"] for f in doc["features"]]
    assert '<html lang="vi">' in body and "Bảng thuộc tính" in body
    assert "data_reuse_rate" in body  # every queryable is a column, indicators included
    assert re.search(r"Đối tượng 1–7 trong \d+", body)
    assert 'rel="next"' in body and "offset=7" in body
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', body)
    assert assets and all(a.startswith(f"/static/v/{asset_version()}/") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_collection_page_lists_the_properties(client):
    r = client.get("/ogc/collections/communes", params={"f": "html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    queryables = client.get("/ogc/collections/communes/queryables").json()["properties"]
    for name in queryables:
        if name != "geometry":
            assert f"<td>{name}</td>" in r.text, name
    assert "/ogc/collections/communes/items?f=html" in r.text


def test_accept_html_gets_the_page_and_json_stays_json(client):
    for path in ("/ogc/collections/provinces", "/ogc/collections/provinces/items"):
        page = client.get(path, headers={"Accept": BROWSER})
        assert page.headers["content-type"].startswith("text/html"), path
        # the cache keeps the two apart: the next JSON client of the URL gets JSON
        assert "accept" in page.headers["vary"].lower()
        plain = client.get(path, headers={"Accept": "application/json"})
        assert "json" in plain.headers["content-type"], path
        assert "accept" in plain.headers["vary"].lower()  # nginx keeps the two apart too
        assert "json" in client.get(path).headers["content-type"], path
    # GDAL's Accept and an explicit f= are left alone
    r = client.get("/ogc/collections/provinces/items", headers={"Accept": "*/*"})
    assert r.headers["content-type"].startswith("application/geo+json")
    r = client.get("/ogc/collections/provinces?f=json", headers={"Accept": BROWSER})
    assert r.headers["content-type"].startswith("application/json")


def test_items_page_in_a_browser_draws_each_row_and_pages_onwards(browser, live_server, client):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, live_server)
    page.goto(f"{live_server}{ITEMS}?limit=12&province_code=01", wait_until="networkidle")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    rows = page.locator("#ogc-table tbody tr").count()
    assert rows == 12
    drawn = page.evaluate("document.querySelectorAll('#ogc-map path.leaflet-interactive').length")
    assert drawn == 12 and page.get_attribute("#ogc-map", "data-features") == "12"
    first = page.evaluate("[...document.querySelectorAll('#ogc-table tr[data-id]')]"
                          ".map(t => t.dataset.id)")  # fmt: skip
    page.click("a[rel=next]")
    page.wait_for_load_state("networkidle")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    assert "offset=12" in page.url
    second = page.evaluate("[...document.querySelectorAll('#ogc-table tr[data-id]')]"
                           ".map(t => t.dataset.id)")  # fmt: skip
    assert len(second) == 12 and not set(first) & set(second)
    assert page.get_attribute("#ogc-map", "data-features") == "12"
    # a click on a feature marks its row
    page.locator("#ogc-map path.leaflet-interactive").first.click(force=True)
    assert page.locator("#ogc-table tr.hit").count() == 1
    # onwards to one item: its page draws it
    code = second[0]
    page.click(f"#ogc-table tr[data-id='{code}'] a")
    page.wait_for_load_state("networkidle")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    assert page.url.endswith(f"/items/{code}?f=html")
    assert page.get_attribute("#ogc-map", "data-features") == "1"
    assert page.locator("#ogc-map path.leaflet-interactive").count() >= 1
    # and to the collection page: its extent on the map
    page.click("nav.kicker a:nth-of-type(3)")
    page.wait_for_load_state("networkidle")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    assert page.url.endswith("/ogc/collections/communes?f=html")
    assert page.locator("#ogc-map path").count() >= 1
    assert watch.errors == [] and watch.foreign == []
    page.close()


def test_item_page_shows_the_feature_and_its_links(client):
    r = client.get("/ogc/collections/provinces/items/01", params={"f": "html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert _row_ids(r.text) == ["01"]
    assert "Hà Nội" in r.text and "suggested CRS" in r.text
    assert '"geojson":"/ogc/collections/provinces/items/01"' in r.text
    assert (
        client.get("/ogc/collections/provinces/items/99", params={"f": "html"}).status_code == 404
    )
