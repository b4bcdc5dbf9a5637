"""The interactive map pages in a real browser: they draw what the API says, offline,
and the click panel, keyboard, search and URL state work as a user would try them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
AS_OF = "13/11/2025"


def wait_js(page, expr: str, timeout: float = 10.0, arg=None) -> None:
    """Poll a JS expression until truthy (page.evaluate is exempt from the pages' CSP,
    which forbids the eval that wait_for_function's string predicates need)."""
    deadline = time.monotonic() + timeout
    while not _true(page, expr):
        assert time.monotonic() < deadline, f"timed out waiting for: {expr}"
        page.wait_for_timeout(50)


def _true(page, expr: str) -> bool:
    """The expression's truth; false while a navigation replaces the document (a click on a
    link may leave the old document half torn down when the poll runs)."""
    try:
        return bool(page.evaluate(f"() => Boolean({expr})"))
    except PlaywrightError as exc:
        if "Execution context was destroyed" in str(exc) or "of null" in str(exc):
            return False
        raise


class Watch:
    """Console errors and any request that leaves the app's origin."""

    def __init__(self, page, origin: str) -> None:
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "request",
            lambda r: (
                self.foreign.append(r.url)
                if not r.url.startswith((origin + "/", "data:", "blob:"))
                else None
            ),
        )


def open_page(browser, live_server, path, width=1600, height=1000):
    page = browser.new_page(viewport={"width": width, "height": height})
    watch = Watch(page, live_server)
    page.goto(live_server + path, wait_until="networkidle")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    return page, watch


def shapes(page) -> int:
    return page.locator("path.leaflet-interactive").count()


def test_national_map_draws_34_provinces_offline(browser, live_server, client):
    page, watch = open_page(browser, live_server, "/")
    api = client.get("/api/v1/provinces").json()
    assert shapes(page) == len(api["features"]) == 34
    assert watch.errors == [] and watch.foreign == []
    legend = page.locator(".ioc-legend").inner_text()
    assert "Tỷ lệ hoàn thành" in legend and "Không có dữ liệu" in legend
    assert "phân vị" in legend  # the classing method is stated
    # the basis is stated once, in the header: programme, year, as-of
    basis = page.inner_text("#ioc-basis")
    assert "NQ57" in basis and "2025" in basis and AS_OF in basis
    assert page.locator(f"text={AS_OF}").count() == 1
    assert "56,97" in page.locator(".brand").inner_text()  # Vietnamese number format
    # metric scale bar only (no miles)
    scale = page.inner_text(".leaflet-control-scale")
    assert re.search(r"\d+ k?m", scale) and "mi" not in scale and "ft" not in scale
    assert page.locator("html").get_attribute("lang") == "vi"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "national.png"))
    page.close()


def test_province_page_draws_every_commune_the_api_has(browser, live_server, client):
    page, watch = open_page(browser, live_server, "/p/40")
    api = client.get("/api/v1/communes", params={"province": "40"}).json()
    assert shapes(page) == len(api["features"]) == 130
    assert watch.errors == [] and watch.foreign == []
    assert "Nghệ An" in page.locator("h1").inner_text()
    assert "130/130" in page.locator(".brand").inner_text()
    page.screenshot(path=str(ARTIFACTS / "province_40.png"))
    page.close()


@pytest.fixture(scope="module")
def overdue_commune(client) -> dict:
    """A commune with overdue tasks (the panel then shows every status cue)."""
    fc = client.get(
        "/api/v1/communes", params={"status": "overdue", "fields": "code,province_code"}
    ).json()
    return fc["features"][0]["properties"]


def test_click_opens_panel_with_the_tasks_the_api_returns(
    browser, live_server, client, overdue_commune
):
    code, province = overdue_commune["code"], overdue_commune["province_code"]
    page, watch = open_page(browser, live_server, f"/p/{province}")
    page.click(f'path[data-code="{code}"]')
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    tasks = client.get(f"/api/v1/units/{code}/tasks", params={"limit": 500}).json()["tasks"]
    shown = page.eval_on_selector_all("#ioc-panel tr.task", "rs => rs.map(r => r.dataset.taskId)")
    assert sorted(shown) == sorted(str(t["id"]) for t in tasks)
    detail = client.get(f"/api/v1/communes/{code}").json()["properties"]
    text = page.locator("#ioc-panel").text_content()
    assert detail["name"] in text and detail["province"]["name"] in text
    overdue = [t for t in tasks if t["status"] == "overdue"]
    assert overdue and "Quá hạn" in text
    # the second cue: an icon next to the colour, and days overdue in words
    assert page.locator("#ioc-panel .st-overdue svg").count() >= len(overdue)
    assert f"{overdue[0]['days_overdue']} ngày" in text or "ngày" in text
    # indicators with rank and change
    assert page.locator("#ioc-panel tr[data-indicator]").count() == len(detail["indicators"])
    assert page.evaluate("location.hash") == f"#u={code}"
    href = page.get_attribute("#ioc-download", "href")
    assert f"code={code}" in href
    dl = client.get(href.replace(live_server, ""))
    assert dl.status_code == 200 and dl.json()["features"][0]["properties"]["code"] == code
    assert watch.errors == [] and watch.foreign == []
    page.screenshot(path=str(ARTIFACTS / "province_panel.png"))
    page.close()


def tab_until(page, selector: str, limit: int = 40) -> list[str]:
    """Press the real Tab key until the focused element matches selector; the trail of
    what got focus on the way (tag#id or data-code)."""
    trail: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "() => { const e = document.activeElement; return e.id ? '#' + e.id :"
            " (e.dataset && e.dataset.code ? 'code:' + e.dataset.code : e.tagName) }"
        )
        trail.append(here)
        if page.evaluate(f"() => document.activeElement.matches({selector!r})"):
            return trail
    raise AssertionError(f"Tab never reached {selector}: {trail}")


@pytest.mark.parametrize("path", ["/", "/p/40"])
def test_keyboard_reaches_polygons_with_tab_and_enter_opens_the_panel(browser, live_server, path):
    page, watch = open_page(browser, live_server, path, 1366, 768)
    trail = tab_until(page, "path.leaflet-interactive")
    # every control before the map is on the way
    assert {"#ioc-search", "#ioc-measure", "#ioc-lang"} <= set(trail), trail
    first = page.evaluate("document.activeElement.dataset.code")
    page.wait_for_timeout(300)  # focus must stay put (no DOM move blurring it)
    assert page.evaluate("document.activeElement.dataset.code") == first
    page.keyboard.press("Tab")
    second = page.evaluate("document.activeElement.dataset.code")
    assert second and second != first  # the next polygon, not <body>
    page.keyboard.press("Enter")
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    assert page.evaluate("document.activeElement.id") == "ioc-panel-title"
    assert page.evaluate("location.hash") == f"#u={second}"
    page.keyboard.press("Escape")
    assert page.locator("#ioc-panel").is_hidden()
    assert page.evaluate("document.activeElement.dataset.code") == second
    assert page.evaluate("location.hash") == ""
    assert watch.errors == []
    page.close()


def test_open_panel_hides_no_commune(browser, live_server):
    """With the panel open on /p/40 every commune can still be clicked (the map moves
    beside the panel instead of under it)."""
    page, _ = open_page(browser, live_server, "/p/40", 1366, 768)
    codes = page.evaluate("IOC.layer.getLayers().map(l => l.feature.properties.code)")
    page.click(f'path[data-code="{codes[0]}"]')
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    covered = page.evaluate(
        """() => IOC.layer.getLayers().filter(l => {
             const p = IOC.map.latLngToContainerPoint(l.getCenter());
             const r = IOC.map.getContainer().getBoundingClientRect();
             const e = document.elementFromPoint(r.left + p.x, r.top + p.y);
             return !e || e.closest('.ioc-panel, .ioc-toolbar, .legend-wrap, .leaflet-control')
               || p.x < 0 || p.y < 0 || p.x > r.width || p.y > r.height;
           }).map(l => l.feature.properties.code)"""
    )
    assert covered == [], covered
    for code in codes[1:13]:  # the first 12 communes, clicked one after another
        page.click(f'path[data-code="{code}"]')
        wait_js(page, f"document.querySelector('#ioc-panel').dataset.code === '{code}'")
    page.close()


def test_api_error_shows_a_friendly_message_in_the_panel(browser, live_server, overdue_commune):
    code, province = overdue_commune["code"], overdue_commune["province_code"]
    page, _ = open_page(browser, live_server, f"/p/{province}")
    page.route("**/api/v1/communes/*", lambda route: route.fulfill(status=500, body="boom"))
    page.click(f'path[data-code="{code}"]')
    page.wait_for_selector('#ioc-panel[data-state="error"]')
    alert = page.locator("#ioc-panel [role=alert]").inner_text()
    assert "Không tải được dữ liệu" in alert and "boom" not in alert and "500" not in alert
    page.unroute("**/api/v1/communes/*")
    page.click("#ioc-retry")
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    page.close()


def test_search_without_diacritics_drills_down(browser, live_server):
    page, _ = open_page(browser, live_server, "/")
    page.fill("#ioc-search", "dak lak")
    page.wait_for_selector("#ioc-search-list li[role=option]:not(.empty)")
    assert "Đắk Lắk" in page.locator("#ioc-search-list").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    assert page.evaluate("location.hash") == "#u=66"
    # drill down: province → its commune map
    page.click("#ioc-drill")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    assert page.evaluate("location.pathname") == "/p/66"
    page.fill("#ioc-search", "ca mau")
    page.wait_for_selector("#ioc-search-list li[role=option]:not(.empty)")
    assert "Cà Mau" in page.locator("#ioc-search-list").inner_text()
    page.close()


def test_url_keeps_measure_period_and_selected_unit(browser, live_server, client):
    code = client.get("/api/v1/communes", params={"province": "40", "fields": "code"}).json()[
        "features"
    ][5]["id"]
    page, watch = open_page(
        browser, live_server, f"/p/40?measure=online_rate&period=2025-Q2#u={code}"
    )
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    assert page.input_value("#ioc-measure") == "online_rate"
    assert page.input_value("#ioc-period") == "2025-Q2"
    legend = page.locator(".ioc-legend").inner_text()
    assert "Tỷ lệ hồ sơ trực tuyến" in legend and "2025-Q2" in legend
    # a measure change navigates with the rest of the state kept
    page.select_option("#ioc-measure", "tasks_overdue")
    page.wait_for_url(re.compile(r"measure=tasks_overdue"))
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    assert "period" not in page.url and page.url.endswith(f"#u={code}")
    # Nghệ An has no overdue task: one class, said so, not a Fisher–Jenks legend of one row
    assert "Một lớp" in page.locator(".ioc-legend").inner_text()
    assert watch.errors == []
    page.close()


def test_english_toggle_and_no_data_hatch(browser, live_server):
    page, _ = open_page(browser, live_server, "/?year=2024")
    hatched = page.locator('path.leaflet-interactive[fill="url(#ioc-hatch)"]').count()
    assert 0 < hatched < 34  # provinces with no task due in 2024: hatched, not a class colour
    assert page.locator("pattern#ioc-hatch").count() == 1
    page.click("#ioc-lang")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "No data" in page.locator(".ioc-legend").inner_text()
    assert "year=2024" in page.url
    page.close()


@pytest.mark.parametrize("path", ["/", "/p/40", "/p/40?measure=dti", "/wall"])
def test_html_has_no_external_references(client, path):
    r = client.get(path.replace("?measure=dti", "?measure=online_rate"))
    assert r.status_code == 200
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", r.text)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", r.text)
    for ref in set(re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", r.text)):
        assert client.get(ref).status_code == 200, ref


def test_bad_page_parameters_are_clear_errors(client):
    r = client.get("/?measure=bogus")
    assert r.status_code == 400 and r.json()["errors"][0]["param"] == "measure"
    r = client.get("/p/40?measure=dti")  # a province-only indicator on a commune map
    assert r.status_code == 400 and "allowed" in r.json()["detail"]
    assert client.get("/?measure=dti&period=1999-Q1").json()["errors"][0]["param"] == "period"
    assert client.get("/p/99").status_code == 404
    assert client.get("/?zoom=3").status_code == 400
    assert client.get("/wall?views=national,bogus").json()["errors"][0]["param"] == "views"
    assert client.get("/?lang=fr").status_code == 422


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/?measure=bogus", 400, "measure"),
        ("/p/99", 404, "99"),
        ("/?lang=fr", 422, "lang"),
        ("/wall?views=national,bogus", 400, "views"),
        ("/?zoom=3", 400, "zoom"),
    ],
)
def test_bad_page_parameter_shows_a_page_not_json(browser, live_server, path, status, words):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    response = page.goto(live_server + path)
    assert response.status == status
    assert response.headers["content-type"].startswith("text/html")
    assert "Không mở được trang này" in page.inner_text("h1")
    assert words in page.inner_text(".error-msg") + page.inner_text("main")
    assert not page.inner_text("body").lstrip().startswith("{")  # no raw JSON
    page.click("text=Về bản đồ toàn quốc")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'")
    page.close()
