"""The programme registry (issue 22, item 4): a sheet's programme cell is matched as whole
tokens against codes, names and aliases; an unknown one is a row error listing the known
programmes; Cà Mau's own action programme counts in the NQ57 totals."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from geo.ingest.programmes import load_registry
from geo.ingest.sheets import CellError
from geo.ingest.tasks import import_tasks
from tests.import_fixtures import rows, table_versions, write_csv, write_xlsx

HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Chương trình", "Mã tỉnh", "Mã xã", "Hạn hoàn thành"]


@pytest.fixture
def registry(scratch):
    with scratch.connect() as conn:
        return load_registry(conn)


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("97-CTr/TU", "CTR97-CM"),
        ("Chương trình hành động số 97-CTr/TU của Tỉnh ủy", "CTR97-CM"),
        ("Nghị quyết 57-NQ/TW", "NQ57"),
        ("nghi quyet so 57", "NQ57"),
        ("NQ57", "NQ57"),
        ("Kế hoạch 02-KH/BCĐTW", "KH02"),
        ("KH02", "KH02"),
        ("Kế hoạch số 02 giai đoạn 2", "KH02-2"),
    ],
)
def test_cells_name_programmes_by_whole_tokens(registry, cell, code):
    assert registry.match(cell).code == code


@pytest.mark.parametrize(
    "cell", ["Chương trình chuyển đổi số năm 2025", "Kế hoạch 2025", "NQ-572", "CT 12/2024"]
)
def test_digits_inside_other_words_name_no_programme(registry, cell):
    with pytest.raises(CellError) as err:
        registry.match(cell)
    assert "NQ57" in err.value.vi and "KH02" in err.value.vi and "CTR97-CM" in err.value.vi
    assert err.value.value == cell


def _summary(api) -> dict:
    body = api.get("/api/v1/summary").json()
    return next(p for p in body["provinces"] if p["code"] == "96")


@pytest.fixture
def api(scratch_url):
    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        yield client


def test_a_provincial_action_programme_counts_in_nq57_and_is_listed(api, scratch, tmp_path):
    before = _summary(api)
    listed = api.get("/api/v1/programmes").json()["programmes"]
    ca_mau = next(p for p in listed if p["code"] == "CTR97-CM")
    assert ca_mau["parent"] == "NQ57" and "97-CTr/TU" in ca_mau["aliases"]
    assert ca_mau["tasks"] == 0
    assert {p["code"] for p in listed} >= {"NQ57", "KH02", "KH02-1", "KH02-2"}
    path = write_xlsx(
        tmp_path / "ctr97.xlsx",
        HEADER,
        [
            ["CM-97-01", "Số hóa hồ sơ lưu trữ của tỉnh", "97-CTr/TU", "96", None, "31/12/2025"],
            ["CM-97-02", "Nền tảng dữ liệu tỉnh", "Chương trình hành động 97", "96", None,
             "30/11/2025"],
        ],
    )  # fmt: skip
    report = import_tasks(scratch, path, actor="cli:test")
    assert report.status == "imported", [p.reason for p in report.errors]
    stored = rows(scratch, "select program from task where external_id like 'CM-97-%'")
    assert [r.program for r in stored] == ["CTR97-CM", "CTR97-CM"]
    after = _summary(api)
    assert after["tasks_total"] == before["tasks_total"] + 2  # counted under NQ57
    listed = api.get("/api/v1/programmes").json()["programmes"]
    assert next(p for p in listed if p["code"] == "CTR97-CM")["tasks"] == 2
    # the programme's own slice, and NQ57's, both hold the tasks
    own = api.get("/api/v1/units/96/tasks", params={"program": "CTR97-CM"}).json()
    assert own["numberMatched"] == 2
    nq57 = api.get("/api/v1/units/96/tasks", params={"program": "NQ57", "limit": 1000}).json()
    assert {"CM-97-01", "CM-97-02"} <= {t["external_id"] for t in nq57["tasks"]}


def test_an_unknown_programme_is_a_row_error_and_nothing_is_written(scratch, tmp_path):
    before = table_versions(scratch)
    path = write_csv(
        tmp_path / "cds.csv",
        HEADER,
        [["CDS-1", "Chuyển đổi số", "Chương trình chuyển đổi số năm 2025", "01", "00070",
          "31/12/2025"]],
    )  # fmt: skip
    report = import_tasks(scratch, path, actor="cli:test")
    assert report.status == "rejected"
    [err] = report.errors
    assert (err.row, err.field) == (2, "Chương trình")
    assert "KH02" in err.reason and "NQ57" in err.reason
    assert table_versions(scratch) == before


def test_a_phase_entry_stores_the_parent_with_that_phase(scratch, tmp_path):
    path = write_csv(
        tmp_path / "gd2.csv",
        [*HEADER, "Nhóm nhiệm vụ"],
        [["GD2-1", "Chỉ tiêu giai đoạn 2", "KH02 giai đoạn 2", "01", "00070", "15/12/2025", 3]],
    )
    report = import_tasks(scratch, path, actor="cli:test")
    assert report.status == "imported", [p.reason for p in report.errors]
    [t] = rows(scratch, "select program, phase, group_no from task where external_id = 'GD2-1'")
    assert (t.program, t.phase, t.group_no) == ("KH02", 2, 3)


def test_registry_entries_are_importable_from_the_cli(scratch_url, scratch, tmp_path, monkeypatch):
    from iocmap.cli import app

    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    path = write_csv(
        tmp_path / "ctr.csv",
        ["Mã", "Tên", "Tên khác", "Thuộc", "Mã tỉnh"],
        [["CTR25-NA", "Chương trình hành động số 25 của Tỉnh ủy Nghệ An", "25-CTr/TU; CTr 25",
          "NQ57", "40"]],
    )  # fmt: skip
    result = CliRunner().invoke(app, ["import", "programmes", str(path)])
    assert result.exit_code == 0, result.output
    with scratch.connect() as conn:
        assert load_registry(conn).match("Thực hiện 25-CTr/TU").code == "CTR25-NA"
    bad = write_csv(tmp_path / "bad.csv", ["Mã", "Tên", "Thuộc"], [["X1", "Không cha", "NOPE"]])
    result = CliRunner().invoke(app, ["import", "programmes", str(bad)])
    assert result.exit_code == 1 and "NOPE" in result.output


def test_a_provinces_own_programme_holds_only_its_tasks(scratch, tmp_path):
    header = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Chương trình", "Mã đơn vị", "Hạn hoàn thành"]
    path = write_csv(
        tmp_path / "ctr.csv",
        header,
        [["CM-97-X", "Việc của tỉnh", "97-CTr/TU", "96", "31/12/2025"],
         ["HN-97-X", "Nhầm chương trình", "97-CTr/TU", "01", "31/12/2025"]],
    )  # fmt: skip
    report = import_tasks(scratch, path, actor="cli:test", dry_run=True)
    [err] = report.errors
    assert (err.row, err.field, err.value) == (3, "Chương trình", "97-CTr/TU")
    assert "của riêng tỉnh 96" in err.reason
    ok = write_csv(
        tmp_path / "ok.csv", header, [["CM-97-X", "Việc", "97-CTr/TU", "96", "31/12/2025"]]
    )
    report = import_tasks(scratch, ok, actor="cli:test")
    assert report.status == "imported", [p.reason for p in report.errors]
    [t] = rows(scratch, "select unit_code, program from task where external_id = 'CM-97-X'")
    assert (t.unit_code, t.program) == ("96", "CTR97-CM")  # "96" read as the province
