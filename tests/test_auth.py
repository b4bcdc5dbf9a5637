"""Who may change what: scoped tokens, object-level checks on every write path, the audit
trail, token-only reading, and hostile parameters."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from geo.tokens import create_token, revoke_token
from iocmap.cli import app as cli
from tests.import_fixtures import rows, table_versions, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Mã xã", "Hạn hoàn thành", "Ngày hoàn thành"]


def client_for(url: str, **settings) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, **settings)))


def sheet(tmp_path, data, name="nhiem_vu.xlsx"):
    path = write_xlsx(tmp_path / name, HEADER, data)
    return {"file": (path.name, path.read_bytes(), XLSX)}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(scratch):
    """Tokens made the way an operator does: geo.tokens (the CLI is tested below)."""
    made = {}
    with scratch.begin() as conn:
        for name, role, scope in [
            ("ca-mau", "editor", "province:96"),
            ("xa-phu-quoc", "editor", "commune:31078"),
            ("viewer", "viewer", None),
            ("central", "admin", None),
        ]:
            made[name] = create_token(conn, name, role, scope)
    return made


@pytest.fixture
def api(scratch_url):
    with client_for(scratch_url) as c:
        yield c


def test_ca_mau_editor_cannot_write_a_nghe_an_task_and_nothing_changes(
    api, scratch, tokens, tmp_path
):
    before = table_versions(scratch)
    files = sheet(
        tmp_path,
        [
            ["CM-NEW-1", "Nhiệm vụ Cà Mau", "96", "", "31/12/2025", ""],
            ["NA-NEW-1", "Nhiệm vụ Nghệ An", "40", "", "31/12/2025", ""],
        ],
    )
    r = api.post("/api/v1/imports/tasks", files=files, headers=bearer(tokens["ca-mau"][1]))
    # a row of another province is a row error like any other (issue 22): listed with its
    # row, value and reason, in Vietnamese; the sheet's own rows are not written either
    assert r.status_code == 422, r.text
    [err] = r.json()["errors"]
    assert (err["row"], err["code"], err["value"]) == (3, "NA-NEW-1", "40")
    assert "ngoài phạm vi" in err["reason"] and "ca-mau" in err["reason"]
    assert table_versions(scratch) == before


def test_editor_cannot_touch_an_existing_task_of_another_province(api, scratch, tokens, tmp_path):
    """Re-assigning Nghệ An's task to Cà Mau is a write to Nghệ An: refused."""
    before = table_versions(scratch)
    files = sheet(tmp_path, [["NQ57-40-0001", "Chuyển sang Cà Mau", "96", "", "", ""]])
    r = api.post("/api/v1/imports/tasks", files=files, headers=bearer(tokens["ca-mau"][1]))
    assert r.status_code == 422
    reasons = " ".join(e["reason"] for e in r.json()["errors"])
    assert "ngoài phạm vi" in reasons and "40" in reasons  # Nghệ An's task: not this token's
    assert "cho phép chuyển đơn vị" in reasons  # and a move needs the explicit option
    r = api.post(
        "/api/v1/imports/tasks?move_units=true", files=files, headers=bearer(tokens["ca-mau"][1])
    )
    assert r.status_code == 422 and "ngoài phạm vi" in r.text  # the option is no bypass
    assert table_versions(scratch) == before


def test_editor_writes_own_province_and_its_communes_and_history_names_the_token(
    api, scratch, tokens, tmp_path
):
    commune_task = rows(
        scratch,
        "select t.external_id, t.unit_code from task t join admin_unit u on u.code = t.unit_code"
        " where u.parent_code = '96' and t.completed_at is null order by 1 limit 1",
    )[0]
    files = sheet(
        tmp_path,
        [
            ["CM-NEW-2", "Nhiệm vụ mới của tỉnh", "96", "", "31/12/2025", ""],
            [commune_task.external_id, "", "96", commune_task.unit_code, "", "10/11/2025"],
        ],
    )
    token_id, token = tokens["ca-mau"]
    r = api.post("/api/v1/imports/tasks", files=files, headers=bearer(token))
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (1, 1)
    events = rows(
        scratch,
        "select e.actor, e.token_id, e.source, e.action, e.old, e.new from task_event e"
        " join task t on t.id = e.task_id where t.external_id = :x order by e.id desc limit 1",
        x=commune_task.external_id,
    )
    ev = events[0]
    assert (ev.actor, ev.token_id, ev.source, ev.action) == (
        "token:ca-mau",
        token_id,
        "nhiem_vu.xlsx",
        "update",
    )
    assert ev.old == {"completed_at": None} and ev.new == {"completed_at": "2025-11-10"}
    history = api.get(f"/api/v1/units/{commune_task.unit_code}/history").json()
    assert history["events"][0]["actor"] == "token:ca-mau"


def test_commune_scoped_editor_is_limited_to_its_commune(api, scratch, tokens, tmp_path):
    own = sheet(tmp_path, [["PQ-1", "Việc của Phú Quốc", "91", "31078", "31/12/2025", ""]])
    r = api.post("/api/v1/imports/tasks", files=own, headers=bearer(tokens["xa-phu-quoc"][1]))
    assert r.status_code == 200, r.text
    province = sheet(tmp_path, [["AG-1", "Việc của tỉnh", "91", "", "31/12/2025", ""]], "b.xlsx")
    r = api.post("/api/v1/imports/tasks", files=province, headers=bearer(tokens["xa-phu-quoc"][1]))
    assert r.status_code == 403


@pytest.mark.parametrize("kind", ["boundaries", "indicators"])
def test_national_data_needs_an_admin(api, tokens, tmp_path, kind):
    files = sheet(tmp_path, [["X", "Y", "96", "", "31/12/2025", ""]])
    params = {"level": "province"} if kind == "boundaries" else {}
    for name in ("ca-mau", "viewer"):
        r = api.post(
            f"/api/v1/imports/{kind}", params=params, files=files, headers=bearer(tokens[name][1])
        )
        assert r.status_code == 403, (name, r.text)


def test_viewer_and_revoked_tokens_cannot_write(api, scratch, tokens, tmp_path):
    files = sheet(tmp_path, [["CM-NEW-3", "Nhiệm vụ", "96", "", "31/12/2025", ""]])
    r = api.post("/api/v1/imports/tasks", files=files, headers=bearer(tokens["viewer"][1]))
    assert r.status_code == 403
    with scratch.begin() as conn:
        assert revoke_token(conn, tokens["ca-mau"][0])
    r = api.post("/api/v1/imports/tasks", files=files, headers=bearer(tokens["ca-mau"][1]))
    assert r.status_code == 401


def test_tokens_are_stored_hashed(scratch, tokens):
    stored = rows(scratch, "select token_hash, token_prefix from api_token")
    plain = {t for _, t in tokens.values()}
    assert all(r.token_hash not in plain and len(r.token_hash) == 64 for r in stored)


def test_history_is_append_only(scratch):
    with pytest.raises(DBAPIError, match="append-only"), scratch.begin() as conn:
        conn.execute(text("update task_event set actor = 'forged' where id = 1"))
    with pytest.raises(DBAPIError, match="append-only"), scratch.begin() as conn:
        conn.execute(text("delete from task_event where id = 1"))
    with pytest.raises(DBAPIError, match="has history"), scratch.begin() as conn:
        conn.execute(text("delete from task where external_id = 'NQ57-96-0001'"))


def test_token_cli_create_list_revoke(scratch_url, monkeypatch):
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    runner = CliRunner()
    out = runner.invoke(cli, ["token", "create", "--name", "so-khcn", "--scope", "province:96"])
    assert out.exit_code == 0, out.output
    token = out.output.strip().splitlines()[-1]
    assert token.startswith("iocm_")
    listed = runner.invoke(cli, ["token", "list"]).output
    assert "so-khcn" in listed and token not in listed
    bad = runner.invoke(cli, ["token", "create", "--name", "x", "--scope", "province:99"])
    assert bad.exit_code == 2 and "unknown province code 99" in bad.output
    with client_for(scratch_url) as c:
        who = c.post("/api/v1/imports/tasks", headers=bearer(token))
        assert who.status_code != 401  # authenticated (then fails for the missing file)


def test_reading_can_be_configured_to_need_a_token(scratch_url, tokens):
    with client_for(scratch_url, read_requires_token=True) as c:
        assert c.get("/api/v1/provinces").status_code == 401
        assert c.get("/api/v1/summary", headers=bearer("nope")).status_code == 401
        assert c.get("/api/v1/summary", headers=bearer(tokens["viewer"][1])).status_code == 200
        assert c.get("/healthz").status_code == 200


INJECTIONS = ["' or 1=1 --", "96'; drop table task; --", '"; select pg_sleep(5); --', "\\x00"]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_payloads_in_parameters_are_inert(api, scratch, payload):
    before = table_versions(scratch)
    for path, params in [
        ("/api/v1/search", {"q": payload}),
        ("/api/v1/communes", {"q": payload}),
        ("/api/v1/communes", {"province": payload}),
        ("/api/v1/rankings", {"indicator": payload}),
        ("/api/v1/provinces", {"as_of": payload}),
        (f"/api/v1/communes/{payload}", {}),
        (f"/api/v1/units/{payload}/tasks", {}),
        ("/ogc/collections/communes/items", {"name": payload}),
    ]:
        r = api.get(path, params=params)
        assert r.status_code < 500, (path, params, r.status_code, r.text)
        if r.status_code == 200 and "q" in params:
            body = r.json()
            found = body.get("results", body.get("features", []))
            assert found == [], (path, "an injection must not match everything")
    assert table_versions(scratch) == before


def test_hostile_zip_archives_are_refused_naming_the_member(scratch, tmp_path):
    import zipfile

    from geo.errors import BadInput
    from geo.ingest.boundaries import import_boundaries

    before = table_versions(scratch)
    traversal = tmp_path / "traversal.zip"
    with zipfile.ZipFile(traversal, "w") as zf:
        zf.writestr("../../etc/xa.shp", b"x")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xa.dbf", b"\0" * (100 << 20))
    with pytest.raises(BadInput, match=r"'\.\./\.\./etc/xa\.shp' points outside"):
        import_boundaries(scratch, traversal, "commune")
    with pytest.raises(BadInput, match=r"'xa\.dbf' expands \d+×"):
        import_boundaries(scratch, bomb, "commune")
    assert table_versions(scratch) == before
