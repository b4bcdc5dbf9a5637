"""Task sheets as provinces send them: XLSX with Vietnamese headers and dd/mm/yyyy dates,
CSV in UTF-8 (BOM) or Windows-1258, codes mangled by Excel, pre-2025 commune codes."""

from __future__ import annotations

import csv
import datetime as dt

from geo.ingest.tasks import import_tasks
from tests.import_fixtures import rows, scalar, table_versions, write_csv, write_xlsx

HEADER = [
    *("STT", "Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Mã xã", "Nhóm nhiệm vụ"),
    *("Đơn vị chủ trì", "Ngày bắt đầu", "Hạn hoàn thành", "Ngày hoàn thành", "Tình trạng"),
]
ACTOR = "cli:tester"


def task(engine, external_id: str):
    got = rows(engine, "select * from task where external_id = :e", e=external_id)
    return got[0] if got else None


def events(engine, external_id: str):
    return rows(
        engine,
        "select e.actor, e.source, e.action, e.old, e.new from task_event e"
        " join task t on t.id = e.task_id where t.external_id = :e order by e.id",
        e=external_id,
    )


def test_xlsx_with_vietnamese_headers_and_dd_mm_yyyy_dates(scratch, tmp_path):
    existing = task(scratch, "KH02-00070-16")  # Hoàn Kiếm, Plan 02 group 16
    new_done = dt.date(2025, 11, 10)
    assert existing.completed_at != new_done
    path = write_xlsx(
        tmp_path / "bao_cao_ha_noi.xlsx",
        HEADER,
        [
            [1, "KH02-00070-16", None, 1, 70, 16, None, None, None, "10/11/2025", "Đã hoàn thành"],
            [2, "NQ57-40-T001", "Xây dựng kho dữ liệu dùng chung", "40", None, None,
             "Sở Khoa học và Công nghệ", "01/07/2025", "31/12/2025", None, "Đang thực hiện"],
            [3, "HN-XA-70-A", "Số hoá hồ sơ đất đai", 1, 70.0, 5, "UBND phường",
             dt.datetime(2025, 7, 1), "30/09/2025", "15/09/2025", "Hoàn thành"],
            [4, "HN-XA-70-B", "Tập huấn kỹ năng số", "01", " 00070", 13, None, None,
             "2025-12-31", None, None],
        ],
        title="BÁO CÁO TIẾN ĐỘ THỰC HIỆN KẾ HOẠCH 02 — THÀNH PHỐ HÀ NỘI",
    )  # fmt: skip
    version = scalar(scratch, "select version from data_state")
    report = import_tasks(scratch, path, actor=ACTOR)
    assert report.status == "imported", [p.reason for p in report.errors]
    # the two commune rows name Hoàn Kiếm and a Plan 02 group: they are the stored group
    # tasks under the office's codes (issue 22), not new tasks
    assert (report.read, report.created, report.updated, report.unchanged) == (4, 1, 3, 0)
    assert [m["match"] for m in report.matches] == ["code", "new", "natural_key", "natural_key"]
    assert [m["task"] for m in report.matches][2:] == ["KH02-00070-05", "KH02-00070-13"]
    assert report.fields["deadline"] == "Hạn hoàn thành"
    assert scalar(scratch, "select version from data_state") == version + 1

    updated = task(scratch, "KH02-00070-16")
    assert updated.completed_at == new_done and updated.title == existing.title
    history = events(scratch, "KH02-00070-16")[-1]
    assert (history.actor, history.source, history.action) == (ACTOR, path.name, "update")
    # the office's own status words are kept too (issue 29)
    assert history.new == {"completed_at": "2025-11-10", "office_status": "Đã hoàn thành"}
    assert history.old == {
        "completed_at": existing.completed_at and existing.completed_at.isoformat(),
        "office_status": None,
    }

    province_task = task(scratch, "NQ57-40-T001")
    assert (province_task.unit_code, province_task.program, province_task.year) == (
        "40",
        "NQ57",
        2025,
    )
    assert province_task.deadline == dt.date(2025, 12, 31)
    commune_task = task(scratch, "KH02-00070-05")
    assert (commune_task.unit_code, commune_task.program, commune_task.group_no) == (
        "00070",
        "KH02",
        5,
    )
    assert commune_task.title == "Số hóa hồ sơ đất đai"  # one tone placement
    assert commune_task.start_date == dt.date(2025, 7, 1)
    assert task(scratch, "HN-XA-70-A") is None  # kept as the office's alias
    aliases = rows(scratch, "select alias from task_alias order by alias")
    assert [a.alias for a in aliases] == ["HN-XA-70-A", "HN-XA-70-B"]
    changed = events(scratch, "KH02-00070-05")[-1]
    assert changed.action == "update" and changed.new["title"] == "Số hóa hồ sơ đất đai"

    # the same sheet again: nothing changes, no history, no new version
    before = table_versions(scratch)
    again = import_tasks(scratch, path, actor=ACTOR)
    assert again.status == "no_changes" and again.unchanged == 4
    assert [m["match"] for m in again.matches] == ["code", "code", "alias", "alias"]
    assert table_versions(scratch) == before


def test_every_bad_row_is_reported_and_nothing_is_imported(scratch, tmp_path):
    path = write_xlsx(
        tmp_path / "loi.xlsx",
        HEADER,
        [
            [1, "T-OK", "Đúng", "01", "00070", None, None, None, "31/12/2025", None, None],
            [2, "T-UNIT", "Sai mã", "01", "99999", None, None, None, "31/12/2025", None, None],
            [3, "T-DATE", "+cmd|' /C calc'!A0 Sai ngày", "01", "00070", None, None, None,
             "32/13/2025", None, None],
            [4, "T-ORDER", "Xong trước khi bắt đầu", "01", "00070", None, None, "01/09/2025",
             "31/12/2025", "15/08/2025", None],
            [5, "T-DUP", "Một", "01", "00070", None, None, None, "31/12/2025", None, None],
            [6, "T-DUP", "Hai", "01", "00070", None, None, None, "31/12/2025", None, None],
            [7, "T-PROV", "Sai tỉnh", "96", "00070", None, None, None, "31/12/2025", None, None],
            [8, "T-STATUS", "Chưa có ngày", "01", "00070", None, None, None, "31/12/2025", None,
             "Đã hoàn thành"],
        ],
    )  # fmt: skip
    before = table_versions(scratch)
    report = import_tasks(scratch, path, actor=ACTOR, lang="en")
    assert report.status == "rejected"
    assert table_versions(scratch) == before
    found = {(p.row, p.field): p.reason for p in report.errors}
    assert all(p.file == "loi.xlsx" for p in report.errors)
    assert "unknown commune code '99999'" in found[(3, "Mã xã")]
    assert "'32/13/2025' is not a valid date" in found[(4, "Hạn hoàn thành")]
    assert "before the start date 01/09/2025" in found[(5, "Ngày hoàn thành")]
    assert "duplicate task id 'T-DUP' (rows 6, 7)" in found[(6, "Mã nhiệm vụ")]
    assert (7, "Mã nhiệm vụ") in found
    assert "belongs to province 01 (Hà Nội), not 96 (Cà Mau)" in found[(8, "Mã xã")]
    # done without a date is accepted (issue 29): done by the report date, flagged
    assert (9, "Tình trạng") not in found
    assert any(w.row == 9 and "without a completion date" in w.reason for w in report.warnings)
    assert (2, "Mã xã") not in found  # the good row has no problem

    # --skip-invalid: the good row goes in, the rest go to a rejects file next to the sheet
    report = import_tasks(scratch, path, actor=ACTOR, skip_invalid=True)
    assert report.status == "imported" and report.created == 2
    assert task(scratch, "T-OK") is not None and task(scratch, "T-UNIT") is None
    assert task(scratch, "T-STATUS").completed_at is not None
    rejects = tmp_path / "loi.rejects.csv"
    assert report.rejects_file == str(rejects)
    with rejects.open(encoding="utf-8-sig") as f:
        lines = list(csv.reader(f))
    assert lines[0][0] == "Dòng (row)" and lines[0][-1] == "Lỗi (error)"
    assert [r[0] for r in lines[1:]] == ["3", "4", "5", "6", "7", "8"]
    assert "không có xã mang mã '99999'" in lines[1][-1]  # Vietnamese by default
    # The rejects file is opened in a spreadsheet to be fixed: a formula from the upload is
    # shown as text, not evaluated (OWASP CSV injection rule).
    assert "'+cmd|' /C calc'!A0 Sai ngày" in lines[2]
    assert not any(c.startswith(("=", "+", "@")) for r in lines for c in r)


def test_csv_utf8_bom_and_windows_1258(scratch, tmp_path):
    header = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành", "Đơn vị chủ trì"]
    title = "Ứng dụng trí tuệ nhân tạo trong quản lý đô thị"
    for encoding in ("utf-8-sig", "cp1258"):
        ext = f"NQ57-96-{encoding}"
        path = write_csv(
            tmp_path / f"ca_mau_{encoding}.csv",
            header,
            [[ext, title, "96", "30/06/2026", "Sở Khoa học và Công nghệ"]],
            encoding,
        )
        report = import_tasks(scratch, path, actor=ACTOR)
        assert report.status == "imported" and report.created == 1
        stored = task(scratch, ext)
        assert (stored.title, stored.unit_code, stored.year) == (title, "96", 2026)
        assert stored.lead_agency == "Sở Khoa học và Công nghệ"
        if encoding == "cp1258":
            assert any("Windows-1258" in n for n in report.notes)


def test_legacy_commune_codes_are_mapped_and_splits_are_not_guessed(scratch, tmp_path):
    header = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã xã cũ", "Hạn hoàn thành"]
    data = [
        ["OLD-1", "Phúc Xá cũ", "00001", "31/12/2025"],  # Phúc Xá (Ba Đình) → 00097 Hồng Hà
        ["OLD-2", "Tân Thạnh cũ", "31268", "31/12/2025"],  # split between two new communes
    ]
    path = write_xlsx(tmp_path / "ma_cu.xlsx", header, data)
    report = import_tasks(scratch, path, actor=ACTOR)
    assert report.status == "rejected"
    [problem] = report.errors
    assert (problem.row, problem.field) == (3, "Mã xã cũ")
    assert "31268" in problem.reason and "split into" in problem.reason
    assert "31288" in problem.reason and "31666" in problem.reason

    path = write_xlsx(tmp_path / "ma_cu_1.xlsx", header, data[:1])
    report = import_tasks(scratch, path, actor=ACTOR)
    assert report.status == "imported"
    assert task(scratch, "OLD-1").unit_code == "00097"
    assert any("legacy code 00001" in n and "00097" in n for n in report.notes)


def test_a_code_unknown_today_is_read_as_legacy_without_a_flag(scratch, tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã xã", "Hạn hoàn thành"],
        [["OLD-3", "Phúc Xá", "1", "31/12/2025"]],  # 00001 was Phúc Xá; no such code now
    )
    report = import_tasks(scratch, path, actor=ACTOR)
    assert report.status == "imported"
    assert task(scratch, "OLD-3").unit_code == "00097"


def test_dry_run_reports_and_changes_nothing(scratch, tmp_path):
    path = write_xlsx(
        tmp_path / "t.xlsx",
        ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành"],
        [["DRY-1", "Thử", "96", "31/12/2025"]],
    )
    before = table_versions(scratch)
    report = import_tasks(scratch, path, actor=ACTOR, dry_run=True)
    assert report.status == "dry_run" and report.created == 1
    assert table_versions(scratch) == before
