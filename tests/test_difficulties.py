"""The register of difficulties (issue 28, item 4): a reason's category — given by the
sheet, else suggested from its words and marked so — what a local task waits on, the
counts by category nationally and per province, and the review flag once the central task
it waits on is done."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geo.difficulties import CODES, parse_category, suggest, waits_on_central
from geo.ingest.tasks import import_tasks
from tests.import_fixtures import rows, scalar, write_xlsx

AGENCIES = {"bo khoa hoc va cong nghe": "BKHCN", "bo cong an": "BCA"}


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("Thiếu kinh phí bố trí cho nhiệm vụ", "finance"),
        ("Chưa có hướng dẫn của bộ, ngành trung ương", "coordination"),
        ("Thiếu cán bộ chuyên trách công nghệ thông tin ở xã", "people"),
        ("Đường truyền internet yếu, thiếu máy tính", "infrastructure"),
        ("Phần mềm một cửa chưa liên thông với hệ thống của tỉnh", "data"),
        ("Chưa có quy định về thủ tục", "institutions"),
        ("Sắp xếp lại đơn vị hành chính", None),  # no rule: left for a person to say
        (None, None),
    ],
)
def test_a_reason_suggests_its_category_by_its_words(reason, category):
    assert suggest(reason) == category


def test_a_category_cell_is_read_by_code_label_or_its_first_words():
    assert parse_category("Tài chính") == "finance"
    assert parse_category("THỂ CHẾ, CHÍNH SÁCH") == "institutions"
    assert parse_category("the che") == "institutions"
    assert parse_category("Data and systems") == "data"
    assert parse_category("  ") is None
    with pytest.raises(ValueError, match="Thể chế, chính sách"):
        parse_category("Thời tiết")  # not in the list: the error lists what is


def test_waiting_on_the_centre_is_read_from_the_reason():
    assert waits_on_central("Chưa có hướng dẫn của Bộ Khoa học và Công nghệ", AGENCIES) == (
        True,
        "BKHCN",
    )
    assert waits_on_central("Đang chờ ý kiến của Bộ Công an", AGENCIES) == (True, "BCA")
    assert waits_on_central("Chưa có hướng dẫn của bộ, ngành trung ương", AGENCIES) == (
        True,
        None,
    )
    assert waits_on_central("Bộ Công an đã hướng dẫn, xã chưa làm", AGENCIES) == (False, None)


def test_the_demo_register_counts_open_tasks_by_category(client, engine):
    body = client.get("/api/v1/difficulties").json()
    assert [c["code"] for c in body["categories"]] == list(CODES)
    by = {c["code"]: c for c in body["categories"]}
    assert by["finance"]["open"] > 0 and by["finance"]["overdue"] <= by["finance"]["open"]
    assert by["finance"]["suggested"] == by["finance"]["open"]  # the demo gives no column
    assert body["blocked_central"]["overdue"] > 0
    total = body["blocked_central"]["overdue_total"]
    assert body["blocked_central"]["pct"] == round(
        100 * body["blocked_central"]["overdue"] / total, 2
    )
    # the provinces' rows and the ministries' tasks add up to the national count
    day = body["as_of"]
    fin = sum(p["categories"].get("finance", 0) for p in body["by_province"])
    central = scalar(
        engine,
        "select count(*) from task t join task_difficulty d on d.task_id = t.id"
        " where t.agency_code is not null and d.category = 'finance'"
        " and task_status(t.deadline, t.completed_at, cast(:d as date)) in ('overdue', 'on_time')",
        d=day,
    )
    assert fin + central == by["finance"]["open"]
    # a province's own view, and the tasks behind one of its counts
    province = body["by_province"][0]["code"]
    mine = client.get(
        "/api/v1/difficulties", params={"unit": province, "category": "finance"}
    ).json()
    counted = {c["code"]: c["open"] for c in mine["categories"]}["finance"]
    assert counted == body["by_province"][0]["categories"].get("finance", 0)
    assert mine["numberMatched"] == counted
    assert all(t["category"] == "finance" and t["suggested"] for t in mine["items"])
    assert "by_province" not in mine


def test_bad_parameters_are_4xx_naming_them(client):
    r = client.get("/api/v1/difficulties", params={"unit": "99999"})
    assert r.status_code == 404 and "99999" in r.text
    r = client.get("/api/v1/difficulties", params={"category": "weather"})
    assert r.status_code in (400, 422) and "category" in r.text


def _local_and_central(engine):
    """An overdue local task of a province and an open central (agency) task."""
    local = rows(
        engine,
        "select t.external_id, t.unit_code from task t join admin_unit u on u.code = t.unit_code"
        " where u.level = 'province' and t.program = 'NQ57'"
        " and task_status(t.deadline, t.completed_at, date '2025-11-13') = 'overdue'"
        " order by t.external_id limit 1",
    )[0]
    central = rows(
        engine,
        "select external_id, agency_code, id from task where agency_code is not null"
        " and completed_at is null order by external_id limit 1",
    )[0]
    return local, central


def test_a_sheets_category_and_waits_on_columns_link_and_flag_for_review(
    scratch, scratch_url, tmp_path
):
    local, central = _local_and_central(scratch)
    sheet = write_xlsx(
        tmp_path / "kho_khan.xlsx",
        ["Mã nhiệm vụ", "Mã tỉnh", "Nguyên nhân chậm", "Nhóm khó khăn", "Chờ"],
        [[local.external_id, local.unit_code, "Thiếu kinh phí để thuê hạ tầng",
          "Thể chế, chính sách", central.external_id]],
    )  # fmt: skip
    report = import_tasks(scratch, sheet, actor="cli:tester")
    assert report.status == "imported", [p.reason for p in report.errors]
    row = rows(
        scratch,
        "select d.* from task_difficulty d join task t on t.id = d.task_id"
        " where t.external_id = :e",
        e=local.external_id,
    )[0]
    # the sheet's own category wins over the words (which say finance), and is not "suggested"
    assert (row.category, row.suggested) == ("institutions", False)
    assert (row.waits_on_task_id, row.waits_on_agency) == (central.id, central.agency_code)
    assert row.waits_on_central
    assert scalar(
        scratch,
        "select count(*) from task_event e join task t on t.id = e.task_id"
        " where t.external_id = :e and e.new ->> 'difficulty' = 'institutions'",
        e=local.external_id,
    ) == 1  # fmt: skip

    with TestClient(create_app(Settings(database_url=scratch_url))) as client:
        params = {"unit": local.unit_code, "waits_on": central.agency_code}
        waiting = client.get("/api/v1/difficulties", params=params).json()
        item = next(t for t in waiting["items"] if t["external_id"] == local.external_id)
        assert item["waits_on_task"] == central.external_id and item["review"] is False

        # a later sheet restating only the reason keeps the given category
        again = write_xlsx(
            tmp_path / "lan2.xlsx",
            ["Mã nhiệm vụ", "Mã tỉnh", "Nguyên nhân chậm"],
            [[local.external_id, local.unit_code, "Thiếu kinh phí, chờ bổ sung dự toán"]],
        )
        assert import_tasks(scratch, again, actor="cli:tester").status == "imported"
        assert scalar(
            scratch,
            "select d.category from task_difficulty d join task t on t.id = d.task_id"
            " where t.external_id = :e",
            e=local.external_id,
        ) == "institutions"  # fmt: skip

        # the ministry completes its task: the local task waiting on it is flagged for review
        done = write_xlsx(
            tmp_path / "bo.xlsx",
            ["Mã nhiệm vụ", "Mã đơn vị", "Ngày hoàn thành"],
            [[central.external_id, central.agency_code, "01/11/2025"]],
        )
        report = import_tasks(scratch, done, actor="cli:tester")
        assert report.status == "imported", [p.reason for p in report.errors]
        waiting = client.get("/api/v1/difficulties", params=params).json()
        item = next(t for t in waiting["items"] if t["external_id"] == local.external_id)
        assert item["review"] is True


def test_an_unknown_category_is_a_row_error_naming_the_list(scratch, tmp_path):
    local, _ = _local_and_central(scratch)
    before = scalar(scratch, "select count(*) from task_difficulty")
    sheet = write_xlsx(
        tmp_path / "sai.xlsx",
        ["Mã nhiệm vụ", "Mã tỉnh", "Nguyên nhân chậm", "Nhóm khó khăn"],
        [[local.external_id, local.unit_code, "Mưa bão", "Thời tiết"]],
    )
    report = import_tasks(scratch, sheet, actor="cli:tester")
    assert report.status != "imported"
    problem = report.errors[0]
    assert "Thời tiết" in str(problem.value) and "Tài chính" in (problem.expected or "")
    assert scalar(scratch, "select count(*) from task_difficulty") == before


def test_the_map_measure_is_the_share_blocked_by_central_guidance(client, engine):
    """The choropleth's "blocked by central guidance" is each unit's overdue tasks that wait
    on the centre, of its overdue tasks; the page draws it."""
    import datetime as dt

    from geo.read.difficulties import blocked_share
    from maps.data import layer
    from maps.measures import find

    day = dt.date.fromisoformat(client.get("/api/v1/difficulties").json()["as_of"])
    measure = find("blocked_central_pct", "province", [])
    with engine.connect() as conn:
        data = layer(conn, "province", day, measure, None)
        expected = blocked_share(conn, "province", day)
    assert data.values == expected and any(v for v in expected.values())
    code, pct = next((c, v) for c, v in sorted(expected.items()) if v)
    overdue, blocked = rows(
        engine,
        "select count(*) filter (where task_status(t.deadline, t.completed_at, cast(:d as date))"
        " = 'overdue'), count(*) filter (where task_status(t.deadline, t.completed_at,"
        " cast(:d as date)) = 'overdue' and d.waits_on_central)"
        " from task t left join task_difficulty d on d.task_id = t.id where t.unit_code = :c",
        d=day,
        c=code,
    )[0]
    assert pct == round(100 * blocked / overdue, 2)
    page = client.get("/", params={"measure": "blocked_central_pct"})
    assert page.status_code == 200 and "chờ trung ương" in page.text


def test_the_panel_lists_the_units_difficulties_by_category(browser, live_server, client):
    """Clicking a commune whose open tasks state difficulties shows them by category in the
    panel, the same counts as its task list, suggested ones said so."""
    communes = client.get(
        "/api/v1/communes", params={"status": "overdue", "fields": "code,province_code"}
    ).json()["features"]
    for feature in communes:
        code = feature["properties"]["code"]
        tasks = client.get(f"/api/v1/units/{code}/tasks", params={"limit": 500}).json()["tasks"]
        open_ = [t for t in tasks if t["difficulty"] and t["status"] in ("overdue", "on_time")]
        if open_:
            break
    else:
        pytest.fail("no commune of the demo states a difficulty")
    province = feature["properties"]["province_code"]
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{live_server}/p/{province}")
    page.wait_for_selector(f'path[data-code="{code}"]')
    page.click(f'path[data-code="{code}"]')
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    section = page.locator("#ioc-panel .panel-difficulties")
    assert f"({len(open_)})" in section.locator("h3").inner_text()
    shown = {
        r[0]: int(r[1])
        for r in page.eval_on_selector_all(
            "#ioc-panel .panel-difficulties tbody tr",
            "rs => rs.map(r => [r.cells[0].innerText, r.cells[1].innerText])",
        )
    }
    from geo.difficulties import BY_CODE

    expected: dict[str, int] = {}
    for t in open_:
        label = BY_CODE[t["difficulty"]].vi
        expected[label] = expected.get(label, 0) + 1
    assert shown == expected
    assert "(gợi ý)" in page.locator("#ioc-panel tr.task").first.locator("..").inner_text()
    page.close()
