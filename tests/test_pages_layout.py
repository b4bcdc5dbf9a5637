"""The pages as people see them, from a 390 px phone to a 4K wall: nothing outside the
viewport, nothing on top of something else, values not cut, wall text big enough to read
across a room. Screenshots land in artifacts/ (look at them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_map_page import open_page, wait_js
from tests.test_wall import open_wall

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
ARTIFACTS.mkdir(exist_ok=True)
VIEWPORTS = [(390, 844), (1366, 768), (1920, 1080), (3840, 2160)]
MAP_CHROME = [
    ".brand",
    ".controls",
    "#ioc-controls-toggle",
    "#ioc-lang",
    "#ioc-legend-toggle",
    ".legend-wrap",
    ".leaflet-control-zoom",
    ".leaflet-control-scale",
    "#ioc-panel",
]
# The grid's blocks; a card drawn over the map (the trend card) is checked with the other
# overlays of the map instead: inside the viewport, apart from the legend and the inset.
WALL_BLOCKS = [
    ".wall-head", ".wall-kpis .kpi", ".wall-map", ".wall-card:not(.map-overlay)", ".wall-foot"
]  # fmt: skip
WALL_IN_MAP = [".legend-slot:not([hidden])", "#wall-inset:not([hidden])", ".map-overlay"]

BOXES_JS = """(sels) => sels.flatMap(sel => Array.from(document.querySelectorAll(sel))
  .filter(e => { const r = e.getBoundingClientRect(); const cs = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none'; })
  .map((e, i) => { const r = e.getBoundingClientRect();
    return {name: sel + '#' + i, x: r.left, y: r.top, r: r.right, b: r.bottom}; }))"""


def boxes(page, selectors: list[str]) -> list[dict]:
    return page.evaluate(BOXES_JS, selectors)


def assert_inside_and_apart(page, selectors: list[str], where: str) -> list[dict]:
    """Every visible box inside the viewport; no two boxes overlapping."""
    w, h = page.viewport_size["width"], page.viewport_size["height"]
    found = boxes(page, selectors)
    outside = [
        b for b in found if b["x"] < -0.5 or b["y"] < -0.5 or b["r"] > w + 0.5 or b["b"] > h + 0.5
    ]
    assert outside == [], f"{where}: outside the {w}×{h} viewport: {outside}"
    overlaps = []
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            dx = min(a["r"], b["r"]) - max(a["x"], b["x"])
            dy = min(a["b"], b["b"]) - max(a["y"], b["y"])
            if dx > 1 and dy > 1:
                overlaps.append((a["name"], b["name"], round(dx), round(dy)))
    assert overlaps == [], f"{where}: overlapping: {overlaps}"
    size = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert size[0] <= w and size[1] <= h, f"{where}: page scrolls: {size}"
    return found


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
@pytest.mark.parametrize("path", ["/", "/p/40"])
def test_map_pages_fit_every_screen(browser, live_server, path, width, height):
    page, watch = open_page(browser, live_server, path, width, height)
    name = f"{'national' if path == '/' else 'province_40'}_{width}x{height}"
    found = assert_inside_and_apart(page, MAP_CHROME, name)
    names = {b["name"].rsplit("#", 1)[0] for b in found}
    assert "#ioc-lang" in names  # the language toggle is on screen on every size
    phone = width < 700
    if phone:
        # one bar: title, a search/measure toggle and the language; legend behind a toggle
        assert ".controls" not in names and ".legend-wrap" not in names
        bar = page.locator("#ioc-toolbar").bounding_box()
        assert bar["width"] == width and bar["height"] < 0.2 * height
        assert page.locator(".brand").bounding_box()["width"] > 0.55 * width
        page.keyboard.press("Tab")  # skip link
        page.keyboard.press("Tab")
        if path != "/":
            page.keyboard.press("Tab")  # the breadcrumb link
        assert page.evaluate("document.activeElement.id") == "ioc-headline"  # its tasks
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "ioc-controls-toggle"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "ioc-search"
        assert_inside_and_apart(page, MAP_CHROME, name + " controls open")
        page.keyboard.press("Escape")
        page.click("#ioc-legend-toggle")
        assert page.locator(".ioc-legend").is_visible()
        assert_inside_and_apart(page, MAP_CHROME, name + " legend open")
        page.click("#ioc-legend-toggle")
    else:
        assert {".brand", ".controls", ".legend-wrap"} <= names
    page.screenshot(path=str(ARTIFACTS / f"{name}.jpg"), type="jpeg", quality=85)
    # the panel: beside the map on a screen, a bottom sheet on a phone
    page.evaluate("IOC.layer.getLayers()[3].fire('click')")
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    found = assert_inside_and_apart(page, MAP_CHROME, name + " panel open")
    panel = page.locator("#ioc-panel").bounding_box()
    if phone:
        assert panel["width"] == width and panel["y"] > 0.4 * height  # bottom sheet
    else:
        assert panel["x"] > width / 2  # a side panel on the right
    page.screenshot(path=str(ARTIFACTS / f"{name}_panel.jpg"), type="jpeg", quality=85)
    assert watch.errors == []
    page.close()


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_wall_fits_every_screen_and_reads_across_a_room(browser, live_server, width, height):
    page, watch = open_wall(
        browser, live_server, "views=national,south&refresh=5&dwell=0", width, height
    )
    name = f"wall_{width}x{height}"
    assert_inside_and_apart(page, WALL_BLOCKS, name)
    assert_inside_and_apart(page, WALL_IN_MAP, name + " map overlays")
    head = [".wall-brand", ".wall-status"]
    assert_inside_and_apart(page, head, name + " header")
    # values are never cut ("3.43" for 3.430)
    cut = page.evaluate(
        """() => Array.from(document.querySelectorAll('.wall-kpis .v, .rank .v, .alerts .d b'))
             .filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1)
             .map(e => e.id || e.textContent)"""
    )
    assert cut == [], cut
    # the alert rail shows whole alerts only, and counts the rest
    rail = page.evaluate(
        """() => { const ul = document.querySelector('#wall-alerts').getBoundingClientRect();
          const lis = Array.from(document.querySelectorAll('#wall-alerts li:not([hidden])'));
          return {shown: lis.length, cut: lis.filter(li => li.getBoundingClientRect().bottom
                    > ul.bottom + 0.5).length, more: IOC.wall.alertsMore,
                  moreText: document.querySelector('#wall-alerts-more').textContent,
                  total: (IOC.wall.overdueAll || []).length}; }"""
    )
    assert rail["cut"] == 0 and rail["shown"] >= 1, rail
    if rail["total"] > rail["shown"]:
        assert rail["more"] == rail["total"] - rail["shown"], rail
        assert rail["moreText"].startswith(f"+{rail['more']}"), rail
    if width >= 1920:
        smallest = min_text_px(page)
        floor = 22 * width / 1920 * 0.95  # 22 px at 1080p, scaled on a 4K wall
        assert smallest[0] >= floor, f"text of {smallest[0]} px: {smallest[1]!r}"
    page.screenshot(path=str(ARTIFACTS / f"{name}.jpg"), type="jpeg", quality=85)
    assert watch.errors == []
    page.close()


def min_text_px(page) -> tuple[float, str]:
    """The smallest computed font size of any visible text on the wall, and that text."""
    return tuple(
        page.evaluate(
            """() => {
          let best = [1e9, ''];
          const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walk.nextNode()) {
            const t = walk.currentNode; const e = t.parentElement;
            if (!t.textContent.trim() || !e || e.closest('script, style, .sr-only, svg')) continue;
            const r = e.getBoundingClientRect();
            if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
            if (e.closest('[hidden]')) continue;
            const px = parseFloat(getComputedStyle(e).fontSize);
            if (px < best[0]) best = [px, t.textContent.trim().slice(0, 40)];
          }
          return best; }"""
        )
    )


def test_wall_regional_view_labels_its_provinces_and_ranks_its_own(browser, live_server, client):
    page, _ = open_wall(browser, live_server, "views=south,national&refresh=5&dwell=0", 1920, 1080)
    summary = client.get("/api/v1/summary").json()
    south = {p["code"] for p in summary["provinces"] if p["code"] >= "69"}
    labels = page.eval_on_selector_all(
        ".leaflet-tooltip.wall-label",
        "ls => ls.map(l => [l.textContent, getComputedStyle(l).visibility,"
        " l.getBoundingClientRect().toJSON()])",
    )
    names = {p["name"] for p in summary["provinces"] if p["code"] in south}
    assert {t for t, _, _ in labels} == names  # every southern province has a label, no other
    shown = [r for _, vis, r in labels if vis == "visible"]
    assert len(shown) >= 0.7 * len(names)  # most are shown; none printed over another
    for i, a in enumerate(shown):
        for b in shown[i + 1 :]:
            assert not (
                a["left"] < b["right"]
                and a["right"] > b["left"]
                and a["top"] < b["bottom"]
                and a["bottom"] > b["top"]
            ), (a, b)
    ranked = page.eval_on_selector_all(
        "#rank-top li:not([hidden]), #rank-bottom li:not([hidden])",
        "ls => ls.map(l => l.dataset.code)",
    )
    assert ranked and set(ranked) <= south
    best = max(
        (p for p in summary["provinces"] if p["code"] in south), key=lambda p: p["completion_pct"]
    )
    assert ranked[0] == best["code"]
    # the legend does not cover the delta: no southern province under it
    hidden = page.evaluate(
        """() => {
          const leg = document.querySelector('.legend-slot:not([hidden])')
            .getBoundingClientRect();
          const r = IOC.wallMap.getContainer().getBoundingClientRect(); const out = [];
          IOC.wallMap.eachLayer(l => { if (!l.feature || !l.getCenter) return;
            const p = IOC.wallMap.latLngToContainerPoint(l.getCenter());
            const x = r.left + p.x, y = r.top + p.y, code = l.feature.properties.code;
            const under = x > leg.left && x < leg.right && y > leg.top && y < leg.bottom;
            if (under && code >= '69') out.push(code); });
          return out; }"""
    )
    assert hidden == []
    assert page.locator("#wall-inset").is_hidden()  # the islands are not in this view
    page.close()


def test_wall_national_view_shows_the_islands_in_a_labelled_inset(browser, live_server):
    page, _ = open_wall(browser, live_server, "views=national&refresh=5&dwell=0", 1920, 1080)
    # one inset per archipelago, fitted to its islands: drawn at a readable scale, not a
    # speck in empty sea (nor a strip of the mainland at the edge)
    for sel, name in (("#wall-inset", "Hoàng Sa"), ("#wall-inset-2", "Trường Sa")):
        inset = page.locator(sel)
        assert inset.is_visible() and name in inset.inner_text()
        share = page.evaluate(
            """sel => { const box = document.querySelector(sel).getBoundingClientRect();
              const paths = [...document.querySelectorAll(sel + ' path')];
              const widths = paths.map(p => p.getBoundingClientRect().width);
              return {n: paths.length, w: Math.max(0, ...widths) / box.width}; }""",
            sel,
        )
        assert share["n"] >= 1 and share["w"] >= 0.05, (sel, share)
    # the mainland fills the card's height; the inset sits beside it, not on it
    fill = page.evaluate(
        """() => { const r = IOC.wallMap.getContainer().getBoundingClientRect();
          const b = IOC.wallMap.latLngToContainerPoint([8.4, 102.1]);
          const t = IOC.wallMap.latLngToContainerPoint([23.4, 109.6]);
          const ins = document.querySelector('#wall-inset').getBoundingClientRect();
          return {h: (b.y - t.y) / r.height, right: r.left + t.x, insetLeft: ins.left}; }"""
    )
    assert fill["h"] > 0.85 and fill["right"] <= fill["insetLeft"]
    page.close()


def test_wall_animates_only_transform_and_opacity(browser, live_server):
    page, _ = open_wall(browser, live_server, "refresh=5&dwell=2", 1920, 1080)
    wait_js(page, "IOC.wall.viewIndex >= 1", timeout=15)
    props = page.evaluate(
        """() => { const out = new Set();
          document.querySelectorAll('.wall *').forEach(e => {
            const cs = getComputedStyle(e);
            if (parseFloat(cs.transitionDuration) > 0)
              cs.transitionProperty.split(',').forEach(p => out.add(p.trim()));
          });
          for (const sheet of document.styleSheets) {
            let rules; try { rules = sheet.cssRules; } catch (e) { continue; }
            for (const r of rules) if (r.type === CSSRule.KEYFRAMES_RULE)
              for (const k of r.cssRules)
                for (let i = 0; i < k.style.length; i++) out.add('@' + k.style[i]); }
          return Array.from(out); }"""
    )
    allowed = {"transform", "opacity", "@transform", "@opacity"}
    assert set(props) <= allowed, props
    page.close()
