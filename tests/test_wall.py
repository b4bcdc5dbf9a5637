"""The IOC wall in a real browser: offline, right figures, refreshes in place after a task
change (no reload, no viewport jump), stale badge while the API is down, rotation."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text

from api.app import create_app
from api.settings import Settings
from geo.ingest.store import bump_version
from maps import theme
from maps.unit_names import short_name
from tests.test_map_page import Watch, wait_js

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
AS_OF = dt.date(2025, 11, 13)


def open_wall(browser, origin, query, width=1920, height=1080):
    page = browser.new_page(viewport={"width": width, "height": height})
    watch = Watch(page, origin)
    page.goto(f"{origin}/wall?{query}", wait_until="networkidle")
    wait_js(page, "document.documentElement.dataset.wallReady === '1'")
    wait_js(page, "window.IOC && IOC.wall && IOC.wall.cycles >= 1")
    return page, watch


def fill_of(page, code: str) -> str:
    return page.get_attribute(f'path[data-code="{code}"]', "fill")


def test_wall_shows_the_api_figures_offline(browser, live_server, client):
    page, watch = open_wall(browser, live_server, "views=national&refresh=1&dwell=0")
    summary = client.get("/api/v1/summary").json()
    assert page.locator("path.leaflet-interactive").count() == 34
    assert page.inner_text("#kpi-tasks") == theme.vn_number(summary["tasks_total"], 0)
    assert "56,97" in page.inner_text("#kpi-pct")
    green = summary["plan02"]["communes_all_groups_done"]
    assert page.inner_text("#kpi-green") == theme.vn_number(green, 0)
    best = max(
        (p for p in summary["provinces"] if p["completion_pct"] is not None),
        key=lambda p: p["completion_pct"],
    )
    assert page.get_attribute("#rank-top li:first-child", "data-code") == best["code"]
    assert page.locator("#wall-alerts li").count() >= 1  # provinces overdue now
    assert len(page.inner_text("#wall-clock")) == 8  # HH:MM:SS
    assert page.inner_text("#wall-updated")[:2].isdigit()  # "Cập nhật HH:mm dd/MM"
    assert page.locator("#wall-stale").is_hidden()
    assert watch.errors == [] and watch.foreign == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "wall.png"))
    kpi_1080 = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#kpi-pct')).fontSize)"
    )
    page.close()
    page, _ = open_wall(browser, live_server, "views=national&refresh=1&dwell=0", 3840, 2160)
    kpi_4k = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#kpi-pct')).fontSize)"
    )
    assert kpi_4k > 1.8 * kpi_1080  # readable from across the room on a 4K wall too
    page.screenshot(path=str(ARTIFACTS / "wall_4k.png"))
    page.close()


@pytest.fixture
def task_changes(engine):
    """Changes tasks as an import would (and bumps the data version); restores them after."""
    saved: list[tuple] = []

    def change(sql: str, params: dict) -> list[int]:
        with engine.begin() as conn:
            rows = conn.execute(
                text(f"select id, deadline, completed_at from task where id in ({sql})"), params
            ).all()
            saved.extend(tuple(r) for r in rows)
            ids = [r.id for r in rows]
            yield_ids = ids
            return yield_ids

    def apply(stmt: str, ids: list[int]) -> None:
        with engine.begin() as conn:
            conn.execute(text(stmt), {"ids": ids, "d": AS_OF})
            bump_version(conn, None, "test_wall")

    yield change, apply
    with engine.begin() as conn:
        for tid, deadline, completed in saved:
            conn.execute(
                text("update task set deadline = :d, completed_at = :c where id = :i"),
                {"d": deadline, "c": completed, "i": tid},
            )
        bump_version(conn, None, "test_wall restore")


def _settled_view(page, timeout: float = 10.0) -> list:
    """The map's centre and zoom once the first frame has settled (late fonts and images
    can still resize the map card by a pixel right after load): the view a refresh must
    then leave alone."""
    deadline = time.monotonic() + timeout
    view = page.evaluate("[IOC.wallMap.getCenter(), IOC.wallMap.getZoom()]")
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        again = page.evaluate("[IOC.wallMap.getCenter(), IOC.wallMap.getZoom()]")
        if again == view:
            return view
        view = again
    return view


def test_task_change_recolours_in_place_without_reload(browser, live_server, client, task_changes):
    select, apply = task_changes
    page, watch = open_wall(browser, live_server, "views=national&refresh=0.5&dwell=0")
    page.evaluate("window.__marker = 'still here'")
    view = _settled_view(page)
    provinces = client.get("/api/v1/summary").json()["provinces"]
    worst = min(
        (p for p in provinces if p["completion_pct"] is not None),
        key=lambda p: p["completion_pct"],
    )
    before = fill_of(page, worst["code"])
    assert before == page.evaluate("IOC.config().measures.completion.palette[0]")
    # the worst province completes its 2025 tasks, and a commune gets an overdue task
    ids = select(
        "select id from task where unit_code = :u and program = 'NQ57' and year = 2025 "
        "and (completed_at is null or completed_at > :d)",
        {"u": worst["code"], "d": AS_OF},
    )
    commune = next(
        f["properties"]
        for f in client.get(
            "/api/v1/communes", params={"fields": "code,full_name,tasks_overdue,tasks_on_time"}
        ).json()["features"]
        if f["properties"]["tasks_overdue"] == 0 and f["properties"]["tasks_on_time"] > 0
    )
    late = select(
        "select id from task where unit_code = :u and completed_at is null "
        "and deadline >= :d order by id limit 1",
        {"u": commune["code"], "d": AS_OF},
    )
    apply(
        "update task set completed_at = greatest(coalesce(start_date, :d), least(deadline, :d)) "
        "where id = any(:ids)",
        ids,
    )
    apply("update task set deadline = :d - 3 where id = any(:ids)", late)
    wait_js(
        page,
        f"document.querySelector('path[data-code=\"{worst['code']}\"]').getAttribute('fill')"
        f" !== '{before}'",
        timeout=5,
    )
    new_pct = next(
        p for p in client.get("/api/v1/summary").json()["provinces"] if p["code"] == worst["code"]
    )["completion_pct"]
    expected = page.evaluate(
        "v => IOC.classify(v, IOC.config().measures.completion.breaks,"
        " IOC.config().measures.completion.palette)",
        new_pct,
    )
    assert fill_of(page, worst["code"]) == expected != before
    wait_js(
        page,
        "[...document.querySelectorAll('#wall-alerts li.fresh')]"
        f".some(li => li.textContent.includes({short_name(commune['full_name'])!r}))",
        timeout=5,
    )
    # same document, same viewport: an in-place refresh
    assert page.evaluate("window.__marker") == "still here"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert page.evaluate("[IOC.wallMap.getCenter(), IOC.wallMap.getZoom()]") == view
    assert watch.errors == []
    page.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db_url: str, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(Settings(database_url=db_url))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return server, thread


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=15)


def test_stale_badge_while_the_api_is_down_and_recovery(browser, engine, db_url):
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    server, thread = _serve(db_url, port)
    try:
        page, _ = open_wall(browser, origin, "views=national&refresh=0.5&dwell=0")
        kpi = page.inner_text("#kpi-pct")
        _stop(server, thread)
        page.wait_for_selector("#wall-stale", state="visible", timeout=8000)
        assert page.inner_text("#kpi-pct") == kpi  # the last good data stays on screen
        assert "MẤT KẾT NỐI" in page.inner_text("#wall-stale")
        server, thread = _serve(db_url, port)
        page.wait_for_selector("#wall-stale", state="hidden", timeout=10000)
        assert page.evaluate("IOC.wall.stale") is False
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        page.close()
    finally:
        _stop(server, thread)


def test_rotation_follows_the_playlist(browser, live_server):
    page, watch = open_wall(browser, live_server, "views=national,north,dti&dwell=1&refresh=5")
    start = page.evaluate("IOC.wallMap.getCenter()")
    page.wait_for_selector('#wall-views li.active[data-view="north"]', timeout=4000)
    assert page.inner_text("#wall-view-label") == "Miền Bắc"
    page.wait_for_selector('#wall-views li.active[data-view="dti"]', timeout=4000)
    assert page.locator('.legend-slot[data-measure="dti"]').is_visible()
    wait_js(page, "document.querySelector('#rank-top-sub').textContent.includes('DTI')")
    assert page.evaluate("IOC.wallMap.getCenter()") != start
    assert watch.errors == []
    page.close()


def test_overdue_view_draws_the_province_communes(browser, live_server, client):
    page, _ = open_wall(browser, live_server, "views=overdue&refresh=5&dwell=0")
    label = page.inner_text("#wall-view-label")
    assert "quá hạn" in label
    code = page.evaluate("IOC.wall.overdueList[0].code")
    fc = client.get("/api/v1/communes", params={"province": code, "fields": "code"}).json()
    drawn = ".leaflet-overlay-pane path:not(.leaflet-interactive)"  # the main map, not the inset
    wait_js(
        page,
        f"IOC.wallMap.getContainer().querySelectorAll('{drawn}').length === {len(fc['features'])}",
    )
    page.close()
