"""Named responsibility (issue 27): a task's person in charge, product, deciding authority and
expected date from the sheets' Vietnamese headers; contacts of units and ministries, read and
replaced only within a token's scope and never public; ministries reminded like units; a
notice answered through its signed reply link lands in the task history like a sheet row."""

from __future__ import annotations

import datetime as dt
import io
import re

from docx import Document
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from geo.remind.reply import reply_token, sign, verify
from geo.tokens import create_token
from iocmap.cli import app
from tests.import_fixtures import rows, scalar, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECRET = "test-reply-secret-" + "x" * 32


def _auth(engine, role: str, scope: str | None, name: str) -> dict:
    with engine.begin() as conn:
        _, token = create_token(conn, name, role, scope)
    return {"Authorization": f"Bearer {token}"}


def _app(url: str, **kw) -> TestClient:
    return TestClient(
        create_app(
            Settings(database_url=url, reply_secret=SECRET, public_url="http://x.test", **kw)
        )
    )


def _overdue_task(engine, province: str = "48"):
    return rows(
        engine,
        "select external_id, unit_code from task where unit_code = :p and program = 'NQ57'"
        " and task_status(deadline, completed_at, date '2025-11-13') = 'overdue'"
        " order by external_id limit 1",
        p=province,
    )[0]


def test_sheet_headers_give_person_product_authority_and_expected_date(
    scratch_url, scratch, tmp_path
):
    task = _overdue_task(scratch)
    header = ["Mã nhiệm vụ", "Cán bộ phụ trách", "Sản phẩm đầu ra", "Cấp quyết định",
              "Dự kiến hoàn thành"]  # fmt: skip
    sheet = write_xlsx(
        tmp_path / "trach-nhiem.xlsx",
        header,
        [
            [
                task.external_id,
                "Đ/c Lê Văn C, Phó Giám đốc Sở KH&CN",
                "Nghị quyết của HĐND tỉnh",
                "Thủ tướng Chính phủ",
                "31/03/2026",
            ]
        ],  # fmt: skip
    )
    admin = _auth(scratch, "admin", None, "central")
    with _app(scratch_url) as api:
        r = api.post(
            "/api/v1/imports/tasks",
            files={"file": (sheet.name, sheet.read_bytes(), XLSX)},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        assert r.json()["updated"] == 1
        used = {c["header"]: c.get("field") for c in r.json()["columns"]}
        assert used == {"Mã nhiệm vụ": "external_id", "Cán bộ phụ trách": "person_in_charge",
                        "Sản phẩm đầu ra": "product", "Cấp quyết định": "authority",
                        "Dự kiến hoàn thành": "expected_at"}  # fmt: skip
        body = api.get(f"/api/v1/units/{task.unit_code}/tasks", params={"limit": 500}).json()
        got = next(t for t in body["tasks"] if t["external_id"] == task.external_id)
        assert got["person_in_charge"] == "Đ/c Lê Văn C, Phó Giám đốc Sở KH&CN"
        assert got["product"] == "Nghị quyết của HĐND tỉnh"
        assert got["authority"] == "Thủ tướng Chính phủ"
        assert got["expected_at"] == "2026-03-31"
        hist = api.get(f"/api/v1/units/{task.unit_code}/history",
                       params={"task": task.external_id}).json()  # fmt: skip
        assert hist["events"][0]["new"]["authority"] == "Thủ tướng Chính phủ"


CONTACTS = {
    "contacts": [
        {"role": "Văn phòng UBND tỉnh", "name": "Nguyễn Thị Liên Lạc",
         "email": "lienlac.vp@camau.example.vn"},
        {"role": "Ủy viên Ban Thường vụ phụ trách địa bàn", "name": "Trần Văn Phụ Trách",
         "email": "phutrach@camau.example.vn", "is_leader": True},
    ]
}  # fmt: skip


def test_contacts_are_scoped_bounded_and_never_public(scratch_url, scratch):
    ca_mau = _auth(scratch, "editor", "province:96", "ca-mau")
    ha_noi = _auth(scratch, "editor", "province:01", "ha-noi")
    viewer = _auth(scratch, "viewer", None, "xem")
    mst = _auth(scratch, "editor", "agency:BKHCN", "bo-khcn")
    commune = scalar(scratch, "select code from admin_unit where parent_code = '96' limit 1")
    with _app(scratch_url) as api:
        url = "/api/v1/units/96/contacts"
        assert api.get(url).status_code == 401
        assert api.put(url, json=CONTACTS).status_code == 401
        assert api.get(url, headers=viewer).status_code == 403
        assert api.put(url, json=CONTACTS, headers=ha_noi).status_code == 403
        r = api.put(url, json=CONTACTS, headers=ca_mau)
        assert r.status_code == 200, r.text
        assert [c["is_leader"] for c in r.json()["contacts"]] == [False, True]
        assert r.headers["cache-control"] == "private, no-store"
        got = api.get(url, headers=ca_mau).json()
        assert [c["name"] for c in got["contacts"]] == ["Nguyễn Thị Liên Lạc", "Trần Văn Phụ Trách"]
        assert got["contacts"][0]["updated_by"] == "token:ca-mau"
        # another province's editor cannot read them; the province's token reads its communes'
        assert api.get(url, headers=ha_noi).status_code == 403
        assert api.get(f"/api/v1/units/{commune}/contacts", headers=ca_mau).status_code == 200
        assert api.get("/api/v1/units/01/contacts", headers=ca_mau).status_code == 403
        assert api.get("/api/v1/units/97/contacts", headers=ca_mau).status_code in (403, 404)
        # bounded: the field is named
        bad = {"contacts": [{"role": "x", "name": "Ai đó", "email": "khong-phai-thu"}]}
        r = api.put(url, json=bad, headers=ca_mau)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "contacts[0].email"
        r = api.put(url, json={"contacts": [{"role": "x", "name": "A" * 201}]}, headers=ca_mau)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "contacts[0].name"
        many = {"contacts": [{"role": "r", "name": f"N{i}"} for i in range(21)]}
        assert api.put(url, json=many, headers=ca_mau).status_code == 422
        two = {"contacts": [{"role": "r", "name": "A", "is_leader": True},
                            {"role": "r", "name": "B", "is_leader": True}]}  # fmt: skip
        assert api.put(url, json=two, headers=ca_mau).status_code == 422
        assert api.put(url, content=b"[not json", headers=ca_mau).status_code == 422
        # a ministry's contacts: its own token
        agency_url = "/api/v1/agencies/BKHCN/contacts"
        one = {"contacts": [{"role": "Văn phòng Bộ", "name": "Phạm Bộ Trưởng Văn Phòng",
                             "email": "vp@mst.example.vn"}]}  # fmt: skip
        assert api.put(agency_url, json=one, headers=ca_mau).status_code == 403
        assert api.put(agency_url, json=one, headers=mst).status_code == 200
        assert (
            api.get(agency_url, headers=mst).json()["contacts"][0]["email"] == "vp@mst.example.vn"
        )
        assert api.get(agency_url, headers=ca_mau).status_code == 403
        assert api.get("/api/v1/agencies/BXYZ/contacts", headers=mst).status_code in (403, 404)
        # never public: layers, OGC items, a CSV download, the unit's tasks
        for public in (
            "/api/v1/provinces",
            "/api/v1/units/96/tasks?limit=500",
            "/ogc/collections/provinces/items?limit=100",
            "/api/v1/download/provinces.csv",
            "/api/v1/agencies/BKHCN",
        ):
            r = api.get(public)
            assert r.status_code == 200, public
            for secret in ("Liên Lạc", "lienlac.vp", "Phụ Trách", "phutrach@", "vp@mst"):
                assert secret not in r.text, (public, secret)


def test_a_ministry_is_reminded_like_a_province(scratch_url, scratch):
    overdue = scalar(
        scratch,
        "select count(*) from task where agency_code = 'BXD'"
        " and task_status(deadline, completed_at, date '2025-11-13') = 'overdue'",
    )
    if not overdue:  # the demo's ministry tasks: make one overdue
        with scratch.begin() as conn:
            conn.exec_driver_sql(
                "update task set deadline = date '2025-06-30', completed_at = null"
                " where id = (select min(id) from task where agency_code = 'BXD')"
            )
    mst = _auth(scratch, "editor", "agency:BXD", "bo-xd")
    ca_mau = _auth(scratch, "editor", "province:96", "ca-mau")
    with _app(scratch_url) as api:
        params = {"overdue": "true", "agency": "BXD", "as_of": "2025-11-13"}
        assert api.post("/api/v1/reminders", params=params, headers=ca_mau).status_code == 403
        bad = api.post("/api/v1/reminders", params={**params, "province": "96"}, headers=mst)
        assert bad.status_code == 422
        r = api.post("/api/v1/reminders", params=params, headers=mst)
        assert r.status_code == 200, r.text
        notices = r.json()["notices"]
        assert [n["unit_code"] for n in notices] == ["BXD"]
        assert notices[0]["recipient"] == "Bộ Xây dựng"
        assert notices[0]["holder"] == "agency" and notices[0]["reply_url"] is None
        # the ministry's token defaults to its own agency
        same = api.post("/api/v1/reminders", params={"overdue": "true", "as_of": "2025-11-13"},
                        headers=mst).json()  # fmt: skip
        assert same["preview_id"] == r.json()["preview_id"]
        issued = api.post(f"/api/v1/reminders/previews/{r.json()['preview_id']}/issue", headers=mst)
        assert issued.status_code == 200, issued.text
        n = issued.json()["notices"][0]
        assert n["number"] == 1 and n["doc_number"].startswith("01/")
        assert n["reply_url"].startswith("http://x.test/reply/")
        assert scalar(scratch, "select agency_code from reminder where id = :i", i=n["id"]) == "BXD"
        docx = api.get(f"/api/v1/reminders/{n['id']}.docx", headers=mst)
        assert docx.status_code == 200
        text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
        assert "Kính gửi: Bộ Xây dựng." in text
        assert n["reply_url"] in text  # the reply link is printed in the notice
        listed = api.get("/api/v1/reminders", params={"unit": "BXD"}, headers=mst).json()
        assert [x["id"] for x in listed["reminders"]] == [n["id"]]
        assert listed["reminders"][0]["holder"] == "agency"
        assert listed["reminders"][0]["answered"] is False
        assert api.get("/api/v1/reminders", params={"unit": "BXD"},
                       headers=ca_mau).json()["numberMatched"] == 0  # fmt: skip
        # rounds and withdrawals work the same
        w = api.post(f"/api/v1/reminders/{n['id']}/withdraw", params={"reason": "nhầm"},
                     headers=ca_mau)  # fmt: skip
        assert w.status_code == 403
        w = api.post(f"/api/v1/reminders/{n['id']}/withdraw", params={"reason": "nhầm"},
                     headers=mst)  # fmt: skip
        assert w.status_code == 200, w.text


def _issue_48(api, auth) -> dict:
    r = api.post(
        "/api/v1/reminders",
        params={"overdue": "true", "province": "48", "program": "NQ57", "confirm": "true",
                "as_of": "2025-11-13", "reply_by": str(dt.date.today() + dt.timedelta(days=7))},
        headers=auth,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return next(n for n in r.json()["notices"] if n["unit_code"] == "48")


def _form(tasks: list[dict], answers: dict[int, dict]) -> dict:
    out = {}
    for i, t in enumerate(tasks):
        out[f"t{i}"] = t["external_id"]
        for k, v in answers.get(i, {}).items():
            out[f"{k}{i}"] = v
    return out


def test_reply_link_answers_the_notice_through_the_task_import(scratch_url, scratch):
    admin = _auth(scratch, "admin", None, "central")
    with _app(scratch_url) as api:
        notice = _issue_48(api, admin)
        token = notice["reply_url"].rsplit("/", 1)[1]
        rid, expires = verify(token)
        assert rid == notice["id"] and expires == dt.date.fromisoformat(notice["reply_by"]) + (
            dt.timedelta(days=30)
        )
        page = api.get(f"/reply/{token}")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "<script" not in page.text
        assert notice["tasks"][0]["external_id"] in page.text
        tasks = notice["tasks"]
        # incomplete: a "not done" without reason/expected date → 422 page naming the task
        bad = api.post(f"/reply/{token}", data=_form(tasks, {0: {"s": "not", "p": "x"}}))
        assert bad.status_code == 422 and "nguyên nhân" in bad.text
        # a bad date is the sheet's own validation
        bad = api.post(
            f"/reply/{token}",
            data=_form(tasks, {0: {"s": "not", "r": "Thiếu vốn", "e": "31/02/2026"}}),
        )
        assert bad.status_code == 422, bad.text
        assert scalar(scratch, "select count(*) from reminder_answer") == 0
        # a task of another notice cannot be written with this link
        other = rows(scratch, "select external_id from task where unit_code = '01' limit 1")[0]
        forged = _form(tasks, {0: {"s": "done", "d": "2025-11-10"}}) | {"t0": other.external_id}
        r = api.post(f"/reply/{token}", data=forged)
        assert r.status_code == 422 and "không có trong phiếu" in r.text
        before = scalar(scratch, "select count(*) from task_event")
        ok = api.post(
            f"/reply/{token}",
            data=_form(tasks, {0: {"s": "not", "r": "Chưa bố trí được kinh phí",
                                   "p": "Đề nghị Sở Tài chính bổ sung dự toán",
                                   "e": "2026-03-31"}}),
        )  # fmt: skip
        assert ok.status_code == 200, ok.text
        assert "Đã ghi nhận phản hồi" in ok.text
        assert scalar(scratch, "select count(*) from task_event") == before + 1
        ev = rows(
            scratch,
            "select e.actor, e.new, r.kind, r.file_sha256 from task_event e"
            " join import_run r on r.id = e.import_run_id order by e.id desc limit 1",
        )[0]
        assert ev.actor == f"phản hồi phiếu nhắc {notice['doc_number']}"
        assert ev.new["reason"] == "Chưa bố trí được kinh phí"
        assert ev.new["proposal"] == "Đề nghị Sở Tài chính bổ sung dự toán"
        assert ev.new["expected_at"] == "2026-03-31"
        assert ev.kind == "answers" and ev.file_sha256
        listed = api.get("/api/v1/reminders", params={"unit": "48"}, headers=admin).json()
        mine = next(x for x in listed["reminders"] if x["id"] == notice["id"])
        assert mine["answered"] is True and mine["answered_at"]
        hist = api.get("/api/v1/units/48/history", params={"task": tasks[0]["external_id"]}).json()
        assert hist["events"][0]["actor"] == f"phản hồi phiếu nhắc {notice['doc_number']}"
        # too fast again → 429 page
        again = api.post(
            f"/reply/{token}", data=_form(tasks, {0: {"s": "done", "d": "2025-11-10"}})
        )
        assert again.status_code == 429

        # refused links: altered, expired, another purpose, malformed, oversize body
        altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        r = api.get(f"/reply/{altered}")
        assert r.status_code == 403 and "bị sửa đổi" in r.text and '<html lang="vi"' in r.text
        other_id = re.sub(r"^\d+", str(notice["id"] + 1), token)
        assert api.get(f"/reply/{other_id}").status_code == 403
        expired = sign(notice["id"], dt.date.today() - dt.timedelta(days=1))
        r = api.get(f"/reply/{expired}")
        assert r.status_code == 410 and "hết hạn" in r.text
        assert api.post(f"/reply/{expired}", data={"t0": "x", "s0": "done"}).status_code == 410
        purpose = sign(notice["id"], dt.date.today() + dt.timedelta(days=5), purpose="unsubscribe")
        assert api.get(f"/reply/{purpose}").status_code == 403
        assert api.get("/reply/abc").status_code == 404
        big = api.post(f"/reply/{token}", data={"r0": "x" * (70 << 10)})
        assert big.status_code == 413
        assert reply_token(notice["id"], dt.date.fromisoformat(notice["reply_by"])) == token


def test_contacts_import_from_a_sheet_all_or_nothing(scratch, scratch_url, tmp_path, monkeypatch):
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    header = ["Mã đơn vị", "Chức danh", "Họ và tên", "Thư điện tử", "Lãnh đạo phụ trách địa bàn"]
    good = write_xlsx(
        tmp_path / "danh-ba.xlsx",
        header,
        [["96", "Văn phòng UBND tỉnh", "Lê Thị Văn Thư", "vanthu@camau.example.vn", ""],
         ["96", "Ủy viên BTV Tỉnh ủy phụ trách", "Đỗ Văn Lãnh Đạo", "ldd@camau.example.vn", "x"],
         ["bxd", "Văn phòng Bộ", "Vũ Thị Bộ", "vp@moc.example.vn", ""]],
    )  # fmt: skip
    res = CliRunner().invoke(app, ["contacts", "import", str(good)])
    assert res.exit_code == 0, res.output
    assert "2 đơn vị: 3 người" in res.output
    assert "vanthu@" not in res.output  # personal data stays out of the terminal
    got = rows(scratch, "select unit_code, agency_code, name, is_leader, updated_by"
                        " from unit_contact order by id")  # fmt: skip
    assert [(g.unit_code, g.agency_code, g.name, g.is_leader) for g in got] == [
        ("96", None, "Lê Thị Văn Thư", False),
        ("96", None, "Đỗ Văn Lãnh Đạo", True),
        (None, "BXD", "Vũ Thị Bộ", False),
    ]
    assert got[0].updated_by.startswith("cli:")
    bad = write_xlsx(
        tmp_path / "sai.xlsx",
        header,
        [["96", "Văn phòng", "Người Mới", "khong-co-a-còng", ""],
         ["99999", "Văn phòng", "Ai Đó", "", ""]],
    )  # fmt: skip
    res = CliRunner().invoke(app, ["contacts", "import", str(bad)])
    assert res.exit_code == 2
    assert "dòng 2, cột 'Thư điện tử'" in res.output and "dòng 3, cột 'Mã đơn vị'" in res.output
    assert scalar(scratch, "select count(*) from unit_contact") == 3  # nothing written


def test_reply_links_are_masked_in_access_logs():
    from api.observability import mask_secrets

    assert mask_secrets("/reply/12.20260131.abcdefghijklmnopqrstuvwx") == "/reply/***"
    assert mask_secrets('"POST /reply/12.2026.x HTTP/1.1" 200') == '"POST /reply/*** HTTP/1.1" 200'
    assert mask_secrets("/api/v1/units/96/tasks") == "/api/v1/units/96/tasks"


def test_an_answer_cannot_write_a_task_outside_its_notice_even_past_the_form(scratch):
    """The import itself refuses a task the notice does not name (defence behind the
    form's own check): a row error, nothing written, no answer recorded."""
    from geo.remind.answer import Answer, submit
    from geo.remind.issue import RemindRequest, issue

    notices = issue(
        scratch,
        RemindRequest(overdue=True, province="48", as_of=dt.date(2025, 11, 13)),
        "cli:test",
    )
    notice = next(n for n in notices if n.unit_code == "48")
    other = rows(scratch, "select external_id from task where unit_code = '01' limit 1")[0]
    before = scalar(scratch, "select count(*) from task_event")
    report, _ = submit(
        scratch, notice.reminder_id or 0, [Answer(other.external_id, True, "10/11/2025")]
    )
    assert report.errors and "không có trong phiếu nhắc này" in report.errors[0].reason
    assert scalar(scratch, "select count(*) from task_event") == before
    assert scalar(scratch, "select count(*) from reminder_answer") == 0


def test_cli_reminds_a_ministry_and_prints_its_reply_link_in_the_letter(
    scratch, scratch_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    monkeypatch.setenv("IOCMAP_PUBLIC_URL", "https://ioc.example.vn")
    monkeypatch.setenv("IOCMAP_REPLY_SECRET", SECRET)
    out = tmp_path / "out"
    args = ["remind", "--agency", "BXD", "--overdue", "--as-of", "2025-11-13"]
    res = CliRunner().invoke(app, [*args, "--issue", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "BXD Bộ Xây dựng" in res.output
    (docx,) = out.glob("*.docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.read_bytes())).paragraphs)
    assert "Kính gửi: Bộ Xây dựng." in text
    link = re.search(r"https://ioc\.example\.vn/reply/(\S+?)\./\.", text)
    assert link, text
    assert verify(link.group(1), dt.date(2025, 11, 20))[0] == scalar(
        scratch, "select id from reminder where agency_code = 'BXD'"
    )
    bad = CliRunner().invoke(app, ["remind", "--agency", "BXD", "--province", "96", "--overdue"])
    assert bad.exit_code == 2 and "province hoặc agency" in bad.output
