"""The deadline forecast on the map pages, in a real browser and without one: the measure
("dự báo: kịp / có nguy cơ / không kịp") chosen by keys with its legend, the click panel's
forecast with the pace lines, a phone without horizontal overflow; the classes the page
draws are the ones ``/api/v1/forecast`` gives for the same units."""

from __future__ import annotations

import datetime as dt

from geo.read import forecast as fc
from maps import data, forecast_map, measures, theme
from tests.test_map_page import ARTIFACTS, open_page, wait_js

AS_OF = dt.date(2025, 11, 13)


def _measure(level: str):
    return measures.find("forecast", level, [])


def test_layer_classes_equal_the_forecast_api(engine, client):
    for level, params in (("province", {}), ("commune", {"province": "40"})):
        with engine.connect() as conn:
            layer = data.layer(
                conn, level, AS_OF, _measure(level), None, parent=params.get("province")
            )
        api = client.get("/api/v1/forecast", params={"level": level}).json()
        want = {u["code"]: u["class"] for u in api["units"]}
        got = {c: forecast_map.class_of(v) for c, v in layer.values.items()}
        assert got and all(got[c] == want[c] for c in got), level
        assert all(v is not None for v in layer.values.values())
    assert [theme.FORECAST[c] for c in fc.CLASSES] == forecast_map.PALETTE
    assert len(set(forecast_map.PALETTE)) == len(fc.CLASSES)  # done, no_history distinct


def test_worst_first_by_the_pace_gap_then_open_tasks():
    units = [
        {"code": "a", "open_due": 5, "pace_per_week": 1.0, "needed_per_week": 2.0},
        {"code": "b", "open_due": 40, "pace_per_week": 0.5, "needed_per_week": 6.0},
        {"code": "c", "open_due": 9, "pace_per_week": None, "needed_per_week": 2.0},
        {"code": "d", "open_due": 3, "pace_per_week": 0.0, "needed_per_week": None},  # passed
        {"code": "e", "open_due": 7, "pace_per_week": 1.0, "needed_per_week": 2.0},
    ]
    assert [u["code"] for u in forecast_map.worst_first(units)] == ["b", "d", "c", "e", "a"]


def test_the_legend_says_the_rule_in_both_languages(client):
    from maps.i18n import strings

    share = f"{1 / fc.AT_RISK_SHARE:.2f}"  # the at-risk note quotes the rule's speed-up
    assert share.replace(".", ",") in strings("vi")["fc_at_risk_note"]
    assert share in strings("en")["fc_at_risk_note"]
    assert f"{fc.MIN_HISTORY_DAYS} " in strings("vi")["fc_no_history_note"]
    assert f"{fc.WINDOW_WEEKS} " in strings("en")["fc_method"]
    page = client.get("/", params={"measure": "forecast", "lang": "en"}).text
    for words in (
        "Forecast: on track / at risk / will miss",
        "On track",
        "At risk",
        "Will miss the deadline",
        "Done (nothing due is open)",
        "Too little history",
    ):
        assert words in page, words  # fmt: skip
    wall = client.get("/wall", params={"views": "will_miss", "lang": "en"}).text
    assert ">Will miss</li>" in wall and 'data-measure="forecast"' in wall


def test_unknown_measure_still_names_forecast_as_allowed(client):
    r = client.get("/", params={"measure": "nope"}, headers={"Accept": "application/json"})
    assert r.status_code == 400 and "forecast" in r.text


def test_keys_select_the_forecast_measure_and_the_legend_names_the_classes(browser, live_server):
    page, watch = open_page(browser, live_server, "/")
    page.focus("#ioc-measure")
    with page.expect_navigation():
        page.keyboard.type("dự")  # the select's type-ahead: "Dự báo: …"
    wait_js(page, "document.documentElement.dataset.mapReady === '1'", 20)
    assert "measure=forecast" in page.url
    assert page.input_value("#ioc-measure") == "forecast"
    legend = page.locator(".ioc-legend").inner_text()
    assert "Dự báo: kịp / có nguy cơ / không kịp" in legend
    for words in ("Kịp hạn", "Có nguy cơ trễ", "Không kịp", "Đã xong", "Chưa đủ lịch sử"):
        assert words in legend, words
    rows = page.locator(".fc-legend li[data-forecast]")
    assert rows.count() == 5
    # every polygon is filled with its class's colour; the tooltip says the class in words
    paths = "[...document.querySelectorAll('path.leaflet-interactive')]"
    fills = page.evaluate(f"{paths}.map(p => p.getAttribute('fill'))")
    assert len(fills) == 34 and set(fills) <= {c for c in theme.FORECAST.values()}
    label = page.get_attribute('path[data-code="66"]', "aria-label")
    assert label.startswith("Tỉnh Đắk Lắk: ")
    assert any(
        label.endswith(w)
        for w in (
            "Kịp hạn",
            "Có nguy cơ trễ",
            "Không kịp (sẽ trễ hạn)",
            "Đã xong việc đến hạn",
            "Chưa đủ lịch sử để dự báo",
        )
    )
    assert watch.errors == [] and watch.foreign == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "forecast-national.png"))
    page.close()


def test_enter_on_a_commune_shows_its_forecast_with_the_pace_lines(browser, live_server, client):
    page, watch = open_page(browser, live_server, "/p/66?measure=forecast")
    api = client.get("/api/v1/forecast", params={"level": "commune"}).json()
    units = {u["code"]: u for u in api["units"]}
    code = next(
        c
        for c in page.evaluate("Object.keys(IOC.config().names)")
        if units[c]["class"] == "will_miss"
        and 0 < (units[c]["pace_per_week"] or 0) < (units[c]["needed_per_week"] or 0)
    )
    u = units[code]
    page.focus(f'path[data-code="{code}"]')
    page.keyboard.press("Enter")
    wait_js(page, "document.querySelector('#ioc-panel').dataset.state === 'ready'", 20)
    sec = page.locator("#ioc-forecast")
    assert sec.get_attribute("data-class") == "will_miss"
    text = sec.inner_text()
    assert "Không kịp (sẽ trễ hạn)" in text and "KH02" in text
    num = lambda v: theme.fmt_number(v, 2)  # noqa: E731
    assert page.inner_text("#ioc-fc-open") == str(u["open_due"])
    assert page.inner_text("#ioc-fc-pace") == f"{num(u['pace_per_week'])}/tuần"
    assert page.inner_text("#ioc-fc-needed") == f"{num(u['needed_per_week'])}/tuần"
    expected = u["expected_completion"]
    want = dt.date.fromisoformat(expected).strftime("%d/%m/%Y") if expected else "chưa xác định"
    assert page.inner_text("#ioc-fc-expected").startswith(want)
    # the chart: completed so far and both pace lines, extended to the deadline, labelled
    chart = page.locator("#ioc-fc-chart")
    assert chart.locator("polyline.fc-done").count() == 1
    recent = chart.locator("line.pace-recent")
    needed = chart.locator("line.pace-needed")
    assert recent.count() == needed.count() == 1
    assert (
        f"Tốc độ gần đây: {num(u['pace_per_week'])}/tuần" in recent.locator("title").text_content()
    )
    assert f"Tốc độ cần: {num(u['needed_per_week'])}/tuần" in needed.locator("title").text_content()
    deadline_x = float(chart.locator("line.deadline").get_attribute("x1"))
    assert float(recent.get_attribute("x2")) == float(needed.get_attribute("x2")) == deadline_x
    # needed pace above the recent pace: its end is higher on the chart (smaller y)
    assert float(needed.get_attribute("y2")) < float(recent.get_attribute("y2"))
    labels = chart.locator("text.pace-label").all_text_contents()
    assert any(t.startswith("Tốc độ cần") for t in labels)
    assert any(t.startswith("Tốc độ gần đây") for t in labels)
    assert watch.errors == []
    page.screenshot(path=str(ARTIFACTS / "forecast-panel.png"))
    page.close()


def test_phone_shows_the_measure_and_legend_without_horizontal_overflow(browser, live_server):
    page, watch = open_page(browser, live_server, "/?measure=forecast", width=390, height=844)
    page.click("#ioc-legend-toggle")
    legend = page.locator(".fc-legend")
    assert legend.is_visible()
    assert legend.locator("li[data-forecast]").count() == 5
    box = legend.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # the measure select sits behind the controls toggle and says "Dự báo"
    page.click("#ioc-controls-toggle")
    assert page.locator("#ioc-measure").is_visible()
    assert "Dự báo" in page.locator("#ioc-measure option:checked").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # a tap opens the bottom sheet with the forecast
    page.click("#ioc-controls-toggle")
    page.click("#ioc-legend-toggle")
    page.click('path[data-code="66"]')
    wait_js(page, "document.querySelector('#ioc-panel').dataset.state === 'ready'", 20)
    assert page.locator("#ioc-forecast").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert watch.errors == []
    page.screenshot(path=str(ARTIFACTS / "forecast-phone.png"))
    page.close()
