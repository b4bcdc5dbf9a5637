"""Indicator sheets, long and wide; ranks computed when the sheet has none."""

from __future__ import annotations

from geo.ingest.indicators import import_indicators
from tests.import_fixtures import rows, table_versions, write_csv, write_xlsx


def values(engine, code: str, period: str) -> dict:
    got = rows(
        engine,
        "select unit_code, value, rank from indicator_value"
        " where indicator_code = :c and period = :p",
        c=code,
        p=period,
    )
    return {r.unit_code: (r.value, r.rank) for r in got}


def test_long_sheet_new_period_gets_ranks(scratch, tmp_path):
    path = write_csv(
        tmp_path / "chi_so_q4.csv",
        ["Mã tỉnh", "Chỉ số", "Kỳ", "Giá trị"],
        [
            ["40", "Chỉ số phục vụ người dân, doanh nghiệp", "Quý IV/2025", "91,5"],
            ["96", "service_index", "Q4/2025", "88.25"],
            ["66", "SERVICE_INDEX", "2025-Q4", "91,5"],
        ],
    )
    report = import_indicators(scratch, path)
    assert report.status == "imported" and report.created == 3
    got = values(scratch, "service_index", "2025-Q4")
    assert got == {"40": (91.5, 1), "66": (91.5, 1), "96": (88.25, 3)}  # ties share the rank
    before = table_versions(scratch)
    assert import_indicators(scratch, path).status == "no_changes"
    assert table_versions(scratch) == before


def test_wide_sheet_of_communes_updates_values_and_reranks(scratch, tmp_path):
    old = values(scratch, "online_rate", "2025-Q3")
    path = write_xlsx(
        tmp_path / "xa_q3.xlsx",
        ["Mã xã", "Tên xã", "Tỷ lệ hồ sơ trực tuyến", "data_reuse_rate"],
        [["70", "Hoàn Kiếm", 100, "99,9"], ["00004", "Ba Đình", "0", None]],
    )
    report = import_indicators(scratch, path, period="2025-Q3")
    assert report.status == "imported", [p.reason for p in report.errors]
    assert report.updated == 3 and report.fields["online_rate"] == "Tỷ lệ hồ sơ trực tuyến"
    new = values(scratch, "online_rate", "2025-Q3")
    assert new["00070"] == (100.0, 1)
    assert new["00004"][1] == sum(len(code) == 5 for code in old)  # 0 % is last of 3,321
    assert any("ranks recomputed" in n for n in report.notes)
    assert values(scratch, "data_reuse_rate", "2025-Q3")["00070"][0] == 99.9


def test_published_ranks_are_kept(scratch, tmp_path):
    path = write_csv(
        tmp_path / "dti.csv",
        ["Mã tỉnh", "Mã chỉ số", "Năm", "Điểm", "Xếp hạng"],
        [["01", "DTI", "2024", "0.8", "2"], ["79", "dti", "2024", "0.79", "1"]],
    )
    report = import_indicators(scratch, path)
    assert report.status == "imported"
    assert values(scratch, "dti", "2024") == {"01": (0.8, 2), "79": (0.79, 1)}


def test_bad_rows_are_reported_with_row_and_column(scratch, tmp_path):
    path = write_csv(
        tmp_path / "loi.csv",
        ["Mã đơn vị", "Chỉ số", "Kỳ", "Giá trị"],
        [
            ["96", "online_rate", "2025-Q3", "120"],
            ["96", "happiness", "2025-Q3", "5"],
            ["00070", "service_index", "2025-Q3", "80"],
            ["96", "pii", "mùa thu", "40"],
            ["96", "pii", "2025-Q3", "abc"],
        ],
    )
    before = table_versions(scratch)
    report = import_indicators(scratch, path)
    assert report.status == "rejected"
    found = {(p.row, p.field): p.reason for p in report.errors}
    assert "not a percentage" in found[(2, "Giá trị")]
    assert "unknown indicator 'happiness'" in found[(3, "Chỉ số")]
    assert "is for provinces" in found[(4, "Giá trị")]
    assert "not a period" in found[(5, "Kỳ")]
    assert "not a number" in found[(6, "Giá trị")]
    assert table_versions(scratch) == before


def test_national_indicators_import_with_unit_vn(scratch, tmp_path):
    path = write_csv(
        tmp_path / "van_ban_q4.csv",
        ["Mã đơn vị", "Chỉ số", "Kỳ", "Giá trị"],
        [
            ["VN", "laws_issued", "Quý IV/2025", "29"],
            ["Toàn quốc", "Số nghị định được ban hành (lũy kế từ đầu năm)", "2025-Q4", "81"],
        ],
    )
    report = import_indicators(scratch, path)
    assert report.status == "imported" and report.created == 2, report.to_dict()
    got = rows(scratch, "select indicator_code, value, rank from indicator_value"
               " where unit_code is null and period = '2025-Q4' order by 1")  # fmt: skip
    assert [tuple(r) for r in got] == [("decrees_issued", 81.0, None), ("laws_issued", 29.0, None)]
    assert import_indicators(scratch, path).status == "no_changes"
    bad = write_csv(
        tmp_path / "sai.csv",
        ["Mã đơn vị", "Chỉ số", "Kỳ", "Giá trị"],
        [["40", "laws_issued", "2025-Q4", "3"], ["VN", "dti", "2025-Q4", "50"],
         ["VN", "laws_issued", "2025-Q4", "3"], ["VN", "laws_issued", "2025-Q4", "4"]],
    )  # fmt: skip
    report = import_indicators(scratch, bad)
    assert report.status == "rejected"
    found = {(p.row, p.field): p.reason for p in report.errors}
    assert "toàn quốc" in found[(2, "Giá trị")] and "VN" in found[(2, "Giá trị")]
    assert "is for provinces" in found[(3, "Giá trị")]
    assert any("appears on rows" in r for r in found.values()), found
