"""Pages are warmed after an import: the first visitor of a new data version gets a page
already built (a cache hit), not a cold build."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.import_fixtures import write_xlsx

TOKEN = "warm-test-admin-token"
HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành"]


def test_an_import_warms_the_pages_of_the_new_data_version(scratch_url, tmp_path, monkeypatch):
    monkeypatch.setenv("IOCMAP_WARM_PAGES", "1")
    app = create_app(Settings(database_url=scratch_url, admin_token=TOKEN))
    sheet = write_xlsx(
        tmp_path / "nv.xlsx", HEADER, [["WARM-1", "Nhiệm vụ mới", "40", "31/12/2025"]]
    )
    with TestClient(app) as c:
        before = c.get("/p/40", headers={"Accept": "text/html"})
        assert before.status_code == 200
        old = app.state.maps_warm_task
        wait_done(old)  # the first page view warmed the rest of this version
        r = c.post(
            "/api/v1/imports/tasks",
            files={"file": (sheet.name, sheet.read_bytes(), "application/octet-stream")},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert r.status_code == 200, r.text
        version = r.json()["version"]
        task = app.state.maps_warm_task
        assert task is not old  # the import route started a new round
        wait_done(task)
        assert app.state.maps_warm_version == version
        cache = app.state.cache
        misses = cache.misses
        for path in ("/", "/p/40", "/p/96", "/wall"):
            page = c.get(path, headers={"Accept": "text/html"})
            assert page.status_code == 200 and page.headers["x-data-version"] == str(version)
        assert cache.misses == misses  # all four were built before anyone asked
        assert "Nghệ An" in c.get("/p/40").text


def wait_done(task, timeout: float = 300.0) -> None:
    """Wait until the warming task (on the test client's loop) has finished."""
    deadline = time.monotonic() + timeout
    while not task.done():
        assert time.monotonic() < deadline, "warming did not finish"
        time.sleep(0.05)


@pytest.mark.parametrize("value", ["0", "false"])
def test_warming_can_be_switched_off(scratch_url, monkeypatch, value):
    from api.page_warm import schedule_warm

    monkeypatch.setenv("IOCMAP_WARM_PAGES", value)
    app = create_app(Settings(database_url=scratch_url))
    with TestClient(app):
        assert schedule_warm(app) is None
