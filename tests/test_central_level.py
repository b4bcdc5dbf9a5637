"""The whole picture (issue 15): the central level's tasks, agency-scoped imports, data
health ("đúng, đủ, sạch, sống") and Đắk Lắk's targets, on the demo data."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.models import AgencyList, DataHealthList, Phase2, Summary, TargetList
from api.settings import Settings
from geo.read.targets import Reading, judge, period_end
from geo.tokens import create_token
from tests.import_fixtures import rows, scalar, table_versions, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã đơn vị", "Hạn hoàn thành", "Ngày hoàn thành"]


def _sheet(tmp_path, data, header=HEADER, name="nhiem_vu_bo.xlsx"):
    path = write_xlsx(tmp_path / name, header, data)
    return {"file": (path.name, path.read_bytes(), XLSX)}


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_summary_reports_central_level_and_provinces_separately_and_together(client):
    body = client.get("/api/v1/summary").json()
    Summary.model_validate(body)
    # the provinces' published figures, unchanged at the top level
    assert (body["tasks_total"], body["tasks_completed"], body["completion_pct"]) == (
        3430,
        1954,
        56.97,
    )
    central = body["central"]
    assert (central["tasks_total"], central["tasks_completed"]) == (1132, 485)
    assert (central["tasks_on_time"], central["tasks_overdue"]) == (561, 86)
    assert round(central["completion_pct"]) == 43
    assert body["total"]["tasks_total"] == 3430 + 1132
    assert body["total"]["tasks_completed"] == 1954 + 485
    # each province says when it last reported
    assert all(p["data_as_of"] for p in body["provinces"])


def test_agencies_are_listed_most_overdue_first_with_their_tasks(client):
    body = client.get("/api/v1/agencies").json()
    AgencyList.model_validate(body)
    overdue = [a["tasks_overdue"] for a in body["agencies"]]
    assert overdue == sorted(overdue, reverse=True)
    assert body["central"]["tasks_total"] == 1132
    mst = next(a for a in body["agencies"] if a["code"] == "BKHCN")
    assert mst["name"] == "Bộ Khoa học và Công nghệ"
    detail = client.get("/api/v1/agencies/bkhcn").json()  # case-insensitive code
    assert detail["code"] == "BKHCN" and detail["figures"]["tasks_total"] == mst["tasks_total"]
    tasks = client.get("/api/v1/agencies/BKHCN/tasks", params={"limit": 1000}).json()
    assert tasks["numberMatched"] == mst["tasks_total"] and tasks["unit"]["level"] == "agency"
    statuses = {t["status"] for t in tasks["tasks"]}
    assert statuses <= {"completed", "completed_late", "on_time", "overdue"}
    assert client.get("/api/v1/agencies/NOPE").status_code == 404
    assert client.get("/api/v1/agencies/B1").status_code in (400, 422)


def test_agency_sheet_imports_with_its_token_and_another_agencys_token_gets_403(
    scratch, scratch_url, tmp_path
):
    with scratch.begin() as conn:
        _, mst = create_token(conn, "bo-khcn", "editor", "agency:BKHCN")
        _, mof = create_token(conn, "bo-tai-chinh", "editor", "agency:BTC")
        _, ca_mau = create_token(conn, "ca-mau", "editor", "province:96")
    files = _sheet(
        tmp_path,
        [
            ["NQ57-BKHCN-0001", "Nhiệm vụ của Bộ", "BKHCN", "31/12/2025", "10/11/2025"],
            ["BKHCN-NEW-1", "Xây dựng nền tảng dữ liệu khoa học mở", "BKHCN", "30/12/2025", ""],
        ],
    )
    with TestClient(create_app(Settings(database_url=scratch_url))) as api:
        before = table_versions(scratch)
        for other in (mof, ca_mau):
            r = api.post("/api/v1/imports/tasks", files=files, headers=_bearer(other))
            assert r.status_code == 403, r.text
            assert "BKHCN" in r.json()["detail"]
        assert table_versions(scratch) == before
        r = api.post("/api/v1/imports/tasks", files=files, headers=_bearer(mst))
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["updated"]) == (1, 1)
        new = rows(
            scratch, "select unit_code, agency_code from task where external_id = 'BKHCN-NEW-1'"
        )
        assert [(n.unit_code, n.agency_code) for n in new] == [(None, "BKHCN")]
        hist = api.get("/api/v1/agencies/BKHCN/history", params={"task": "BKHCN-NEW-1"}).json()
        assert hist["events"][0]["actor"] == "token:bo-khcn"
        # an unknown agency code is a clear problem naming the cell, not a crash
        bad = _sheet(tmp_path, [["X-1", "Nhiệm vụ", "BXYZ", "31/12/2025", ""]], name="bad.xlsx")
        r = api.post("/api/v1/imports/tasks", files=bad, headers=_bearer(mst))
        assert r.status_code == 422, r.text
        assert "không có bộ, ngành mang mã 'BXYZ'" in r.text  # Vietnamese first
        r = api.post("/api/v1/imports/tasks?lang=en", files=bad, headers=_bearer(mst))
        assert "unknown agency code 'BXYZ'" in r.text


def test_data_health_lists_the_silent_province_first_and_an_import_clears_it(
    scratch, scratch_url, tmp_path
):
    with scratch.begin() as conn:
        _, token = create_token(conn, "dien-bien", "editor", "province:11")
    with TestClient(create_app(Settings(database_url=scratch_url))) as api:
        body = api.get("/api/v1/data-health").json()
        DataHealthList.model_validate(body)
        first = body["units"][0]
        assert (first["code"], first["name"], first["stale"]) == ("11", "Điện Biên", True)
        assert first["days_since_report"] > body["stale_days"] == 7
        assert [u["code"] for u in body["units"] if u["stale"]] == ["11"]
        stale = api.get("/api/v1/data-health", params={"stale": "true"}).json()
        assert [u["code"] for u in stale["units"]] == ["11"]
        wall = api.get("/wall")
        assert wall.status_code == 200
        # Điện Biên sends its sheet (one task completed): it reports again
        task = scalar(
            scratch,
            "select external_id from task where unit_code = '11' and completed_at is null"
            " order by id limit 1",
        )
        files = _sheet(
            tmp_path,
            [[task, "", "11", "", "12/11/2025"]],
        )
        r = api.post("/api/v1/imports/tasks", files=files, headers=_bearer(token))
        assert r.status_code == 200 and r.json()["updated"] == 1, r.text
        body = api.get("/api/v1/data-health").json()  # the next refresh (new data version)
        me = next(u for u in body["units"] if u["code"] == "11")
        assert me["days_since_report"] == 0 and not me["stale"]
        assert body["stale_count"] == 0 and body["units"][0]["code"] != "11"


def test_data_health_sorts_and_is_bounded(client):
    r = client.get("/api/v1/data-health", params={"level": "commune", "limit": 5000})
    assert r.status_code == 400 and "limit" in r.text
    body = client.get("/api/v1/data-health", params={"level": "commune", "sort": "code"}).json()
    codes = [u["code"] for u in body["units"]]
    assert codes == sorted(codes) and body["numberMatched"] == 3321
    agencies = client.get("/api/v1/data-health", params={"level": "agency"}).json()
    assert agencies["units"][0]["code"] == "DTNVN" and agencies["units"][0]["stale"]
    assert client.get("/api/v1/data-health", params={"sort": "nope"}).status_code in (400, 422)


def test_dak_lak_targets_on_2025_q3(client):
    body = client.get("/api/v1/targets", params={"unit": "66"}).json()
    TargetList.model_validate(body)
    states = {(t["subject"], t["kind"]): (t["state"], t["period"]) for t in body["targets"]}
    assert states == {
        ("service_index", "rank_max"): ("met", "2025-Q3"),  # 8th of 34: top 10 met
        ("dti", "rank_max"): ("met", "2025-Q3"),
        ("pii", "rank_max"): ("not_met", "2025-Q3"),
        ("KH02-2", "all_green"): ("not_met", "2025-Q3"),
    }
    service = next(t for t in body["targets"] if t["subject"] == "service_index")
    assert service["current"] == 8
    panel = client.get("/api/v1/provinces/66").json()["properties"]
    assert [t["state"] for t in panel["targets"]] == [t["state"] for t in body["targets"]]
    assert panel["data_health"]["code"] == "66"


def test_plan02_phase2_greening(client):
    body = client.get("/api/v1/plan02/phase2").json()
    Phase2.model_validate(body)
    assert body["period"] == "2025-Q3" and len(body["provinces"]) == 34
    dak_lak = next(p for p in body["provinces"] if p["code"] == "66")
    assert (dak_lak["green"], dak_lak["total"], dak_lak["share_green"]) == (4, 6, 66.67)


@pytest.mark.parametrize(
    ("current", "previous", "threshold", "higher", "state"),
    [
        (8, 15, 10, False, "met"),  # rank 8, improving: met
        (9, 5, 10, False, "at_risk"),  # rank 9 after 5: the trend misses top 10
        (12, 20, 10, False, "not_met"),
        (None, None, 10, False, "no_data"),
        (91, 80, 90, True, "met"),
        (91, 95, 90, True, "at_risk"),
    ],
)
def test_target_rule(current, previous, threshold, higher, state):
    reading = Reading(current, previous, threshold, higher)
    assert judge(reading, dt.date(2025, 11, 13), dt.date(2025, 12, 31)) == state
    if state == "at_risk":  # once the due date has passed, holding is enough
        assert judge(reading, dt.date(2026, 1, 1), dt.date(2025, 12, 31)) == "met"


def test_period_end():
    assert period_end("2025-Q3") == dt.date(2025, 9, 30)
    assert period_end("2025-Q4") == dt.date(2025, 12, 31)
    assert period_end("2024") == dt.date(2024, 12, 31)


TARGET_HEADER = ["Mã tỉnh", "Chỉ tiêu", "Loại mục tiêu", "Ngưỡng", "Hạn", "Mô tả"]


def test_target_sheet_imports_and_is_evaluated(scratch, scratch_url, tmp_path):
    with scratch.begin() as conn:
        _, ca_mau = create_token(conn, "ca-mau", "editor", "province:96")
    files = _sheet(
        tmp_path,
        [
            [
                "96",
                "Chỉ số phục vụ người dân, doanh nghiệp",
                "Xếp hạng",
                "Top 20",
                "31/12/2025",
                "",
            ],
            ["96", "NQ57", "hoàn thành", "50%", "31/12/2025", "Hoàn thành 50% nhiệm vụ"],
            ["96", "KH02-2", "xanh hóa", "", "15/12/2025", ""],
        ],
        header=TARGET_HEADER,
        name="muc_tieu.xlsx",
    )
    with TestClient(create_app(Settings(database_url=scratch_url))) as api:
        r = api.post("/api/v1/imports/targets", files=files, headers=_bearer(ca_mau))
        assert r.status_code == 200 and r.json()["created"] == 3, r.text
        assert {c["status"] for c in r.json()["columns"]} == {"used"}  # every header accounted
        assert len(r.json()["columns"]) == len(TARGET_HEADER)
        again = api.post("/api/v1/imports/targets", files=files, headers=_bearer(ca_mau))
        assert again.json()["status"] == "no_changes"
        body = api.get("/api/v1/targets", params={"unit": "96"}).json()
        kinds = {t["kind"]: t for t in body["targets"]}
        assert set(kinds) == {"rank_max", "completion_min", "all_green"}
        assert kinds["completion_min"]["current"] == 53.66  # Cà Mau: 66 of 123 tasks
        assert kinds["completion_min"]["state"] in ("met", "at_risk")
        # a Cà Mau token may not set Đắk Lắk's targets; nothing changes
        before = table_versions(scratch)
        other = _sheet(
            tmp_path,
            [["66", "dti", "rank_max", "5", "31/12/2025", ""]],
            header=TARGET_HEADER,
            name="other.xlsx",
        )
        assert (
            api.post("/api/v1/imports/targets", files=other, headers=_bearer(ca_mau)).status_code
            == 403
        )
        assert table_versions(scratch) == before
        # a bad row is named, not a crash
        bad = _sheet(
            tmp_path,
            [["96", "no-such-index", "rank_max", "x", "31/13/2025", ""]],
            header=TARGET_HEADER,
            name="bad.xlsx",
        )
        r = api.post("/api/v1/imports/targets", files=bad, headers=_bearer(ca_mau))
        assert r.status_code == 422
        text_ = r.text
        assert "unknown indicator 'no-such-index'" in text_
        assert "'x' is not a threshold" in text_
