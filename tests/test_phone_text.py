"""Phone text (issue 24): at 390×844 no visible text on the maps, their legend or the unit
panel (scrolled content included) is under 14 px, SVG text measured as drawn."""

from __future__ import annotations

import pytest

from tests.test_map_page import open_page

FLOOR = 14.0
# visible text nodes under the floor: [px, class, text]; SVG text scaled by its transform
SMALL_JS = """([floor, root]) => { const out = [];
 const scope = root ? document.querySelector(root) : document.body;
 const w = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
 for (let n = w.nextNode(); n; n = w.nextNode()) {
  if (!n.textContent.trim()) continue;
  const e = n.parentElement, cs = getComputedStyle(e), r = document.createRange();
  r.selectNodeContents(n); const b = r.getBoundingClientRect();
  if (b.width < 1 || b.height < 1 || cs.visibility === 'hidden') continue;
  const off = b.bottom < 0 || b.top > innerHeight || b.right < 0 || b.left > innerWidth;
  if (!root && off) continue;
  let px = parseFloat(cs.fontSize);
  const svg = e.closest('svg'); if (svg && svg.getScreenCTM()) px *= svg.getScreenCTM().a;
  if (px < floor - 0.01) out.push([Math.round(px * 10) / 10,
    e.getAttribute('class') || e.tagName, n.textContent.trim().slice(0, 40)]); }
 return out; }"""


def small_text(page, root: str | None = None) -> list:
    return page.evaluate(SMALL_JS, [FLOOR, root])


@pytest.mark.parametrize("path", ["/", "/p/79"])
def test_phone_text_is_at_least_14px(browser, live_server, path):
    page, _ = open_page(browser, live_server, path, 390, 844)
    assert small_text(page) == [], "header and map"
    page.click("#ioc-legend-toggle")
    assert page.locator(".ioc-legend").is_visible()
    assert small_text(page) == [], "legend open"
    page.click("#ioc-legend-toggle")
    page.evaluate("IOC.layer.getLayers()[3].fire('click')")
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    page.wait_for_timeout(300)  # the forecast section is filled after the panel opens
    assert small_text(page) == [], "panel open (what is on screen)"
    assert small_text(page, "#ioc-panel") == [], "panel (all of it, scrolled)"
    # a guard on the measure itself: a desktop page does have smaller print
    page.set_viewport_size({"width": 1366, "height": 768})
    assert small_text(page, "#ioc-panel") != []
    page.close()
