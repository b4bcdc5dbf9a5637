"""Issue 28, items 1–3: every upload kept, every change traceable to a row, every figure
opens its rows.

Against the demo database (a private copy per test): uploads through the API are read back
byte for byte, refused ones too; another province's editor is refused the file; the app role
cannot change kept files or indicator history; ``explain`` returns exactly the rows of the
figure the summary and the unit pages show, on two as-of dates; and after two imports every
task of a province traces to a kept file whose row, parsed again, is that task.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.settings import Settings
from geo.ingest.sheets import read_sheet
from geo.roles import _libpq
from geo.tokens import create_token
from tests.import_fixtures import write_csv, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TASKS = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Mã xã", "Hạn hoàn thành", "Ngày hoàn thành"]
ADMIN = "sources-admin-token"


@pytest.fixture
def tokens(scratch):
    with scratch.begin() as conn:
        return {
            "ca-mau": create_token(conn, "ca-mau", "editor", "province:96")[1],
            "nghe-an": create_token(conn, "nghe-an", "editor", "province:40")[1],
            "viewer": create_token(conn, "viewer", "viewer", None)[1],
        }


@pytest.fixture
def api(scratch_url, tmp_path):
    settings = Settings(database_url=scratch_url, admin_token=ADMIN, var_dir=str(tmp_path / "v"))
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _ddmmyyyy(day: dt.date | None) -> str | None:
    return None if day is None else f"{day:%d/%m/%Y}"


def test_an_upload_is_kept_and_read_back_only_within_its_scope(api, scratch, tokens, tmp_path):
    path = write_xlsx(
        tmp_path / "s.xlsx", TASKS, [["SRC-1", "Số hoá hồ sơ", "96", None, "31/12/2026", None]]
    )
    data = path.read_bytes()
    name = "Báo cáo tiến độ Cà Mau.xlsx"
    r = api.post(
        "/api/v1/imports/tasks", headers=bearer(tokens["ca-mau"]),
        files={"file": (name, data, XLSX)},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    import_id = r.json()["import_id"]
    assert isinstance(import_id, int)
    assert r.json()["file_sha256"] == hashlib.sha256(data).hexdigest()

    got = api.get(f"/api/v1/imports/{import_id}/file", headers=bearer(tokens["ca-mau"]))
    assert got.status_code == 200, got.text
    assert got.content == data
    assert got.headers["x-content-sha256"] == hashlib.sha256(got.content).hexdigest()
    disposition = got.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert 'filename="Bao cao tien do Ca Mau.xlsx"' in disposition  # the ASCII fallback

    assert api.get(f"/api/v1/imports/{import_id}/file", headers=bearer(ADMIN)).content == data
    other = api.get(f"/api/v1/imports/{import_id}/file", headers=bearer(tokens["nghe-an"]))
    assert other.status_code == 403 and "scope" in other.json()["detail"]
    viewer = api.get(f"/api/v1/imports/{import_id}/file", headers=bearer(tokens["viewer"]))
    assert viewer.status_code == 403
    assert api.get(f"/api/v1/imports/{import_id}/file").status_code == 401
    assert api.get("/api/v1/imports/999999/file", headers=bearer(ADMIN)).status_code == 404

    # the task's create event traces to that run and row 2 (the header is row 1)
    with scratch.connect() as conn:
        event = conn.execute(
            text(
                "select e.import_run_id, e.source_row from task_event e join task t"
                " on t.id = e.task_id where t.external_id = 'SRC-1'"
            )
        ).one()
    assert tuple(event) == (import_id, 2)

    # a dry run is kept and logged too; the same bytes are stored once
    dry = api.post(
        "/api/v1/imports/tasks?dry_run=true", headers=bearer(tokens["ca-mau"]),
        files={"file": (name, data, XLSX)},
    )  # fmt: skip
    assert dry.status_code == 200 and dry.json()["import_id"] > import_id
    with scratch.connect() as conn:
        assert conn.execute(text("select count(*) from import_file")).scalar() == 1


def test_refused_and_rejected_uploads_are_kept(api, scratch, tokens, tmp_path):
    junk = b"PK\x03\x04 this is not a workbook at all"
    r = api.post(
        "/api/v1/imports/tasks", headers=bearer(tokens["ca-mau"]),
        files={"file": ("hỏng.xlsx", junk, XLSX)},
    )  # fmt: skip
    assert 400 <= r.status_code < 500, r.text
    refused = r.json()["import_id"]
    got = api.get(f"/api/v1/imports/{refused}/file", headers=bearer(ADMIN))
    assert got.status_code == 200 and got.content == junk
    assert got.headers["x-content-sha256"] == hashlib.sha256(junk).hexdigest()
    # refused before any unit was read: only its sender (or an admin) may read it back
    assert (
        api.get(f"/api/v1/imports/{refused}/file", headers=bearer(tokens["ca-mau"])).status_code
        == 200
    )
    assert (
        api.get(f"/api/v1/imports/{refused}/file", headers=bearer(tokens["nghe-an"])).status_code
        == 403
    )

    bad_row = ["SRC-BAD", "Việc", "96", None, "31/02/2026", None]
    bad = write_csv(tmp_path / "bad.csv", TASKS, [bad_row])
    r = api.post(
        "/api/v1/imports/tasks", headers=bearer(tokens["ca-mau"]),
        files={"file": ("bad.csv", bad.read_bytes(), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 422, r.text
    rejected = r.json()["import_id"]
    assert r.json()["report"]["import_id"] == rejected
    assert api.get(f"/api/v1/imports/{rejected}/file", headers=bearer(ADMIN)).content == (
        bad.read_bytes()
    )
    with scratch.connect() as conn:
        outcomes = dict(
            conn.execute(
                text("select id, outcome from import_run where id = any(:i)"),
                {"i": [refused, rejected]},
            ).all()
        )
    assert outcomes == {refused: "refused", rejected: "rejected"}


def test_the_app_role_cannot_change_kept_files_or_indicator_history(api, scratch_url, tmp_path):
    path = write_csv(tmp_path / "x.csv", TASKS, [["SRC-R", "Việc", "96", None, "31/12/2026", None]])
    r = api.post(
        "/api/v1/imports/tasks", headers=bearer(ADMIN),
        files={"file": ("x.csv", path.read_bytes(), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    app_url = _libpq(Settings(database_url=scratch_url).app_url())
    with psycopg.connect(app_url, autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "iocmap_app"
        assert conn.execute("select count(*) from indicator_value_event").fetchone()[0] > 0
        for statement in (
            "update import_file set bytes = 'x'::bytea, size = 1",
            "delete from import_file",
            "truncate import_file",
            "update indicator_value_event set value = 0",
            "delete from indicator_value_event",
            "truncate indicator_value_event",
        ):
            for hatch in (False, True):
                with pytest.raises(psycopg.Error), conn.transaction():
                    if hatch:
                        conn.execute("set local iocmap.allow_history_reset = 'on'")
                    conn.execute(statement)
        assert conn.execute("select count(*) from import_file").fetchone()[0] == 1


def _explain_all(api, **params) -> tuple[int, list[dict]]:
    """Every page of an explain answer: (value, items)."""
    items: list[dict] = []
    offset = 0
    while True:
        r = api.get("/api/v1/explain", params={**params, "limit": 1000, "offset": offset})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["value"] == body["numberMatched"]
        items += body["items"]
        offset += 1000
        if offset >= body["numberMatched"]:
            return body["value"], items


@pytest.mark.parametrize("as_of", ["2025-06-30", "2025-11-13"])
def test_explain_rows_are_the_published_figures(api, scratch, as_of):
    summary = api.get("/api/v1/summary", params={"as_of": as_of}).json()
    with scratch.connect() as conn:
        commune = conn.execute(
            text(
                "select unit_code from task t join admin_unit u on u.code = t.unit_code"
                " where u.level = 'commune' and t.program = 'KH02'"
                " group by 1 order by count(*) desc limit 1"
            )
        ).scalar_one()
    province = api.get("/api/v1/provinces/40", params={"as_of": as_of}).json()["properties"]
    commune_p = api.get(f"/api/v1/communes/{commune}", params={"as_of": as_of}).json()
    commune_p = commune_p["properties"]
    agency = api.get("/api/v1/agencies/BKHCN", params={"as_of": as_of}).json()["figures"]
    cases = [("national", summary), ("40", province), (commune, commune_p), ("BKHCN", agency)]
    for unit, shown in cases:
        for measure in ("tasks_completed", "tasks_overdue", "tasks_total"):
            value, items = _explain_all(api, measure=measure, unit=unit, as_of=as_of)
            assert value == shown[measure] == len(items), (unit, measure)
            assert len({i["id"] for i in items}) == len(items)
            wanted = {
                "tasks_completed": {"completed", "completed_late"},
                "tasks_overdue": {"overdue"},
                "tasks_total": {"completed", "completed_late", "overdue", "on_time"},
            }[measure]
            assert {i["status"] for i in items} <= wanted
            assert all(set(i["source"]) == {"import_id", "file", "sha256", "row"} for i in items)
    assert summary["tasks_completed"] > 0


def test_explain_refuses_what_it_cannot_answer(api):
    def status(**params) -> int:
        return api.get("/api/v1/explain", params=params).status_code

    assert status(measure="tasks_total", unit="99") == 404
    assert status(measure="tasks_x", unit="40") == 422
    r = api.get("/api/v1/explain", params={"measure": "indicator", "unit": "40"})
    assert r.status_code == 422 and "code" in r.text


def test_an_indicator_value_keeps_its_history_and_sources(api, scratch, tmp_path):
    with scratch.connect() as conn:
        code, period = conn.execute(
            text(
                "select v.indicator_code, v.period from indicator_value v"
                " join indicator i on i.code = v.indicator_code"
                " where v.unit_code = '40' and i.level = 'province' order by 1, 2 desc limit 1"
            )
        ).one()
    runs = []
    for value in ("41,5", "42,25"):
        sheet = write_xlsx(
            tmp_path / f"chi_so_{len(runs)}.xlsx",
            ["Mã tỉnh", "Kỳ", code],
            [["96", period, "7"], ["40", period, value]],
        )
        r = api.post(
            "/api/v1/imports/indicators", headers=bearer(ADMIN),
            files={"file": (sheet.name, sheet.read_bytes(), XLSX)},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        runs.append(r.json()["import_id"])
    r = api.get(
        "/api/v1/explain",
        params={"measure": "indicator", "code": code, "unit": "40", "period": period},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["value"] == 42.25 and body["items"][0]["source"]["import_id"] == runs[1]
    assert body["items"][0]["source"]["row"] == 3
    sets = [h for h in body["history"] if h["source"]["import_id"] in runs]
    assert [h["value"] for h in sets] == [41.5, 42.25]
    today = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    assert (
        api.get(
            "/api/v1/explain",
            params={"measure": "indicator", "code": code, "unit": "40", "period": period,
                    "as_of": today.isoformat()},
        ).json()["value"]
        == 42.25
    )  # fmt: skip
    # before any value was stored there is nothing to show
    r = api.get(
        "/api/v1/explain",
        params={"measure": "indicator", "code": code, "unit": "40", "period": period,
                "as_of": "2000-01-01"},
    )  # fmt: skip
    assert r.status_code == 404
    with scratch.connect() as conn:
        stored = conn.execute(
            text(
                "select value, import_run_id, source_row from indicator_value"
                " where indicator_code = :c and unit_code = '40' and period = :p"
            ),
            {"c": code, "p": period},
        ).one()
    assert tuple(stored) == (42.25, runs[1], 3)


def test_every_task_of_a_province_traces_to_a_kept_row_after_two_imports(
    api, scratch, tokens, tmp_path
):
    with scratch.connect() as conn:
        tasks = conn.execute(
            text(
                "select external_id, title, deadline, completed_at from task"
                " where unit_code = '96' order by external_id"
            )
        ).all()
    assert len(tasks) > 10
    first = [[t.external_id, t.title + " (rà soát)", "96", None, _ddmmyyyy(t.deadline),
              _ddmmyyyy(t.completed_at)] for t in tasks]  # fmt: skip
    # the second report: half the open tasks done on 10/11/2025
    second = []
    for t in tasks[::2]:
        done = t.completed_at or dt.date(2025, 11, 10)
        second.append([t.external_id, t.title + " (rà soát)", "96", None,
                       _ddmmyyyy(t.deadline), _ddmmyyyy(done)])  # fmt: skip
    ids = []
    for n, rows in enumerate((first, second), 1):
        path = write_xlsx(tmp_path / f"bao_cao_{n}.xlsx", TASKS, rows)
        r = api.post(
            "/api/v1/imports/tasks", headers=bearer(tokens["ca-mau"]),
            files={"file": (f"Báo cáo lần {n}.xlsx", path.read_bytes(), XLSX)},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        ids.append(r.json()["import_id"])

    value, items = _explain_all(api, measure="tasks_total", unit="96")
    assert value == len(tasks)
    files: dict[int, dict[int, dict]] = {}
    with scratch.connect() as conn:
        completed = dict(
            conn.execute(
                text("select external_id, completed_at from task where unit_code = '96'")
            ).all()
        )
    for item in items:
        src = item["source"]
        assert src["import_id"] in ids, item
        if src["import_id"] not in files:
            got = api.get(f"/api/v1/imports/{src['import_id']}/file", headers=bearer(ADMIN))
            assert hashlib.sha256(got.content).hexdigest() == src["sha256"]
            kept = tmp_path / f"kept-{src['import_id']}.xlsx"
            kept.write_bytes(got.content)
            sheet = read_sheet(Path(kept), TASKS)
            files[src["import_id"]] = {n: cells for n, cells in sheet.rows}
        row = files[src["import_id"]][src["row"]]
        assert row["Mã nhiệm vụ"] == item["external_id"]
        done = row["Ngày hoàn thành"]
        if isinstance(done, dt.datetime):
            done = done.date()
        elif isinstance(done, str):
            done = dt.datetime.strptime(done, "%d/%m/%Y").date()
        assert done == completed[item["external_id"]], item
    assert set(files) == set(ids)


def _cli(url: str, *args: str):
    from typer.testing import CliRunner

    from iocmap.cli import app as cli

    return CliRunner().invoke(cli, ["import", *args], env={"IOCMAP_DATABASE_URL": url})


def test_command_line_imports_keep_their_file_and_the_owner_prunes_old_ones(
    scratch, scratch_url, tmp_path
):
    path = write_csv(
        tmp_path / "dong.csv", TASKS, [["SRC-CLI", "Việc", "96", None, "31/12/2026", None]]
    )
    result = _cli(scratch_url, "tasks", str(path))
    assert result.exit_code == 0, result.output
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with scratch.connect() as conn:
        run = conn.execute(
            text("select id, file_sha256 from import_run order by id desc limit 1")
        ).one()
        kept = conn.execute(text("select bytes from import_file where sha256 = :s"), {"s": sha})
        assert run.file_sha256 == sha and bytes(kept.scalar_one()) == path.read_bytes()
    # an old file (inserted by the owner with its time) goes; the recent one stays
    old = b"a sheet from long ago"
    old_sha = hashlib.sha256(old).hexdigest()
    with scratch.begin() as conn:
        conn.execute(
            text(
                "insert into import_file (sha256, bytes, size, at)"
                " values (:s, :b, :n, now() - interval '400 days')"
            ),
            {"s": old_sha, "b": old, "n": len(old)},
        )
    result = _cli(scratch_url, "prune-files", "--keep-days", "365")
    assert result.exit_code == 0 and "removed 1 file(s)" in result.output, result.output
    with scratch.connect() as conn:
        assert set(conn.execute(text("select sha256 from import_file")).scalars()) == {sha}
