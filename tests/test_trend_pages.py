"""Trends and reasons in the pages (headless Chromium): the click panel shows the unit's
chart (server-drawn SVG, offline), the change since the previous quarter, each task's
stated reason and the overdue tasks without one."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.test_map_page import ARTIFACTS, open_page


def _commune_with_reasons(engine) -> tuple[str, str]:
    """A commune with an overdue task that states a reason and one that does not."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "select t.unit_code, u.parent_code from task t"
                " join admin_unit u on u.code = t.unit_code where t.program = 'KH02'"
                " and task_status(t.deadline, t.completed_at, date '2025-11-13') = 'overdue'"
                " group by t.unit_code, u.parent_code"
                " having count(t.reason) > 0 and count(*) > count(t.reason)"
                " order by t.unit_code limit 1"
            )
        ).one()
    return row.unit_code, row.parent_code


def contrast(*css_colours: str) -> float:
    """WCAG 2 contrast ratio of two computed CSS colours ("rgb(r, g, b)")."""

    def luminance(css: str) -> float:
        channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(c) for c in css_colours), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_panel_shows_trend_chart_change_and_reasons(browser, live_server, client, engine):
    code, province = _commune_with_reasons(engine)
    page, watch = open_page(browser, live_server, f"/p/{province}")
    page.click(f'path[data-code="{code}"]')
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    page.wait_for_function(
        "() => { const i = document.querySelector('#ioc-panel img.trend-chart');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    src = page.get_attribute("#ioc-panel img.trend-chart", "src")
    svg = client.get(src.replace(live_server, ""))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    series = client.get(f"/api/v1/units/{code}/series", params={"step": "week"}).json()
    assert f'data-points="{len(series["points"])}"' in svg.text and "<polyline" in svg.text
    # drawn as an image, the chart gets none of the page's CSS: its text names the pages'
    # sans-serif family itself (it fell back to the browser's serif default)
    image = browser.new_page()
    image.goto(live_server + src.replace(live_server, ""))
    family = image.evaluate("getComputedStyle(document.querySelector('text')).fontFamily")
    assert "Be Vietnam Pro" in family and family.endswith("sans-serif"), family
    colours = image.evaluate(
        "[getComputedStyle(document.querySelector('text')).fill,"
        " getComputedStyle(document.querySelector('rect.ground')).fill]"
    )
    assert contrast(*colours) >= 4.5, colours  # WCAG AA for its text, wherever it is drawn
    image.close()

    detail = client.get(f"/api/v1/communes/{code}").json()["properties"]
    since = detail["change"]["previous_quarter"]
    panel = page.locator("#ioc-panel").text_content()
    assert "So với cuối quý trước (30/09/2025)" in panel
    shown = page.locator("#ioc-panel .trend-change").text_content()
    expected = f"+{since['tasks_completed']}" if since["tasks_completed"] > 0 else "■ 0"
    assert expected in shown

    tasks = client.get(f"/api/v1/units/{code}/tasks", params={"limit": 500}).json()["tasks"]
    missing = [t for t in tasks if t["missing_reason"]]
    stated = [t for t in tasks if t["reason"]]
    assert missing and stated
    assert page.locator("#ioc-panel .task-missing-reason").count() == len(missing)
    assert stated[0]["reason"] in page.locator("#ioc-panel .tasks-t").text_content()
    assert detail["tasks_overdue_without_reason"] == len(missing)
    assert f"Quá hạn chưa nêu nguyên nhân: {len(missing)}" in panel
    assert watch.errors == [] and watch.foreign == []
    page.screenshot(path=str(ARTIFACTS / "panel_trend.png"))
    page.close()


def test_wall_trend_card_shows_weekly_chart_and_q2_vs_q3(browser, live_server, client):
    from tests.test_wall import open_wall

    page, watch = open_wall(browser, live_server, "views=national&refresh=1&dwell=0")
    # drawn inline in the wall's colours (no white box), its text at the wall's floor
    assert page.locator("#wall-trend svg.ioc-trend polyline").count() == 1
    fill = page.evaluate("getComputedStyle(document.querySelector('#wall-trend svg text')).fill")
    assert fill != "rgb(0, 0, 0)"
    q = {
        p["period"]: p
        for p in client.get(
            "/api/v1/series", params={"step": "quarter", "from": "2025-01-01"}
        ).json()["points"]
    }
    done = page.inner_text('#wall-quarters [data-q="Q3/2025"][data-k="done"]')
    overdue = page.inner_text('#wall-quarters [data-q="Q2/2025"][data-k="overdue"]')
    assert done == f"{q['2025-Q3']['tasks_completed']:,}".replace(",", ".")
    assert overdue == str(q["2025-Q2"]["tasks_overdue"])
    assert page.locator("#wall-trend").is_visible()
    assert watch.errors == [] and watch.foreign == []
    page.screenshot(path=str(ARTIFACTS / "wall_trend.png"))
    page.close()


def test_wall_alert_rail_lists_units_reminded_and_still_overdue(scratch, scratch_url):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings
    from geo.remind.issue import RemindRequest, issue

    notices = issue(scratch, RemindRequest(program="NQ57", overdue=True), actor="cli:t")
    assert notices
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        html = client.get("/wall", params={"views": "national"}).text
    assert "Đã nhắc, vẫn quá hạn" in html
    rail = html[html.index('id="wall-reminded"') :]
    rail = rail[: rail.index("</ul>")]
    import re

    listed = set(re.findall(r'<li data-code="(\d+)">', rail))
    assert len(listed) == min(5, len(notices))
    assert listed <= {n.unit_code for n in notices}
