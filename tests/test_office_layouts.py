"""Office sheets as offices lay them out (issue 29): a title block with the report date, a
two-row header with merged cells, an id column with its owner in brackets, long reason and
proposal headers, tasks done without a date, the office's own status words.

Fixtures are built here with openpyxl (merged cells with ``ws.merge_cells``); the three
real-shaped sheets of ``../shared/office-sheets`` are tried too when that folder exists."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo.errors import BadInput
from geo.ingest.sheets import list_key, map_headers, read_sheet
from geo.ingest.task_cells import ALIASES
from geo.ingest.tasks import import_tasks
from tests.import_fixtures import rows

SHARED = next(  # beside the checkout, else the machine's shared folder (a clone elsewhere)
    (
        p
        for p in (
            Path(__file__).resolve().parents[1].parent / "shared" / "office-sheets",
            Path("/work/shared/office-sheets"),
        )
        if p.is_dir()
    ),
    Path(__file__).resolve().parents[1].parent / "shared" / "office-sheets",
)


@pytest.fixture
def api(scratch_url):
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        yield client


def _kh02(engine, province: str, n: int):
    """The first ``n`` Plan 02 tasks (groups ≤ 8) of the first communes of a province."""
    return rows(
        engine,
        "select t.external_id, t.unit_code, u.name, t.group_no, t.title, t.deadline,"
        " t.completed_at, t.start_date from task t join admin_unit u on u.code = t.unit_code"
        " where u.parent_code = :p and t.program = 'KH02' and t.group_no <= 8"
        " and coalesce(t.phase, 1) = 1 order by t.unit_code, t.group_no limit :n",
        p=province,
        n=n,
    )


def merged_workbook(path: Path, tasks, report_day: str = "13/11/2025") -> Path:
    """A Sở KH&CN summary: a title block of merged rows with the report date, then a
    two-row header with merged cells ("Đơn vị" over "Mã xã" / "Tên xã/phường", "Thời gian"
    over "Hạn hoàn thành" / "Ngày hoàn thành", "Kết quả" over "Tình trạng" / "Sản phẩm"),
    the id column "Mã NV (Sở)", commune codes as Excel numbers, groups as "Nhóm 3"."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["UBND TỈNH NGHỆ AN"])
    ws.append(["SỞ KHOA HỌC VÀ CÔNG NGHỆ"])
    ws.append(["TỔNG HỢP TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH 02-KH/BCĐTW (GIAI ĐOẠN 1)"])
    ws.append([f"(Số liệu đến ngày {report_day})"])
    ws.append([])
    ws.append(["STT", "Mã NV (Sở)", "Đơn vị", None, "Nhóm nhiệm vụ", "Nội dung", "Thời gian",
               None, "Kết quả", None, "Người phụ trách", "Ghi chú"])  # fmt: skip
    ws.append([None, None, "Mã xã", "Tên xã/phường", None, None, "Hạn hoàn thành",
               "Ngày hoàn thành", "Tình trạng", "Sản phẩm", None, None])  # fmt: skip
    for r in range(1, 5):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=12)
    for col in ("A", "B", "E", "F", "K", "L"):
        ws.merge_cells(f"{col}6:{col}7")
    for span in ("C6:D6", "G6:H6", "I6:J6"):
        ws.merge_cells(span)
    for i, t in enumerate(tasks, 1):
        done = t.completed_at.strftime("%d/%m/%Y") if t.completed_at else None
        status = "Hoàn thành" if done else "Đang triển khai"
        if t.group_no == 2 and not done:
            status = "Chậm tiến độ"
        ws.append([
            i, f"NA-02-{t.unit_code}-{t.group_no}", int(t.unit_code), t.name,
            f"Nhóm {t.group_no}", t.title, t.deadline.strftime("%d/%m/%Y"), done, status,
            "Quyết định kiện toàn" if t.group_no == 1 else None,
            f"Đ/c Người {i}, PCT UBND", None,
        ])  # fmt: skip
    wb.save(path)
    return path


def test_a_two_row_merged_header_is_read_as_parent_and_child_labels(scratch, tmp_path):
    tasks = _kh02(scratch, "40", 6)
    path = merged_workbook(tmp_path / "na.xlsx", tasks)
    sheet = read_sheet(path, [h for hs in ALIASES.values() for h in hs])
    assert sheet.headers == [
        "STT", "Mã NV (Sở)", "Đơn vị / Mã xã", "Đơn vị / Tên xã/phường", "Nhóm nhiệm vụ",
        "Nội dung", "Thời gian / Hạn hoàn thành", "Thời gian / Ngày hoàn thành",
        "Kết quả / Tình trạng", "Kết quả / Sản phẩm", "Người phụ trách", "Ghi chú",
    ]  # fmt: skip
    assert sheet.report_date == dt.date(2025, 11, 13)
    assert sheet.rows[0][0] == 8  # the data starts under the second header row
    cols = map_headers(sheet.headers, ALIASES, sheet.header_parts)
    assert cols["external_id"] == "Mã NV (Sở)"
    assert cols["unit_code"] == "Đơn vị / Mã xã"
    assert cols["unit_name"] == "Đơn vị / Tên xã/phường"
    assert cols["deadline"] == "Thời gian / Hạn hoàn thành"
    assert cols["completed_at"] == "Thời gian / Ngày hoàn thành"
    assert cols["status"] == "Kết quả / Tình trạng"
    assert cols["product"] == "Kết quả / Sản phẩm"
    assert cols["person_in_charge"] == "Người phụ trách"


def test_a_merged_office_sheet_lands_on_the_stored_tasks_with_people_in_charge(
    api, scratch, tmp_path
):
    tasks = _kh02(scratch, "40", 8)
    path = merged_workbook(tmp_path / "na.xlsx", tasks)
    report = import_tasks(scratch, path, actor="cli:test", dry_run=True)
    assert report.status == "dry_run", [p.reason for p in report.errors]
    assert report.created == 0
    assert {m["match"] for m in report.matches} == {"natural_key"}
    assert report.report_date == "2025-11-13"
    applied = import_tasks(scratch, path, actor="cli:test")
    assert applied.ok and applied.created == 0
    stored = {
        r.group_no: r
        for r in rows(
            scratch,
            "select t.group_no, t.person_in_charge, t.product, t.office_status from task t"
            " join task_alias a on a.task_id = t.id where a.alias like 'NA-02-%'"
            " and t.unit_code = :u",
            u=tasks[0].unit_code,
        )
    }
    assert stored[1].person_in_charge == "Đ/c Người 1, PCT UBND"
    assert stored[1].product == "Quyết định kiện toàn"
    assert stored[1].office_status in ("Hoàn thành", "Đang triển khai")
    body = api.get(f"/api/v1/units/{tasks[0].unit_code}/tasks?program=KH02&limit=50").json()
    by_group = {t["group_no"]: t for t in body["tasks"] if t["group_no"] in stored}
    assert by_group[1]["person_in_charge"] == "Đ/c Người 1, PCT UBND"
    assert by_group[1]["product"] == "Quyết định kiện toàn"


def ca_mau_workbook(path: Path, report_line: str | None = None) -> Path:
    """A provincial action programme: long reason and proposal headers, tasks marked done
    without a completion date, an office's "Quá hạn" that the dates do not support."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["TỈNH ỦY CÀ MAU"])
    ws.append(["BIỂU TIẾN ĐỘ THỰC HIỆN CHƯƠNG TRÌNH HÀNH ĐỘNG SỐ 97-CTr/TU"])
    ws.append([report_line])
    ws.merge_cells("A1:J1")
    ws.merge_cells("A2:J2")
    ws.append([])
    ws.append(["STT", "Mã nhiệm vụ (tỉnh)", "Tên nhiệm vụ", "Chương trình", "Đơn vị thực hiện",
               "Mã tỉnh", "Hạn hoàn thành", "Tình trạng",
               "Nguyên nhân chậm, khó khăn vướng mắc", "Đề xuất, kiến nghị"])  # fmt: skip
    ws.append([1, "CMT-97-001", "Nhiệm vụ thử 1 của 97-CTr/TU", "97-CTr/TU", "Sở Tài chính",
               96, "21/08/2025", "Chậm tiến độ", "Chờ hướng dẫn của Bộ",
               "Đề nghị Bộ sớm ban hành hướng dẫn"])  # fmt: skip
    ws.append([2, "CMT-97-002", "Nhiệm vụ thử 2 của 97-CTr/TU", "97-CTr/TU", "Sở KH&CN",
               96, "01/11/2025", "Đã hoàn thành", None, None])  # fmt: skip
    ws.append([3, "CMT-97-003", "Nhiệm vụ thử 3 của 97-CTr/TU", "97-CTr/TU", "Sở Nội vụ",
               96, "28/07/2025", "Đã hoàn thành", None, None])  # fmt: skip
    ws.append([4, "CMT-97-004", "Nhiệm vụ thử 4 của 97-CTr/TU", "97-CTr/TU", "Sở Nội vụ",
               96, "20/12/2025", "Quá hạn", "Thiếu kinh phí", None])  # fmt: skip
    wb.save(path)
    return path


def test_done_without_a_date_is_done_by_the_report_date_and_flagged(api, scratch, tmp_path):
    path = ca_mau_workbook(tmp_path / "cm.xlsx", "Tính đến hết ngày 13 tháng 11 năm 2025")
    report = import_tasks(scratch, path, actor="cli:test")
    assert report.ok, [p.reason for p in report.errors]
    assert report.created == 4
    assert report.report_date == "2025-11-13"
    assert [(u["row"], u["completed_by"]) for u in report.undated] == [
        (7, "2025-11-13"),
        (8, "2025-11-13"),
    ]
    texts = {(w.row, w.reason) for w in report.warnings}
    assert any(r == 7 and "không có ngày hoàn thành" in t for r, t in texts)
    # "Quá hạn" before a deadline of 20/12/2025 at 13/11/2025: a warning, not an error
    assert any(r == 9 and "Quá hạn" in t and "khác với tính theo ngày" in t for r, t in texts)
    stored = {
        r.external_id: r
        for r in rows(
            scratch,
            "select external_id, program, unit_code, lead_agency, completed_at,"
            " completed_at_bound, office_status, reason, proposal from task"
            " where external_id like 'CMT-97-%'",
        )
    }
    assert {s.program for s in stored.values()} == {"CTR97-CM"}
    assert {s.unit_code for s in stored.values()} == {"96"}
    assert stored["CMT-97-002"].completed_at == dt.date(2025, 11, 13)
    assert stored["CMT-97-002"].completed_at_bound is True
    assert stored["CMT-97-001"].completed_at_bound is False
    assert stored["CMT-97-001"].lead_agency == "Sở Tài chính"
    assert stored["CMT-97-001"].reason == "Chờ hướng dẫn của Bộ"
    assert stored["CMT-97-001"].proposal == "Đề xuất".replace(
        "Đề xuất", "Đề nghị Bộ sớm ban hành hướng dẫn"
    )
    assert stored["CMT-97-004"].office_status == "Quá hạn"
    event = rows(
        scratch,
        "select e.new from task_event e join task t on t.id = e.task_id"
        " where t.external_id = 'CMT-97-002'",
    )[0]
    assert event.new["completed_at_bound"] is True
    assert event.new["completed_at"] == "2025-11-13"
    # on time by the bound (13/11 after the deadline 01/11: late); 28/07 deadline: late
    body = api.get("/api/v1/units/96/tasks?program=CTR97-CM&limit=50").json()
    items = {t["external_id"]: t for t in body["tasks"]}
    assert items["CMT-97-002"]["status"] == "completed_late"
    assert items["CMT-97-002"]["completed_at_bound"] is True
    assert items["CMT-97-001"]["reason"] == "Chờ hướng dẫn của Bộ"
    assert items["CMT-97-001"]["proposal"] == "Đề nghị Bộ sớm ban hành hướng dẫn"
    assert items["CMT-97-004"]["office_status"] == "Quá hạn"


def test_without_a_report_date_in_the_title_the_option_gives_it(scratch, tmp_path):
    path = ca_mau_workbook(tmp_path / "cm.xlsx")
    report = import_tasks(
        scratch, path, actor="cli:test", dry_run=True, report_date=dt.date(2025, 11, 1)
    )
    assert report.ok and report.report_date == "2025-11-01"
    assert {u["completed_by"] for u in report.undated} == {"2025-11-01"}
    # the bound on or before the deadline (01/11/2025): done on time
    assert not any("khác với" in w.reason and w.row == 7 for w in report.warnings)


def test_header_variants_match_by_meaning_and_unknown_ones_are_reported(tmp_path):
    assert list_key("Khó khăn, vướng mắc") == list_key("Vướng mắc và khó khăn")
    assert list_key("Đề xuất, kiến nghị") == list_key("Kiến nghị; đề xuất")
    headers = ["Mã NV (Sở)", "Vướng mắc và khó khăn", "Kiến nghị, đề xuất", "Cán bộ đầu mối",
               "Sản phẩm", "Cơ quan chủ trì", "Giải pháp", "Ngày phải xong"]  # fmt: skip
    cols = map_headers(headers, ALIASES)
    assert cols["external_id"] == "Mã NV (Sở)"
    assert cols["reason"] == "Vướng mắc và khó khăn"
    assert cols["proposal"] == "Kiến nghị, đề xuất"
    assert cols["person_in_charge"] == "Cán bộ đầu mối"
    assert cols["product"] == "Sản phẩm"
    assert cols["lead_agency"] == "Cơ quan chủ trì"
    assert "deadline" not in cols  # renamed: reported with its likely field, not guessed
    from geo.ingest.columns import likely_field

    assert likely_field("Ngày phải xong", ALIASES)[0] == "deadline"
    assert likely_field("Họ tên cán bộ theo dõi", ALIASES)[0] == "person_in_charge"


def test_the_report_date_option_on_the_api_and_the_cli(
    api, scratch, scratch_url, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from geo.tokens import create_token
    from iocmap.cli import app

    with scratch.begin() as conn:
        _, token = create_token(conn, "so-khcn-ca-mau", "editor", "province:96")
    auth = {"Authorization": f"Bearer {token}"}
    path = ca_mau_workbook(tmp_path / "cm.xlsx")
    files = {"file": ("cm.xlsx", path.read_bytes(), "application/octet-stream")}
    r = api.post("/api/v1/imports/tasks?dry_run=true&report_date=2025-10-31", files=files,
                 headers=auth)  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["report_date"] == "2025-10-31"
    assert [u["completed_by"] for u in body["undated"]] == ["2025-10-31", "2025-10-31"]
    bad = api.post("/api/v1/imports/tasks?dry_run=true&report_date=2025-13-40", files=files,
                   headers=auth)  # fmt: skip
    assert bad.status_code == 422 and "report_date" in bad.text
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    cli = CliRunner().invoke(
        app, ["import", "tasks", str(path), "--dry-run", "--json", "--report-date", "31/10/2025"]
    )
    assert cli.exit_code == 0, cli.output
    assert '"report_date": "2025-10-31"' in cli.output
    wrong = CliRunner().invoke(app, ["import", "tasks", str(path), "--report-date", "31/02/2025"])
    assert wrong.exit_code == 2 and "--report-date" in wrong.output


# --- the three real-shaped sheets, when the shared folder is there -----------------------
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/office-sheets is not here")
def test_the_three_office_sample_sheets_dry_run_and_apply_with_no_option(api, scratch):
    na = import_tasks(scratch, SHARED / "nghe_an_kh02_gd1.xlsx", actor="cli:test")
    assert na.ok, [(p.row, p.field, p.reason) for p in na.errors]
    assert na.report_date == "2025-11-13"
    assert na.read == 66 and na.created == 0
    assert {m["match"] for m in na.matches} == {"natural_key"}
    people = rows(
        scratch,
        "select count(*) as n from task t join task_alias a on a.task_id = t.id"
        " where a.alias like 'NA-02-%' and t.person_in_charge like 'Đ/c %'",
    )[0].n
    assert people == 44
    wrong = rows(
        scratch,
        "select count(*) as n from task t join task_alias a on a.task_id = t.id"
        " where a.alias like 'NA-02-%' and (a.alias <> 'NA-02-' || t.unit_code || '-'"
        " || t.group_no or t.program <> 'KH02')",
    )[0].n
    assert wrong == 0
    cm = import_tasks(scratch, SHARED / "ca_mau_ctr97.xlsx", actor="cli:test")
    assert cm.ok, [(p.row, p.field, p.reason) for p in cm.errors]
    assert len(cm.undated) == 3
    stored = rows(
        scratch,
        "select external_id, program, unit_code, reason, proposal from task"
        " where external_id like 'CM-97-%' order by external_id",
    )
    assert len(stored) == 12
    assert {(s.program, s.unit_code) for s in stored} == {("CTR97-CM", "96")}
    assert sum(1 for s in stored if s.reason and s.proposal) == 3
    body = api.get("/api/v1/units/96/tasks?program=CTR97-CM&limit=50").json()
    assert sum(1 for t in body["tasks"] if t["reason"] and t["proposal"]) >= 3
    dh = import_tasks(scratch, SHARED / "nghe_an_doi_han.csv", actor="cli:test", dry_run=True)
    assert dh.ok, [(p.row, p.field, p.reason) for p in dh.errors]
    assert {m["match"] for m in dh.matches} == {"alias"}
    renamed = next(c for c in dh.columns if c["header"] == "Ngày phải xong")
    assert renamed["status"] == "ignored" and renamed["likely"] == "deadline" and renamed["warn"]
    mapped = import_tasks(
        scratch, SHARED / "nghe_an_doi_han.csv", actor="cli:test",
        columns={"Ngày phải xong": "deadline"},
    )  # fmt: skip
    assert mapped.ok and mapped.updated == 12
    assert json.dumps(mapped.to_dict(), ensure_ascii=False)


# --- reading layouts (no database) -------------------------------------------------------
def test_the_sandboxed_reader_reports_merged_ranges_and_ignores_malformed_ones(tmp_path):
    import zipfile

    import openpyxl

    from geo.ingest.sheet_files import Merge, SheetLimits, read_xlsx_rows

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Tiêu đề"])
    ws.append(["Mã NV", "Thời gian", None])
    ws.append([None, "Hạn", "Ngày hoàn thành"])
    ws.merge_cells("A1:C1")
    ws.merge_cells("B2:C2")
    ws.merge_cells("A2:A3")
    path = tmp_path / "m.xlsx"
    wb.save(path)
    _, merged = read_xlsx_rows(path, None, "m.xlsx", SheetLimits())
    assert set(merged) == {Merge(1, 1, 1, 3), Merge(2, 2, 2, 3), Merge(2, 1, 3, 1)}
    # a hand-edited part: a range past the column limit is clipped; a malformed one is a 422
    for ref, name in ((b"A5:ZZZ9", "wide.xlsx"), (b"A1C1", "bad.xlsx")):
        edited = tmp_path / name
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(edited, "w") as dst:
            for item in src.infolist():
                data = src.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(
                        b'<mergeCell ref="A1:C1"/>', b'<mergeCell ref="' + ref + b'"/>'
                    )
                dst.writestr(item, data)
        if name == "wide.xlsx":
            _, merged = read_xlsx_rows(edited, None, name, SheetLimits(max_columns=50))
            assert Merge(5, 1, 9, 50) in merged  # clipped to the column limit
        else:
            with pytest.raises(BadInput, match="bad.xlsx"):
                read_xlsx_rows(edited, None, name, SheetLimits())


def test_an_unmerged_two_row_header_and_a_row_of_column_numbers(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["BÁO CÁO TIẾN ĐỘ", None, None, None, None])
    ws.append(["Số liệu đến ngày 30/9/2025"])
    ws.append(["Mã nhiệm vụ (tỉnh)", "Mã xã", "Thời gian", None, "Khó khăn, vướng mắc"])
    ws.append([None, None, "Hạn hoàn thành", "Ngày hoàn thành", None])
    ws.append(["(1)", "(2)", "(3)", "(4)", "(5)"])
    ws.append(["X-1", "16681", "30/09/2025", None, "Thiếu người"])
    path = tmp_path / "u.xlsx"
    wb.save(path)
    sheet = read_sheet(path, [h for hs in ALIASES.values() for h in hs])
    assert sheet.headers == ["Mã nhiệm vụ (tỉnh)", "Mã xã", "Thời gian / Hạn hoàn thành",
                             "Thời gian / Ngày hoàn thành", "Khó khăn, vướng mắc"]  # fmt: skip
    assert [n for n, _ in sheet.rows] == [6]  # the numbering row is not a task
    assert sheet.report_date == dt.date(2025, 9, 30)
    cols = map_headers(sheet.headers, ALIASES, sheet.header_parts)
    assert cols["external_id"] == "Mã nhiệm vụ (tỉnh)"
    assert cols["deadline"] == "Thời gian / Hạn hoàn thành"
    assert cols["reason"] == "Khó khăn, vướng mắc"


def test_a_header_merged_over_two_columns_in_one_row_names_one_column(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Mã nhiệm vụ", "Tên nhiệm vụ", "Ghi chú", None])
    ws.append(["A-1", "Việc một", "x", "y"])
    ws.merge_cells("C1:D1")
    path = tmp_path / "g.xlsx"
    wb.save(path)
    sheet = read_sheet(path, ["Mã nhiệm vụ", "Tên nhiệm vụ"])
    assert sheet.headers == ["Mã nhiệm vụ", "Tên nhiệm vụ", "Ghi chú"]
    assert sheet.rows[0][1]["Ghi chú"] == "x"


def test_a_merged_range_of_a_million_rows_costs_only_the_rows_the_sheet_has(tmp_path):
    import time
    import zipfile

    import openpyxl

    from geo.errors import LimitExceeded
    from geo.ingest.sheet_files import SheetLimits

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Mã nhiệm vụ", "Tên nhiệm vụ", "Đơn vị chủ trì"])
    for i in range(20):
        ws.append([f"T-{i}", f"Việc {i}", "Sở KH&CN" if i == 0 else None])
    ws.merge_cells("C2:C21")
    small = tmp_path / "small.xlsx"
    wb.save(small)
    path = tmp_path / "big.xlsx"  # hand-edited: the lead agency "merged" to the last row
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'ref="C2:C21"', b'ref="C2:C1048576"')
            dst.writestr(item, data)
    started = time.monotonic()
    sheet = read_sheet(path, ["Mã nhiệm vụ", "Tên nhiệm vụ"])
    assert time.monotonic() - started < 10
    assert len(sheet.rows) == 20
    assert {cells["Đơn vị chủ trì"] for _, cells in sheet.rows} == {"Sở KH&CN"}
    with pytest.raises(LimitExceeded, match="max_cells"):
        read_sheet(path, ["Mã nhiệm vụ"], limits=SheetLimits(max_cells=50))


def test_other_wordings_offices_use_for_groups_statuses_and_the_report_date(tmp_path):
    import openpyxl

    from geo.ingest.task_cells import parse_group, parse_status
    from geo.ingest.task_plan import office_state

    assert parse_group("Nhóm III") == parse_group("Nhóm 3") == 3
    assert parse_status("Đã hoàn thành đúng hạn") is True
    assert parse_status("Chưa hoàn thành - quá hạn") is False
    assert parse_status("Đang thực hiện (trong hạn)") is False
    assert office_state("Chưa hoàn thành - quá hạn") == "late"
    assert office_state("Hoàn thành trước hạn") == "on_time"
    assert office_state("Đang triển khai") is None  # says only "not done"
    # the document's own date when the title says no "đến ngày"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["UBND TỈNH NGHỆ AN", None, "Nghệ An, ngày 14 tháng 11 năm 2025"])
    ws.append(["Mã nhiệm vụ", "Tên nhiệm vụ", "Tình trạng"])
    ws.append(["A-1", "Việc một", "Đã hoàn thành"])
    path = tmp_path / "d.xlsx"
    wb.save(path)
    assert read_sheet(path, ["Mã nhiệm vụ", "Tên nhiệm vụ"]).report_date == dt.date(2025, 11, 14)


def test_a_field_is_matched_on_parent_and_child_read_together():
    parts = {"Ngày / Hoàn thành": ("Ngày", "Hoàn thành"), "Ngày / Giao": ("Ngày", "Giao")}
    cols = map_headers(["Mã NV", "Ngày / Giao", "Ngày / Hoàn thành"], ALIASES, parts)
    assert cols["completed_at"] == "Ngày / Hoàn thành"
    assert cols["start_date"] == "Ngày / Giao"


def test_a_status_word_nobody_knows_is_kept_with_a_warning(scratch, tmp_path):
    from tests.import_fixtures import write_csv

    path = write_csv(
        tmp_path / "st.csv",
        ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành", "Tình trạng"],
        [["ST-1", "Ban hành quy chế", "40", "31/12/2025", "Đã ban hành quy chế"]],
    )
    report = import_tasks(scratch, path, actor="cli:test")
    assert report.ok and report.created == 1
    assert any("không phải là từ đã biết" in w.reason and w.row == 2 for w in report.warnings)
    [t] = rows(scratch, "select office_status, completed_at from task where external_id = 'ST-1'")
    assert t.office_status == "Đã ban hành quy chế" and t.completed_at is None


def test_a_report_date_after_today_is_a_warning(scratch, tmp_path):
    later = dt.date.today() + dt.timedelta(days=30)
    path = ca_mau_workbook(tmp_path / "cm.xlsx", f"Số liệu đến ngày {later:%d/%m/%Y}")
    report = import_tasks(scratch, path, actor="cli:test", dry_run=True)
    assert report.ok and report.report_date == later.isoformat()
    assert any("sau hôm nay" in w.reason for w in report.warnings)
