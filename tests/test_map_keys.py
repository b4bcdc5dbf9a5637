"""The map driven by keys, as a keyboard user tries it: search opens the unit chosen, on
its page, with focus in its panel; ArrowDown starts at the first result; Escape closes the
panel from anywhere in it; arrow keys move to the neighbouring unit."""

from __future__ import annotations

from tests.test_map_page import open_page, wait_js


def _tab_to(page, selector: str, limit: int = 15) -> int:
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector('{selector}')"):
            return n
    raise AssertionError(f"{selector} not reached in {limit} Tabs")


def _panel_code(page) -> str:
    wait_js(page, "document.querySelector('#ioc-panel').dataset.state === 'ready'", 20)
    return page.evaluate("document.querySelector('#ioc-panel').dataset.code")


def test_search_by_keys_opens_the_chosen_unit_with_focus_in_its_panel(browser, live_server):
    page, watch = open_page(browser, live_server, "/p/68")
    _tab_to(page, "#ioc-search")
    page.keyboard.type("ta hine", delay=30)
    page.keyboard.press("ArrowDown")  # the first result, not the second
    first = "document.querySelector('#ioc-search').getAttribute('aria-activedescendant')"
    wait_js(page, f"{first} === 'ioc-opt-0'")
    page.keyboard.press("Enter")
    assert _panel_code(page) == "24991"  # Tà Hine (Lâm Đồng), not Tà Hộc (Sơn La)
    assert page.evaluate("location.pathname") == "/p/68"
    assert page.evaluate("document.querySelector('#ioc-panel').contains(document.activeElement)")
    page.keyboard.press("Escape")
    wait_js(page, "document.querySelector('#ioc-panel').hidden")
    assert watch.errors == []
    page.close()


def test_enter_right_after_typing_takes_the_best_match_of_what_was_typed(browser, live_server):
    page, _ = open_page(browser, live_server, "/p/68")
    page.focus("#ioc-search")
    page.keyboard.type("ta hine")
    page.keyboard.press("Enter")  # before the debounced search has answered
    assert _panel_code(page) == "24991"
    page.close()


def test_a_unit_of_another_province_opens_on_its_page_with_focus_in_its_panel(browser, live_server):
    page, _ = open_page(browser, live_server, "/p/40")
    page.focus("#ioc-search")
    page.keyboard.type("ta hine")
    page.keyboard.press("Enter")
    page.wait_for_url("**/p/68#u=24991")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'", 20)
    assert _panel_code(page) == "24991"
    assert page.evaluate("document.querySelector('#ioc-panel').contains(document.activeElement)")
    page.keyboard.press("Escape")
    wait_js(page, "document.querySelector('#ioc-panel').hidden")
    page.close()


def test_arrow_keys_move_to_the_neighbouring_unit(browser, live_server):
    page, _ = open_page(browser, live_server, "/p/68")
    page.focus("#ioc-search")
    page.keyboard.type("ta hine")
    page.keyboard.press("Enter")
    start = _panel_code(page)
    centre = "c => { const b = IOC._bounds(c); return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]; }"
    before = page.evaluate(f"({centre})('{start}')")
    page.keyboard.press("ArrowRight")
    wait_js(page, f"document.querySelector('#ioc-panel').dataset.code !== '{start}'")
    east = _panel_code(page)
    after = page.evaluate(f"({centre})('{east}')")
    assert after[0] > before[0]  # further east
    page.keyboard.press("ArrowLeft")
    wait_js(page, f"document.querySelector('#ioc-panel').dataset.code !== '{east}'")
    assert (
        page.evaluate(f"({centre})(document.querySelector('#ioc-panel').dataset.code)")[0]
        < after[0]
    )
    page.close()
