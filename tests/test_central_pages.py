"""The whole picture in a real browser: the wall's central-level KPI and its rotation
views (ministries by overdue, units not reporting, targets), the national map's list of
ministries beside the map, and Đắk Lắk's targets in its panel."""

from __future__ import annotations

from tests.test_map_page import open_page, wait_js
from tests.test_wall import open_wall


def _rows(page, list_id: str) -> list[str]:
    return page.eval_on_selector_all(
        f"#{list_id} li:not([hidden])", "ls => ls.map(l => l.dataset.code)"
    )


def test_wall_shows_the_central_level_and_ranks_ministries_by_overdue(browser, live_server, client):
    page, watch = open_wall(browser, live_server, "views=ministries,reporting,targets&dwell=0")
    central = client.get("/api/v1/summary").json()["central"]
    assert page.inner_text("#kpi-central-total") == "1.132"
    assert page.inner_text("#kpi-central-done") == "485"
    assert page.inner_text("#kpi-central-overdue") == "86"
    assert page.inner_text("#kpi-central-pct").startswith("43")
    assert central["tasks_overdue"] == 86
    agencies = client.get("/api/v1/agencies").json()["agencies"]
    expected = [a["code"] for a in agencies if a["tasks_overdue"] > 0][:5]
    wait_js(page, f"document.querySelector('#rank-top li').dataset.code === '{expected[0]}'")
    assert _rows(page, "rank-top") == expected
    assert page.inner_text("#wall-view-label") == "Bộ, ngành trung ương"
    assert watch.errors == []
    page.close()


def test_wall_reporting_view_lists_the_silent_province(browser, live_server):
    page, watch = open_wall(browser, live_server, "views=reporting&dwell=0")
    wait_js(page, "document.querySelector('#rank-top li:not([hidden])') !== null")
    assert _rows(page, "rank-top") == ["11"]  # Điện Biên: no report for 19 days
    assert "Điện Biên" in page.inner_text("#rank-top")
    assert "7" in page.inner_text("#rank-top-title")  # the configured threshold
    assert watch.errors == []
    page.close()


def test_wall_targets_view_shows_met_and_not_met(browser, live_server):
    page, watch = open_wall(browser, live_server, "views=targets&dwell=0")
    states = page.eval_on_selector_all(
        "#rank-top li:not([hidden]), #rank-bottom li:not([hidden])",
        "ls => ls.map(l => l.dataset.state)",
    )
    assert sorted(states) == ["met", "met", "not_met", "not_met"]
    assert "Đắk Lắk" in page.inner_text("#rank-bottom")
    assert watch.errors == []
    page.close()


def test_national_map_lists_the_ministries_beside_the_map(browser, live_server, client):
    page, watch = open_page(browser, live_server, "/")
    box = page.locator("#ioc-central")
    assert box.is_visible() and "Bộ, ngành trung ương" in box.inner_text()
    page.click("#ioc-central summary")
    shown = page.eval_on_selector_all(
        "#ioc-central tr[data-agency]", "rs => rs.map(r => r.dataset.agency)"
    )
    assert shown == [a["code"] for a in client.get("/api/v1/agencies").json()["agencies"]]
    # the figures of no province (laws, decrees, …) beside them, as the summary has them
    national = client.get("/api/v1/summary").json()["national_indicators"]
    rows = page.eval_on_selector_all(
        ".ioc-national tr[data-indicator]",
        "rs => rs.map(r => [r.dataset.indicator, r.cells[1].innerText])",
    )
    assert [code for code, _ in rows] == [i["code"] for i in national]
    laws = dict(rows)["laws_issued"]
    assert laws == "17" and next(i for i in national if i["code"] == "laws_issued")["value"] == 17
    assert dict(rows)["local_docs_issued"] == "704"
    assert watch.errors == []
    page.close()


def test_dak_lak_panel_shows_its_targets(browser, live_server):
    page, watch = open_page(browser, live_server, "/")
    page.click('path[data-code="66"]')
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    states = page.eval_on_selector_all(
        "#ioc-targets li", "ls => ls.map(l => [l.dataset.target, l.dataset.state])"
    )
    assert states == [
        ["service_index", "met"],
        ["dti", "met"],
        ["pii", "not_met"],
        ["KH02-2", "not_met"],
    ]
    text = page.inner_text("#ioc-targets")
    assert "Đạt" in text and "Chưa đạt" in text and "hạng 8/10" in text
    assert page.locator("#ioc-health").is_visible()
    assert watch.errors == []
    page.close()


def test_map_measure_days_since_last_report(browser, live_server):
    page, watch = open_page(browser, live_server, "/?measure=days_since_report")
    assert "Số ngày từ lần báo cáo cuối" in page.locator(".ioc-legend").inner_text()
    assert watch.errors == []
    page.close()
