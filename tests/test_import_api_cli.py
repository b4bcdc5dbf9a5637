"""The imports over HTTP (token, upload, same report as JSON) and on the command line."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from iocmap.cli import app as cli
from tests.import_fixtures import rows, table_versions, write_xlsx, zip_shapefile
from tests.test_import_boundaries import tm3_shapefile

TOKEN = "test-import-token-57"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def client_for(url: str, **settings) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, **settings)))


def task_sheet(tmp_path, name="nhiem_vu.xlsx", deadline="31/12/2025"):
    return write_xlsx(
        tmp_path / name,
        ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành"],
        [["API-1", "Nhiệm vụ qua API", "96", deadline]],
    )


def upload(path, mime=XLSX):
    return {"file": (path.name, path.read_bytes(), mime)}


@pytest.fixture
def api(scratch_url):
    with client_for(scratch_url, admin_token=TOKEN, import_max_bytes=5_000_000) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_imports_are_refused_when_the_token_is_not_known(scratch_url, tmp_path):
    """No bootstrap token configured and no such token in the database: nobody writes."""
    with client_for(scratch_url, admin_token=None) as c:
        r = c.post("/api/v1/imports/tasks", files=upload(task_sheet(tmp_path)), headers=AUTH)
    assert r.status_code == 401
    assert "token" in r.json()["detail"]


def test_a_token_is_required_and_must_match(api, tmp_path):
    files = upload(task_sheet(tmp_path))
    r = api.post("/api/v1/imports/tasks", files=files)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = api.post("/api/v1/imports/tasks", files=files, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_task_sheet_over_http_returns_the_report(api, scratch, tmp_path):
    r = api.post("/api/v1/imports/tasks", files=upload(task_sheet(tmp_path)), headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["created"], body["file"]) == ("imported", 1, "nhiem_vu.xlsx")
    assert body["fields"]["deadline"] == "Hạn hoàn thành" and body["version"] >= 2
    [event] = rows(
        scratch,
        "select e.actor, e.source from task_event e join task t on t.id = e.task_id"
        " where t.external_id = 'API-1'",
    )
    # the bootstrap token has no row the database could check: marked, never trusted
    assert (event.actor, event.source) == ("unverified:token:admin", "nhiem_vu.xlsx")
    again = api.post("/api/v1/imports/tasks", files=upload(task_sheet(tmp_path)), headers=AUTH)
    assert again.json()["status"] == "no_changes"


def test_a_rejected_sheet_is_a_422_naming_row_and_column(api, scratch, tmp_path):
    before = table_versions(scratch)
    bad = task_sheet(tmp_path, "sai.xlsx", deadline="31/02/2025")
    r = api.post("/api/v1/imports/tasks", files=upload(bad), headers=AUTH)
    assert r.status_code == 422
    body = r.json()
    assert body["detail"].startswith("tệp bị từ chối: 1 lỗi trong sai.xlsx")
    [err] = body["errors"]
    assert (err["file"], err["row"], err["field"]) == ("sai.xlsx", 2, "Hạn hoàn thành")
    assert body["report"]["status"] == "rejected"
    assert table_versions(scratch) == before


def test_boundaries_zip_and_shapefile_parts(api, scratch, tmp_path):
    shp, src = tm3_shapefile(tmp_path, province="96")
    zipped = zip_shapefile(shp, tmp_path / "ca_mau.zip")
    r = api.post(
        "/api/v1/imports/boundaries?level=commune&dry_run=true",
        files=upload(zipped, "application/zip"),
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["updated"]) == ("dry_run", len(src))
    parts = [
        ("file", (p.name, p.read_bytes(), "application/octet-stream"))
        for p in sorted(shp.parent.glob(shp.stem + ".*"))
    ]
    r = api.post("/api/v1/imports/boundaries?level=commune", files=parts, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "imported" and r.json()["file"] == shp.name


def test_bad_requests_are_clear(api, tmp_path):
    sheet = upload(task_sheet(tmp_path))
    r = api.post("/api/v1/imports/boundaries", files=sheet, headers=AUTH)
    assert r.status_code == 422 and "level=" in r.json()["detail"]
    r = api.post("/api/v1/imports/tasks?levle=commune", files=sheet, headers=AUTH)
    assert r.status_code == 400 and "levle" in r.json()["detail"]
    r = api.post("/api/v1/imports/parcels", files=sheet, headers=AUTH)
    assert r.status_code == 422
    junk = tmp_path / "not_a_map.geojson"
    junk.write_text("this is not json")
    r = api.post(
        "/api/v1/imports/boundaries?level=commune",
        files=upload(junk, "application/geo+json"),
        headers=AUTH,
    )
    assert r.status_code == 422 and "not_a_map.geojson" in r.json()["detail"]


def test_uploads_over_the_cap_are_413(scratch_url, tmp_path):
    with client_for(scratch_url, admin_token=TOKEN, import_max_bytes=1000) as c:
        r = c.post("/api/v1/imports/tasks", files=upload(task_sheet(tmp_path)), headers=AUTH)
    assert r.status_code == 413 and "limit" in r.json()["detail"]


# --- command line --------------------------------------------------------------------------
def run_cli(url: str, *args: str):
    return CliRunner().invoke(cli, ["import", *args], env={"IOCMAP_DATABASE_URL": url})


def test_cli_tasks_prints_the_report_and_exit_codes(scratch_url, tmp_path):
    ok = run_cli(scratch_url, "tasks", str(task_sheet(tmp_path)), "--actor", "cli:test")
    assert ok.exit_code == 0, ok.output
    assert "created 1, updated 0" in ok.output
    bad = run_cli(scratch_url, "tasks", str(task_sheet(tmp_path, "sai.xlsx", "32/01/2025")))
    assert bad.exit_code == 1
    assert "Hạn hoàn thành" in bad.output and "rejected" in bad.output
    as_json = run_cli(scratch_url, "tasks", str(task_sheet(tmp_path)), "--json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["status"] == "no_changes"


def test_cli_boundaries_dry_run_and_unusable_file(scratch_url, tmp_path):
    shp, src = tm3_shapefile(tmp_path, province="96")
    result = run_cli(scratch_url, "boundaries", str(shp), "--level", "commune", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "TCVN3" in result.output and "would update" in result.output
    shp.with_suffix(".prj").unlink()
    result = run_cli(scratch_url, "boundaries", str(shp), "--level", "commune")
    assert result.exit_code == 1 and "--crs" in result.output
