"""One basis for every figure: for the same parameters, every number a person reads on
``/`` and ``/wall`` — headline, basis line, map colours, legend, KPIs, rankings, alerts and
the click panel — is the API's (``/api/v1/summary`` and friends), rounded once by the
server and shown the same way everywhere."""

from __future__ import annotations

import datetime as dt

import pytest

from maps import theme
from tests.test_map_page import open_page, wait_js
from tests.test_wall import open_wall

CASES = ["", "as_of=2025-01-01", "year=2024"]


def vn(value, decimals=0) -> str:
    return theme.fmt_number(value, decimals, "vi")


def api_summary(client, query: str) -> dict:
    return client.get("/api/v1/summary" + (f"?{query}" if query else "")).json()


def rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i : i + 2], 16) for i in (0, 2, 4)))


@pytest.mark.parametrize("query", CASES)
def test_national_page_figures_equal_the_api(browser, live_server, client, query):
    summary = api_summary(client, query)
    page, watch = open_page(browser, live_server, "/" + (f"?{query}" if query else ""), 1600, 1000)
    # the basis, stated once: programme, year, as-of
    basis = page.inner_text("#ioc-basis")
    day = dt.date.fromisoformat(summary["as_of"])
    assert f"năm {summary['year']}" in basis and f"{day:%d/%m/%Y}" in basis
    headline = page.inner_text(".headline")
    assert f"{vn(summary['tasks_completed'])}/{vn(summary['tasks_total'])}" in headline
    assert f"({vn(summary['completion_pct'], 2)} %)" in headline
    # the map colours every province by the same figure the API gives it
    on_map = page.evaluate(
        "() => Object.fromEntries(IOC.layer.getLayers().map(l =>"
        " [l.feature.properties.code, l.feature.properties.v]))"
    )
    assert on_map == {p["code"]: p["completion_pct"] for p in summary["provinces"]}
    # each polygon's computed colour is its legend class's colour; the tooltip's words match
    colours = page.evaluate(
        """() => IOC.layer.getLayers().map(l => {
             const cfg = IOC.config(), v = l.feature.properties.v;
             const cls = IOC.classIndex(v, cfg.breaks);
             const row = document.querySelector(`.ioc-legend li[data-class="${cls}"] .swatch`);
             const swatch = cls === 'nodata' ? 'url("#ioc-hatch")'
               : row ? getComputedStyle(row).backgroundColor : null;
             return [getComputedStyle(l.getElement()).fill, swatch,
                     l.getElement().getAttribute('aria-label')]; })"""
    )
    for fill, swatch, label in colours:
        assert fill == swatch, (fill, swatch, label)
    # a province with tasks on this basis (Hà Nội has none due in 2024)
    hanoi = next(p for p in summary["provinces"] if p["tasks_total"])
    label = page.get_attribute(f'path[data-code="{hanoi["code"]}"]', "aria-label")
    assert label.endswith(theme.fmt_number(hanoi["completion_pct"], 2) + "\u00a0%")
    top = rgb(theme.SEQUENTIAL[-1])
    values = {p["completion_pct"] for p in summary["provinces"] if p["completion_pct"] is not None}
    if len(values) == 1:  # one class: said so, and never the "best" colour
        assert all(fill != top for fill, _, _ in colours if fill.startswith("rgb"))
        assert "Một lớp" in page.inner_text(".ioc-legend")
    # the panel answers the page's own question (same year and as-of)
    page.evaluate(
        f"IOC.layer.getLayers().find(l => l.feature.id === '{hanoi['code']}').fire('click')"
    )
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    kpis = page.inner_text("#ioc-panel .panel-kpis")
    assert theme.fmt_number(hanoi["completion_pct"], 2) in kpis.replace("\u00a0", " ")
    assert f"{vn(hanoi['tasks_completed'])}/{vn(hanoi['tasks_total'])}" in kpis
    assert page.locator("#ioc-panel tr.task").count() == hanoi["tasks_total"]
    assert watch.errors == []
    page.close()


@pytest.mark.parametrize("query", CASES)
def test_wall_figures_equal_the_api(browser, live_server, client, query):
    summary = api_summary(client, query)
    q = "views=national&refresh=1&dwell=0" + (f"&{query}" if query else "")
    page, watch = open_wall(browser, live_server, q)
    wait_js(page, "IOC.wall.cycles >= 2")  # the in-place refresh asked the same question
    assert page.inner_text("#kpi-tasks") == vn(summary["tasks_total"])
    assert page.inner_text("#kpi-pct") == f"{vn(summary['completion_pct'], 2)}\u00a0%"
    assert page.inner_text("#kpi-done") == vn(summary["tasks_completed"])
    assert page.inner_text("#kpi-overdue") == vn(summary["tasks_overdue"])
    assert page.inner_text("#kpi-overdue-kh02") == vn(summary["plan02"]["tasks_overdue"])
    assert page.inner_text("#kpi-green") == vn(summary["plan02"]["communes_all_groups_done"])
    assert str(summary["year"]) in page.inner_text(".wall-kpis .kpi .k")
    day = dt.date.fromisoformat(summary["as_of"])
    assert f"{day:%d/%m/%Y}" in page.inner_text("#wall-basis")
    ranked = sorted(
        (p for p in summary["provinces"] if p["completion_pct"] is not None),
        key=lambda p: (-p["completion_pct"], p["code"]),
    )
    if ranked:
        first = page.locator("#rank-top li").first
        assert first.get_attribute("data-code") == ranked[0]["code"]
        assert first.locator(".v").inner_text() == f"{vn(ranked[0]['completion_pct'], 2)}\u00a0%"
    on_map = page.evaluate(
        "() => Object.fromEntries(Array.from(IOC.wall.completion ? Object.entries("
        "IOC.wall.completion) : []))"
    )
    assert on_map == {p["code"]: p["completion_pct"] for p in summary["provinces"]}
    # the alert rail: provinces overdue on this basis (their own tasks + their communes')
    params = {"status": "overdue", "fields": "code,province_code,tasks_overdue", "zoom": 0}
    params.update(dict(x.split("=") for x in query.split("&") if x))
    params.setdefault("year", str(summary["year"]))
    communes = client.get("/api/v1/communes", params=params).json()["features"]
    per = {p["code"]: p["tasks_overdue"] for p in summary["provinces"]}
    for f in communes:
        per[f["properties"]["province_code"]] += f["properties"]["tasks_overdue"]
    expected = sorted(((-n, c) for c, n in per.items() if n), key=lambda t: t)
    shown = page.eval_on_selector_all(
        "#wall-alerts li.seed:not([hidden])",
        "ls => ls.map(l => [l.dataset.code, l.querySelector('b').textContent])",
    )
    assert shown == [[c, vn(-n)] for n, c in expected][: len(shown)]
    if expected:
        more = len(expected) - len(shown)
        assert more == 0 or page.inner_text("#wall-alerts-more") == f"+{vn(more)} đơn vị khác"
    else:
        assert "Không có" in page.inner_text("#wall-alerts")
    assert watch.errors == []
    page.close()


def test_english_mode_uses_english_numbers_and_words(browser, live_server, client):
    summary = api_summary(client, "")
    page, _ = open_page(browser, live_server, "/?lang=en", 1600, 1000)
    headline = page.inner_text(".headline")
    done, total = (
        theme.fmt_number(summary[k], 0, "en") for k in ("tasks_completed", "tasks_total")
    )
    assert f"{done} of {total}" in headline and "56.97 %" in headline
    assert "tasks due in 2025" in page.inner_text("#ioc-basis")
    page.close()
    page, _ = open_page(browser, live_server, "/?lang=en&measure=service_index", 1600, 1000)
    legend = page.inner_text(".ioc-legend")
    assert "điểm" not in legend and "points" in legend
    page.close()
    page, _ = open_wall(browser, live_server, "views=national&refresh=5&dwell=0&lang=en")
    kpis = page.inner_text(".wall-kpis")
    assert "NQ57 PROVINCES 2025" in kpis.upper() and "communes" in kpis  # scope in the label
    assert theme.fmt_number(summary["tasks_total"], 0, "en") in kpis and "56.97" in kpis
    assert "TỈNH" not in kpis.upper() and "this year" not in kpis.lower()
    page.close()
