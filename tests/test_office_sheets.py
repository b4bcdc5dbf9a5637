"""Sheets as offices write them (issue 22): their own task codes matched to the stored
tasks by natural key, every column accounted for, one report with every problem.

Fixtures are synthetic, in the shapes offices send (their own codes, commune + Plan 02
group, Vietnamese status words, a renamed header)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo.ingest.tasks import import_tasks
from geo.tokens import create_token
from tests.import_fixtures import rows, table_versions, write_csv, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFFICE_HEADER = [
    "STT", "Mã nhiệm vụ", "Mã xã", "Tên xã/phường", "Nhóm nhiệm vụ", "Tên nhiệm vụ",
    "Hạn hoàn thành", "Ngày hoàn thành", "Tình trạng",
]  # fmt: skip


def upload(path) -> dict:
    mime = XLSX if path.suffix == ".xlsx" else "text/csv"
    return {"file": (path.name, path.read_bytes(), mime)}


@pytest.fixture
def hanoi(scratch):
    """A Hà Nội editor's token, and 3 communes of Hà Nội with their 6 first group tasks."""
    with scratch.begin() as conn:
        _, token = create_token(conn, "so-khcn-ha-noi", "editor", "province:01")
    tasks = rows(
        scratch,
        "select t.external_id, t.unit_code, u.name, t.group_no, t.title, t.deadline,"
        " t.completed_at from task t join admin_unit u on u.code = t.unit_code"
        " where u.parent_code = '01' and t.program = 'KH02' and t.group_no <= 6"
        " and t.unit_code in (select code from admin_unit where parent_code = '01'"
        " order by code limit 3) order by t.unit_code, t.group_no",
    )
    assert len(tasks) == 18
    return {"auth": {"Authorization": f"Bearer {token}"}, "tasks": tasks}


@pytest.fixture
def api(scratch_url):
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        yield client


def office_rows(tasks, done_day="10/11/2025"):
    """The office's own codes (``HN-KH02-00004-01``), groups as numbers, status words."""
    out = []
    for i, t in enumerate(tasks, 1):
        done = t.completed_at.strftime("%d/%m/%Y") if t.completed_at else None
        if done is None and t.group_no == 1:
            done = done_day  # the office reports group 1 finished
        out.append([
            i, f"HN-KH02-{t.unit_code}-{t.group_no:02d}", t.unit_code, t.name, t.group_no,
            t.title, t.deadline.strftime("%d/%m/%Y"), done,
            "Đã hoàn thành" if done else "Đang thực hiện",
        ])  # fmt: skip
    return out


def kh02_duplicates(engine) -> int:
    return rows(
        engine,
        "select count(*) as n from (select unit_code, program, coalesce(phase, 1), group_no"
        " from task where program = 'KH02' group by 1, 2, 3, 4 having count(*) > 1) d",
    )[0].n


def test_an_office_sheet_with_its_own_codes_updates_the_stored_group_tasks(
    api, scratch, hanoi, tmp_path
):
    path = write_xlsx(tmp_path / "ha_noi_kh02.xlsx", OFFICE_HEADER, office_rows(hanoi["tasks"]))
    before_tasks = rows(scratch, "select count(*) as n from task")[0].n
    dry = api.post("/api/v1/imports/tasks?dry_run=true", files=upload(path), headers=hanoi["auth"])
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["created"] == 0  # not "Tạo mới 18"
    matches = body["matches"]
    assert len(matches) == 18
    assert {m["match"] for m in matches} == {"natural_key"}
    assert {m["label"] for m in matches} == {"khớp theo nhóm"}
    first = hanoi["tasks"][0]
    assert matches[0]["code"] == f"HN-KH02-{first.unit_code}-01"
    assert matches[0]["task"] == first.external_id  # the stored code is said
    applied = api.post("/api/v1/imports/tasks", files=upload(path), headers=hanoi["auth"])
    assert applied.status_code == 200, applied.text
    assert applied.json()["created"] == 0
    assert rows(scratch, "select count(*) as n from task")[0].n == before_tasks
    assert kh02_duplicates(scratch) == 0
    done = rows(
        scratch,
        "select completed_at from task where external_id = :e",
        e=first.external_id,
    )[0]
    assert done.completed_at is not None
    # the office's codes are kept: the next sheet matches by them
    again = api.post(
        "/api/v1/imports/tasks?dry_run=true", files=upload(path), headers=hanoi["auth"]
    ).json()
    assert {m["match"] for m in again["matches"]} == {"alias"}
    assert again["status"] == "dry_run" and again["updated"] == 0


def test_two_rows_for_one_group_are_errors_naming_both_codes(scratch, hanoi, tmp_path):
    data = office_rows(hanoi["tasks"][:2])
    twin = list(data[0])
    twin[1] = "HN-KH02-BAN-SAO"  # another code, the same commune and group
    path = write_csv(tmp_path / "trung.csv", OFFICE_HEADER, [*data, twin])
    before = table_versions(scratch)
    report = import_tasks(scratch, path, actor="cli:test")
    assert report.status == "rejected"
    errs = {p.row: p.reason for p in report.errors}
    assert set(errs) == {2, 4}
    for reason in errs.values():
        assert data[0][1] in reason and "HN-KH02-BAN-SAO" in reason
        assert "nhóm 1" in reason
    assert table_versions(scratch) == before


def test_a_new_task_like_a_stored_one_is_a_warning_and_a_same_title_a_suggestion(scratch, tmp_path):
    stored = rows(
        scratch,
        "select external_id, title from task where unit_code = '40' and program = 'NQ57'"
        " order by id limit 2",
    )
    header = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành"]
    near = stored[1].title[:-1] + ("x" if stored[1].title[-1] != "x" else "y")
    path = write_csv(
        tmp_path / "na.csv",
        header,
        [["NA-MOI-1", stored[0].title, "40", "31/12/2025"], ["NA-MOI-2", near, "40", "31/12/2025"]],
    )
    report = import_tasks(scratch, path, actor="cli:test", dry_run=True)
    assert report.status == "dry_run" and report.created == 2
    assert report.matches[0]["match"] == "new"
    assert report.matches[0]["suggestion"] == stored[0].external_id
    pairs = {(w.code, w.expected) for w in report.warnings}
    assert ("NA-MOI-1", stored[0].external_id) in pairs
    assert ("NA-MOI-2", stored[1].external_id) in pairs
    assert all("giống nhiệm vụ đã có" in w.reason for w in report.warnings)


def test_a_renamed_deadline_header_is_reported_in_json_and_cli_and_mapped_on_request(
    api, scratch, scratch_url, hanoi, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from iocmap.cli import app

    header = ["Mã nhiệm vụ", "Mã xã", "Nhóm nhiệm vụ", "Ngày phải xong", "Ghi chú"]
    data = [
        [t.external_id, t.unit_code, t.group_no, "20/12/2026", "đã rà soát"]
        for t in hanoi["tasks"][:4]
    ]
    path = write_csv(tmp_path / "doi_han.csv", header, data)
    before = table_versions(scratch)
    body = api.post(
        "/api/v1/imports/tasks?dry_run=true", files=upload(path), headers=hanoi["auth"]
    ).json()
    cols = {c["header"]: c for c in body["columns"]}
    assert cols["Mã nhiệm vụ"]["status"] == "used" and cols["Mã nhiệm vụ"]["field"] == "external_id"
    renamed = cols["Ngày phải xong"]
    assert (renamed["status"], renamed["likely"], renamed["warn"]) == ("ignored", "deadline", True)
    assert cols["Ghi chú"]["status"] == "ignored" and not cols["Ghi chú"]["warn"]
    first = body["warnings"][0]  # at the top of the dry run
    assert first["field"] == "Ngày phải xong" and first["expected"] == "deadline"
    assert "Ngày phải xong" in first["reason"] and "Hạn hoàn thành" in first["reason"]
    assert body["unchanged"] == 4 and body["updated"] == 0
    # the CLI says the same
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    result = CliRunner().invoke(app, ["import", "tasks", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "Ngày phải xong" in x and "ignored" in x)
    assert "looks like deadline" in line
    assert table_versions(scratch) == before
    # mapped: the deadlines go in (API columns=, CLI --column)
    mapped = api.post(
        "/api/v1/imports/tasks",
        params={"columns": '{"Ngày phải xong": "deadline", "Ghi chú": ""}'},
        files=upload(path),
        headers=hanoi["auth"],
    ).json()
    assert mapped["updated"] == 4 and mapped["warnings"] == []
    cols = {c["header"]: c for c in mapped["columns"]}
    assert cols["Ngày phải xong"]["by"] == "mapping" and cols["Ghi chú"]["confirmed"]
    # the same mapping as a multipart form field (how the page sends a long saved mapping)
    form = api.post(
        "/api/v1/imports/tasks?dry_run=true",
        data={"columns": '{"Ngày phải xong": "deadline"}'},
        files=upload(path),
        headers=hanoi["auth"],
    ).json()
    assert form["warnings"] == [] and form["unchanged"] == 4  # already applied above
    result = CliRunner().invoke(
        app, ["import", "tasks", str(path), "--dry-run", "--column", "Ngày phải xong=deadline"]
    )
    assert result.exit_code == 0 and "deadline (mapped)" in result.output
    bad = api.post(
        "/api/v1/imports/tasks",
        params={"columns": '{"Ngày phải xong": "han_chot"}'},
        files=upload(path),
        headers=hanoi["auth"],
    )
    assert bad.status_code == 422 and "han_chot" in bad.json()["detail"]


def test_date_errors_and_rows_of_another_province_are_one_vietnamese_report(
    api, scratch, hanoi, tmp_path
):
    """Acceptance (issue 22): 3 date errors and 2 rows of another province → one report
    listing all 5 rows, in Vietnamese, each with its value and what is expected; nothing
    is written."""
    good = office_rows(hanoi["tasks"][:3])
    bad_dates = office_rows(hanoi["tasks"][3:6])
    for r, day in zip(bad_dates, ("31/02/2025", "12/31/2025", "hôm qua"), strict=True):
        r[6] = day
    ca_mau = rows(
        scratch,
        "select t.external_id, t.unit_code, t.group_no from task t join admin_unit u"
        " on u.code = t.unit_code where u.parent_code = '96' and t.program = 'KH02'"
        " order by t.id limit 2",
    )
    foreign = [
        [9, f"CM-{t.unit_code}-{t.group_no}", t.unit_code, "", t.group_no, "Nhiệm vụ",
         "31/12/2025", None, "Đang thực hiện"]
        for t in ca_mau
    ]  # fmt: skip
    path = write_xlsx(tmp_path / "hon_hop.xlsx", OFFICE_HEADER, [*good, *bad_dates, *foreign])
    before = table_versions(scratch)
    r = api.post("/api/v1/imports/tasks", files=upload(path), headers=hanoi["auth"])
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert sorted({e["row"] for e in errors}) == [5, 6, 7, 8, 9]
    by_row = {e["row"]: e for e in errors}
    feb = by_row[5]
    assert (feb["field"], feb["value"]) == ("Hạn hoàn thành", "31/02/2025")
    assert "không phải là ngày có thật" in feb["reason"]
    assert "31/12/2025" in feb["expected"] and "ngày/tháng/năm" in feb["expected"]
    assert "tháng/ngày/năm" in by_row[6]["reason"] and by_row[7]["value"] == "hôm qua"
    for row in (8, 9):
        assert "ngoài phạm vi" in by_row[row]["reason"]
        assert by_row[row]["value"] == ca_mau[row - 8].unit_code
    assert all(e["reason"] and e["expected"] for e in errors)
    assert table_versions(scratch) == before
    en = api.post("/api/v1/imports/tasks?lang=en", files=upload(path), headers=hanoi["auth"])
    assert "is not a valid date" in {e["row"]: e for e in en.json()["errors"]}[5]["reason"]


def test_moving_a_task_to_another_unit_needs_the_option_on_the_cli_too(
    scratch, scratch_url, tmp_path, monkeypatch
):
    """An admin's CLI import no longer moves a Hà Nội task to Hải Phòng silently."""
    from typer.testing import CliRunner

    from iocmap.cli import app

    [t] = rows(
        scratch,
        "select external_id from task where unit_code = '01' and program = 'NQ57' limit 1",
    )
    path = write_csv(tmp_path / "chuyen.csv", ["Mã nhiệm vụ", "Mã tỉnh"], [[t.external_id, "31"]])
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    before = table_versions(scratch)
    result = CliRunner().invoke(app, ["import", "tasks", str(path), "--json"])
    assert result.exit_code == 1
    assert "cho phép chuyển đơn vị" in result.output
    assert table_versions(scratch) == before
    result = CliRunner().invoke(app, ["import", "tasks", str(path), "--json", "--move-units"])
    assert result.exit_code == 0, result.output
    assert "chuyển từ đơn vị 01 sang đơn vị 31" in result.output  # listed per row
    moved = rows(scratch, "select unit_code from task where external_id = :e", e=t.external_id)
    assert moved[0].unit_code == "31"


def test_changing_a_group_to_one_the_commune_already_holds_is_an_error(scratch, hanoi, tmp_path):
    a, b = hanoi["tasks"][0], hanoi["tasks"][1]  # groups 1 and 2 of one commune
    path = write_csv(
        tmp_path / "doi_nhom.csv", ["Mã nhiệm vụ", "Nhóm nhiệm vụ"], [[a.external_id, b.group_no]]
    )
    before = table_versions(scratch)
    report = import_tasks(scratch, path, actor="cli:test")
    assert report.status == "rejected"
    [err] = report.errors
    assert a.external_id in err.reason and b.external_id in err.reason
    assert table_versions(scratch) == before


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"columns": "not json"}, "columns"),
        ({"columns": "[1, 2]"}, "columns"),
        ({"columns": '{"Hạn": {"x": 1}}'}, "columns"),
        ({"columns": "{" + ",".join(f'"h{i}": "title"' for i in range(400)) + "}"}, "columns"),
        ({"lang": "fr"}, "lang"),
    ],
)
def test_bad_report_options_are_a_422_naming_the_parameter(
    api, scratch, hanoi, tmp_path, params, named
):
    path = write_csv(tmp_path / "x.csv", ["Mã nhiệm vụ"], [["X"]])
    before = table_versions(scratch)
    r = api.post("/api/v1/imports/tasks", params=params, files=upload(path), headers=hanoi["auth"])
    assert r.status_code in (400, 422), r.text  # 400: over the query-string guard
    assert named in r.text
    assert table_versions(scratch) == before
