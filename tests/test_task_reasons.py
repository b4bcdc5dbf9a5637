"""Reasons for delay and proposed solutions: imported from the sheets, kept in the history,
shown by the API; an overdue task without a reason is listed and counted."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.models import Summary, TaskList
from api.settings import Settings
from geo.ingest.tasks import import_tasks
from tests.import_fixtures import rows, write_csv, write_xlsx

REASON = "Chưa có hướng dẫn kỹ thuật của Bộ Khoa học và Công nghệ"
PROPOSAL = "Đề nghị Bộ sớm ban hành hướng dẫn; gia hạn đến 31/3/2026"


def _task(engine, external_id: str):
    return rows(engine, "select * from task where external_id = :e", e=external_id)[0]


def _overdue_without_reason(engine, province: str) -> list[str]:
    return [
        r.external_id
        for r in rows(
            engine,
            "select external_id from task where unit_code = :p and reason is null"
            " and task_status(deadline, completed_at, date '2025-11-13') = 'overdue'"
            " order by external_id",
            p=province,
        )
    ]


def test_sheet_with_reason_and_proposal_columns_imports_and_the_api_shows_them(
    scratch, scratch_url, tmp_path
):
    # a province with overdue tasks that state no reason (the 2024 carry-overs)
    province = rows(
        scratch,
        "select unit_code, count(*) n from task where reason is null and program = 'NQ57'"
        " and unit_code is not null"  # territorial units (agencies hold NQ57 tasks too)
        " and task_status(deadline, completed_at, date '2025-11-13') = 'overdue'"
        " group by unit_code order by n desc, unit_code limit 1",
    )[0].unit_code
    missing = _overdue_without_reason(scratch, province)
    assert len(missing) >= 2
    first, second = missing[0], missing[1]
    xlsx = write_xlsx(
        tmp_path / "bao_cao.xlsx",
        ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành", "Nguyên nhân chậm",
         "Giải pháp, kiến nghị"],
        [
            [first, None, province, None, REASON, PROPOSAL],
            ["NQ57-NEW-R1", "Xây dựng nền tảng dữ liệu dùng chung", province, "30/06/2025",
             "Thiếu kinh phí", "Bổ sung dự toán"],
        ],
    )  # fmt: skip
    report = import_tasks(scratch, xlsx, actor="cli:tester")
    assert report.status == "imported", [p.reason for p in report.errors]
    assert report.fields["reason"] == "Nguyên nhân chậm"
    assert report.fields["proposal"] == "Giải pháp, kiến nghị"
    got = _task(scratch, first)
    assert (got.reason, got.proposal) == (REASON, PROPOSAL)
    assert _task(scratch, "NQ57-NEW-R1").reason == "Thiếu kinh phí"
    # the history keeps them
    event = rows(
        scratch,
        "select e.old, e.new from task_event e join task t on t.id = e.task_id"
        " where t.external_id = :e order by e.id desc limit 1",
        e=first,
    )[0]
    assert event.new["reason"] == REASON and event.old["reason"] is None

    # a usual variant of the headers, CSV: "Khó khăn, vướng mắc" / "Kiến nghị, đề xuất"
    csv = write_csv(
        tmp_path / "bao_cao.csv",
        ["Mã NV", "Khó khăn, vướng mắc", "Kiến nghị, đề xuất"],
        [[second, "Thiếu nhân lực", "Tăng cường cán bộ"]],
    )
    assert import_tasks(scratch, csv, actor="cli:tester").status == "imported"
    assert _task(scratch, second).proposal == "Tăng cường cán bộ"
    # an empty reason cell does not erase a stated reason
    empty = write_csv(tmp_path / "empty.csv", ["Mã NV", "Nguyên nhân"], [[first, ""]])
    import_tasks(scratch, empty, actor="cli:tester")
    assert _task(scratch, first).reason == REASON

    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        body = client.get(f"/api/v1/units/{province}/tasks", params={"overdue": "true"}).json()
        TaskList.model_validate(body)
        by_id = {t["external_id"]: t for t in body["tasks"]}
        assert by_id[first]["reason"] == REASON and by_id[first]["proposal"] == PROPOSAL
        assert by_id[first]["missing_reason"] is False
        listed = client.get(
            f"/api/v1/units/{province}/tasks", params={"missing_reason": "true", "limit": 1000}
        ).json()
        ids = {t["external_id"] for t in listed["tasks"]}
        assert ids == set(missing) - {first, second}
        assert all(t["status"] == "overdue" and t["reason"] is None for t in listed["tasks"])
        detail = client.get(f"/api/v1/provinces/{province}").json()["properties"]
        assert detail["tasks_overdue_without_reason"] == len(ids)


def test_summary_counts_overdue_tasks_without_reason(client, engine):
    body = client.get("/api/v1/summary").json()
    Summary.model_validate(body)
    assert body["tasks_overdue_without_reason"] == 0  # the 2025 slice has nothing overdue
    expected = rows(
        engine,
        "select count(*) n from task t join admin_unit u on u.code = t.unit_code"
        " where u.level = 'commune' and t.program = 'KH02' and t.reason is null"
        " and task_status(t.deadline, t.completed_at, date '2025-11-13') = 'overdue'",
    )[0].n
    assert body["plan02"]["tasks_overdue_without_reason"] == expected > 0
    assert expected < body["plan02"]["tasks_overdue"]  # most overdue tasks state a reason
    all_years = client.get("/api/v1/summary", params={"year": 2024}).json()
    assert 0 < all_years["tasks_overdue_without_reason"] < all_years["tasks_overdue"]
