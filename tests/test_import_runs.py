"""``GET /api/v1/imports``: every import, dry runs included, newest first, token-only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.models import ImportRuns
from api.settings import Settings
from geo.tokens import create_token
from tests.import_fixtures import write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Mã xã", "Hạn hoàn thành"]


@pytest.fixture
def tokens(scratch):
    with scratch.begin() as conn:
        return {
            "ca-mau": create_token(conn, "ca-mau", "editor", "province:96"),
            "viewer": create_token(conn, "viewer", "viewer", None),
        }


@pytest.fixture
def api(scratch_url):
    with TestClient(create_app(Settings(database_url=scratch_url))) as c:
        yield c


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_imports_list_after_a_dry_run_and_an_applied_import(api, scratch, tokens, tmp_path):
    token_id, token = tokens["ca-mau"]
    row = ["CM-RUN-1", "Việc", "96", None, "31/12/2025"]
    path = write_xlsx(tmp_path / "nv.xlsx", HEADER, [row])
    upload = {"file": ("../tải lên/nhiệm_vụ_Cà_Mau.xlsx", path.read_bytes(), XLSX)}
    version0 = api.get("/api/v1/summary").json()["data_version"]
    dry = api.post("/api/v1/imports/tasks", params={"dry_run": "true"}, files=upload,
                   headers=bearer(token))  # fmt: skip
    assert dry.status_code == 200, dry.text
    applied = api.post("/api/v1/imports/tasks", files=upload, headers=bearer(token))
    assert applied.status_code == 200, applied.text

    r = api.get("/api/v1/imports", headers=bearer(token))
    assert r.status_code == 200, r.text
    body = r.json()
    ImportRuns.model_validate(body)
    newest, older = body["imports"][:2]
    assert newest["outcome"] == "imported" and newest["dry_run"] is False
    assert older["outcome"] == "dry_run" and older["dry_run"] is True
    assert newest["at"] >= older["at"] and newest["id"] > older["id"]
    for run in (newest, older):
        assert run["file"] == "nhiệm_vụ_Cà_Mau.xlsx"  # base name only, as stored
        assert (run["kind"], run["token_id"], run["token_name"]) == ("tasks", token_id, "ca-mau")
        assert run["actor"] == "token:ca-mau" and run["created"] == 1
        assert run["version_before"] == version0
    assert older["version_after"] is None
    assert newest["version_after"] == version0 + 1
    assert api.get("/api/v1/summary").json()["data_version"] == version0 + 1

    page = api.get("/api/v1/imports", params={"limit": 1, "offset": 1}, headers=bearer(token))
    assert [x["id"] for x in page.json()["imports"]] == [older["id"]]
    assert {link["rel"] for link in page.json()["links"]} >= {"self", "prev"}


def test_imports_list_needs_an_editor_or_admin_token(api, tokens):
    assert api.get("/api/v1/imports").status_code == 401
    viewer = api.get("/api/v1/imports", headers=bearer(tokens["viewer"][1]))
    assert viewer.status_code == 403
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"kind": "roads"}):
        r = api.get("/api/v1/imports", params=bad, headers=bearer(tokens["ca-mau"][1]))
        assert r.status_code in (400, 422), (bad, r.text)


def test_imports_list_is_scoped_like_writes(api, scratch, tokens, tmp_path):
    """A province-96 editor does not read province 40's runs, nor other tokens' names."""
    with scratch.begin() as conn:
        _, nghe_an = create_token(conn, "nghe-an", "editor", "province:40")
        _, central = create_token(conn, "central", "admin", None)
    for token, province, name in (
        (nghe_an, "40", "na.xlsx"),
        (tokens["ca-mau"][1], "96", "cm.xlsx"),
    ):
        path = write_xlsx(
            tmp_path / name, HEADER, [[f"RUN-{province}", "Việc", province, None, "31/12/2025"]]
        )
        r = api.post("/api/v1/imports/tasks", files={"file": (name, path.read_bytes(), XLSX)},
                     headers=bearer(token))  # fmt: skip
        assert r.status_code == 200, r.text
    # a national admin run that named a unit of 96 is the province's business too
    path = write_xlsx(tmp_path / "tw.xlsx", HEADER, [["RUN-TW", "Việc", "96", None, "31/12/2025"]])
    assert api.post("/api/v1/imports/tasks", files={"file": ("tw.xlsx", path.read_bytes(), XLSX)},
                    headers=bearer(central)).status_code == 200  # fmt: skip

    ca_mau = api.get("/api/v1/imports", headers=bearer(tokens["ca-mau"][1])).json()["imports"]
    files = {r["file"] for r in ca_mau}
    assert {"cm.xlsx", "tw.xlsx"} <= files and "na.xlsx" not in files
    assert all(f in ("cm.xlsx", "tw.xlsx") or f.endswith(" 96") for f in files), files
    by_file = {r["file"]: r for r in ca_mau}
    assert by_file["cm.xlsx"]["token_name"] == "ca-mau"  # its own
    assert (by_file["tw.xlsx"]["token_name"], by_file["tw.xlsx"]["actor"]) == (None, None)
    nghe = api.get("/api/v1/imports", headers=bearer(nghe_an)).json()["imports"]
    assert "na.xlsx" in {r["file"] for r in nghe}
    assert not {"cm.xlsx", "tw.xlsx"} & {r["file"] for r in nghe}
    admin = api.get("/api/v1/imports", headers=bearer(central)).json()["imports"]
    assert {"na.xlsx", "cm.xlsx", "tw.xlsx"} <= {r["file"] for r in admin}
    assert {r["token_name"] for r in admin} >= {"nghe-an", "ca-mau", "central"}
