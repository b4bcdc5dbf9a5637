"""The wall's "sẽ trễ hạn" view in a real browser: reached by the playlist and by the arrow
keys, it lists the provinces forecast to miss their deadline worst first — a province
built by the test to miss badly before one that misses by less — colours the map by
forecast class with its legend, and follows a new import in place (no reload)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo.ingest.store import bump_version, insert_tasks
from maps import forecast_map, theme
from tests.test_map_page import ARTIFACTS, wait_js
from tests.test_pages_layout import WALL_BLOCKS, WALL_IN_MAP, assert_inside_and_apart, min_text_px
from tests.test_wall import _free_port, _serve, _stop, open_wall

JULY, DEC = dt.date(2025, 7, 1), dt.date(2025, 12, 31)


def _open_nq57(code: str, n: int, tag: str) -> pd.DataFrame:
    """n NQ57 tasks of province ``code`` due 31 Dec, recorded in July, none done."""
    return pd.DataFrame(
        [
            {
                "external_id": f"T26W-{tag}-{code}-{i:03d}",
                "program": "NQ57",
                "group_no": None,
                "phase": None,
                "year": 2025,
                "title": f"Nhiệm vụ thử trễ hạn {i}",
                "unit_code": code,
                "lead_agency": None,
                "start_date": JULY,
                "deadline": DEC,
                "completed_at": None,
                "recorded_at": JULY,
            }
            for i in range(n)
        ]
    )


def _listed(page) -> list[str]:
    return page.evaluate(
        "[...document.querySelectorAll('#rank-top li:not([hidden])')].map(li => li.dataset.code)"
    )


def test_will_miss_view_lists_the_worst_first_by_keys_and_stays_fresh(
    browser, scratch, scratch_url
):
    worst, less = "01", "79"  # Hà Nội and TP Hồ Chí Minh, made to miss by the test
    with scratch.begin() as conn:
        insert_tasks(conn, _open_nq57(worst, 300, "a"), actor="test", source="test")
        insert_tasks(conn, _open_nq57(less, 150, "a"), actor="test", source="test")
        bump_version(conn, None, "test_forecast_wall")
    with TestClient(create_app(Settings(database_url=scratch_url))) as api:
        units = api.get("/api/v1/forecast", params={"level": "province"}).json()["units"]
    will = forecast_map.worst_first([u for u in units if u["class"] == "will_miss"])
    order = [u["code"] for u in will]
    assert order[:2] == [worst, less], order[:5]
    port = _free_port()
    server, thread = _serve(scratch_url, port)
    origin = f"http://127.0.0.1:{port}"
    try:
        page, watch = open_wall(browser, origin, "views=national,will_miss&refresh=1&dwell=0")
        assert page.locator('#wall-views li[data-view="will_miss"]').inner_text() == "Sẽ trễ hạn"
        page.keyboard.press("ArrowRight")  # the next view, by key
        page.wait_for_selector('#wall-views li.active[data-view="will_miss"]', timeout=4000)
        assert page.inner_text("#wall-view-label") == "Sẽ trễ hạn"
        legend = page.locator('.legend-slot[data-measure="forecast"]')
        assert legend.is_visible()
        text = legend.inner_text()
        for words in ("Kịp hạn", "Có nguy cơ trễ", "Không kịp", "Đã xong", "Chưa đủ lịch sử"):
            assert words in text, words
        wait_js(page, f"document.querySelector('#rank-top li[data-code=\"{worst}\"]')")
        listed = _listed(page)
        assert listed == order[: len(listed)] and listed.index(worst) < listed.index(less)
        assert "Sẽ trễ hạn" in page.text_content("#rank-top-title")
        row = page.locator(f'#rank-top li[data-code="{worst}"]')
        u = next(x for x in will if x["code"] == worst)
        pace, needed = (theme.fmt_number(u[k], 2) for k in ("pace_per_week", "needed_per_week"))
        assert row.locator(".v").inner_text() == f"{pace} / {needed}"
        assert row.get_attribute("data-state") == "will_miss"
        # the map: each province in its forecast class's colour
        colour = theme.FORECAST["will_miss"]
        wait_js(page, f"document.querySelector('path[data-code=\"{worst}\"]')"
                      f".getAttribute('fill') === '{colour}'")  # fmt: skip
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "wall-will-miss.png"))
        # an import makes the second much later: the list follows within a refresh, in place
        cycles = page.evaluate("IOC.wall.cycles")
        with scratch.begin() as conn:
            insert_tasks(conn, _open_nq57(less, 400, "b"), actor="test", source="test")
            bump_version(conn, None, "test_forecast_wall")
        first = "document.querySelector('#rank-top li').dataset.code"
        wait_js(page, f"IOC.wall.cycles > {cycles} && {first} === '{less}'", 20)
        assert _listed(page)[:2] == [less, worst]
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        page.keyboard.press("ArrowLeft")  # and back
        page.wait_for_selector('#wall-views li.active[data-view="national"]', timeout=4000)
        assert watch.errors == [] and watch.foreign == []
        page.close()
    finally:
        _stop(server, thread)


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1920, 1080)])
def test_will_miss_view_fits_a_phone_and_reads_across_a_room(browser, live_server, width, height):
    page, watch = open_wall(
        browser, live_server, "views=will_miss&refresh=5&dwell=0", width, height
    )
    wait_js(page, "document.querySelector('#rank-top li:not([hidden])')")
    name = f"wall_will_miss_{width}x{height}"
    assert_inside_and_apart(page, WALL_BLOCKS, name)
    assert_inside_and_apart(page, WALL_IN_MAP, name + " map overlays")
    assert page.locator('.legend-slot[data-measure="forecast"]').is_visible()
    cut = page.evaluate(
        "[...document.querySelectorAll('.rank .v')].filter(e => e.offsetParent"
        " && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"
    )
    assert cut == [], cut
    if width >= 1920:
        smallest = min_text_px(page)
        assert smallest[0] >= 22 * 0.95, f"text of {smallest[0]} px: {smallest[1]!r}"
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    assert watch.errors == []
    page.close()
