"""Issue 27's acceptance, end to end on real servers on loopback: an overdue task → a
preview → the notice issued → it arrives in a real SMTP server with its DOCX → the reply
link in the mail is opened in headless Chromium and answered with keys → the reason,
proposal and expected date are in the task's history and its panel → a second unit that
does not answer is escalated after its reply-by date (time moved by the test, not slept)
with the leader in charge in copy."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest

from deploy.topology import free_port
from geo.tokens import create_token
from tests.import_fixtures import rows
from tests.test_deliveries import Inbox, _docx_text, _once, _overdue_provinces, _smtp, _subject
from tests.test_deliveries import _worker_env as worker_env
from tests.test_map_page import wait_js
from tests.test_pages_reply import _tab_to
from tests.test_pages_upload import serve

SECRET = "notice-loop-reply-key-" + "x" * 32


@pytest.fixture
def site(scratch_url, monkeypatch) -> Iterator[str]:
    # the server and the worker sign and check reply links with one deployment key
    monkeypatch.setenv("IOCMAP_REPLY_SECRET", SECRET)
    with serve(scratch_url) as origin:
        monkeypatch.setenv("IOCMAP_PUBLIC_URL", origin)
        yield origin


def _contacts(api: httpx.Client, code: str) -> None:
    body = [
        {"role": "Văn phòng UBND", "name": "Nguyễn Văn Á", "email": f"vp-{code}@example.vn"},
        {"role": "Ủy viên Ban Thường vụ phụ trách địa bàn", "name": "Lê Văn Lãnh Đạo",
         "email": f"ld-{code}@example.vn", "is_leader": True},
    ]  # fmt: skip
    r = api.put(f"/api/v1/units/{code}/contacts", json={"contacts": body})
    assert r.status_code == 200, r.text


def _issue(api: httpx.Client, code: str, reply_by: dt.date) -> dict:
    """Preview, then issue exactly that preview."""
    r = api.post(
        "/api/v1/reminders",
        params={"overdue": "true", "province": code, "reply_by": reply_by.isoformat()},
    )
    assert r.status_code == 200, r.text
    seen = r.json()
    assert [n["unit_code"] for n in seen["notices"]] == [code], seen
    r = api.post(f"/api/v1/reminders/previews/{seen['preview_id']}/issue")
    assert r.status_code == 200, r.text
    (notice,) = r.json()["notices"]
    return notice


def test_an_overdue_task_is_reminded_mailed_answered_and_silence_escalates(
    browser, site, scratch, scratch_url, monkeypatch
):
    answering, silent = _overdue_provinces(scratch, 2)
    with scratch.begin() as conn:
        _, admin = create_token(conn, "van-phong-bcd", "admin", None)
    reply_by = dt.date.today() + dt.timedelta(days=3)
    with httpx.Client(base_url=site, headers={"Authorization": f"Bearer {admin}"}) as api:
        for code in (answering, silent):
            _contacts(api, code)
        notices = {code: _issue(api, code, reply_by) for code in (answering, silent)}

    # the worker mails both notices to a real SMTP server on loopback
    inbox, port = Inbox(), free_port()
    ctl = _smtp(port, inbox)
    try:
        worker_env(monkeypatch, scratch_url, SMTP_URL=f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("IOCMAP_REPLY_SECRET", SECRET)
        monkeypatch.setenv("IOCMAP_PUBLIC_URL", site)
        sent = _once("--today", dt.date.today().isoformat())
    finally:
        ctl.stop()
    assert sorted(d["status"] for d in sent["deliveries"]) == ["sent", "sent"], sent
    # the list of issued notices says how each was delivered
    with httpx.Client(base_url=site, headers={"Authorization": f"Bearer {admin}"}) as api:
        listed = api.get("/api/v1/reminders").json()["reminders"]
    by_id = {n["id"]: n for n in listed}
    for code in (answering, silent):
        channels = {d["channel"]: d["status"] for d in by_id[notices[code]["id"]]["deliveries"]}
        assert channels["email"] == "sent", channels
    mail = {
        code: next(m for m, to in zip(inbox.messages, inbox.rcpts, strict=True)
                   if f"vp-{code}@example.vn" in to)
        for code in (answering, silent)
    }  # fmt: skip
    notice = notices[answering]
    msg = mail[answering]
    assert notice["doc_number"] in _subject(msg)
    assert f"Kính gửi: {notice['recipient']}." in _docx_text(msg)
    body = msg.get_body(("plain",)).get_content()
    link = re.search(r"tại: (https?://\S+/reply/\S+)$", body, re.MULTILINE)
    assert link, body
    assert link.group(1).startswith(site)  # the deployment's public address
    task = notice["tasks"][0]["external_id"]

    # the office opens the link and answers with the keyboard alone
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(link.group(1), wait_until="networkidle")
    assert notice["doc_number"] in page.locator("h1").inner_text()
    _tab_to(page, "s0-done")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("#s0-not")
    _tab_to(page, "e0")
    page.keyboard.type("31/03/2026")
    _tab_to(page, "r0")
    page.keyboard.type("Chờ hướng dẫn của Bộ Khoa học và Công nghệ")
    page.keyboard.press("Tab")
    page.keyboard.type("Đề nghị Bộ sớm ban hành hướng dẫn")
    _tab_to(page, "reply-send")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Đã ghi nhận phản hồi" in page.inner_text("#reply-done")

    event = rows(
        scratch,
        "select e.actor, e.new from task_event e join task t on t.id = e.task_id"
        " where t.external_id = :x order by e.id desc limit 1",
        x=task,
    )[0]
    assert event.actor == f"phản hồi phiếu nhắc {notice['doc_number']}"
    assert event.new["reason"] == "Chờ hướng dẫn của Bộ Khoa học và Công nghệ"
    assert event.new["expected_at"] == "2026-03-31"
    # …and in the province's panel (the task's deadline year)
    year = rows(scratch, "select extract(year from deadline)::int y from task where external_id"
                " = :x", x=task)[0].y  # fmt: skip
    page.goto(f"{site}/?year={year}#u={answering}", wait_until="networkidle")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'", timeout=30)
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    panel = page.locator("#ioc-panel").text_content() or ""
    assert "Chờ hướng dẫn của Bộ Khoa học và Công nghệ" in panel
    assert "Dự kiến hoàn thành: 31/03/2026" in panel
    context.close()

    # past the reply-by date (moved, not slept): the silent unit gets round 2, leader copied
    inbox, port = Inbox(), free_port()
    ctl = _smtp(port, inbox)
    try:
        worker_env(monkeypatch, scratch_url, SMTP_URL=f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("IOCMAP_REPLY_SECRET", SECRET)
        out = _once("--today", (reply_by + dt.timedelta(days=1)).isoformat())
    finally:
        ctl.stop()
    escalated = out["escalation"]["escalated"]
    assert [e["code"] for e in escalated] == [silent], out  # the one that answered is not
    (msg,) = inbox.messages
    assert "Nhắc lần 2 — báo cáo lãnh đạo phụ trách" in _subject(msg)
    assert f"ld-{silent}@example.vn" in msg["Cc"]
    assert "Đồng chí Lê Văn Lãnh Đạo" in _docx_text(msg)


def test_a_link_copied_with_the_sentences_full_stop_still_opens():
    """The letter prints the link inside a sentence ("… tại địa chỉ <link>."); copied with
    its full stop or comma it still verifies; any other change does not."""
    from geo.remind import reply

    token = reply.reply_token(7, dt.date.today() + dt.timedelta(days=3))
    assert reply.verify(token)[0] == 7
    for copied in (token + ".", token + ",", token + ")."):
        assert reply.verify(copied)[0] == 7
    with pytest.raises(reply.ReplyTokenError):
        reply.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_a_reminded_ministry_still_overdue_is_on_the_walls_rail(scratch):
    """Ministries take notices like units (item 2) and, still overdue, show on the wall's
    rail with their own name."""
    from geo.read.followup import reminded_still_overdue
    from geo.remind.issue import RemindRequest, issue

    agency = rows(
        scratch,
        "select t.agency_code, a.name from task t join agency a on a.code = t.agency_code"
        " where task_status(t.deadline, t.completed_at, date '2025-11-13') = 'overdue'"
        " group by 1, 2 order by count(*) desc, 1 limit 1",
    )[0]
    (notice,) = issue(
        scratch,
        RemindRequest(program="NQ57", overdue=True, agency=agency.agency_code, force=True,
                      as_of=dt.date(2025, 11, 13)),
        "cli:test",
    )  # fmt: skip
    with scratch.connect() as conn:
        rail = reminded_still_overdue(conn, dt.date(2025, 11, 13), limit=500)
    (mine,) = [r for r in rail if r["unit_code"] == agency.agency_code]
    assert mine["name"] == agency.name and mine["still_overdue"] == len(notice.tasks)


def test_a_notice_on_older_figures_gets_a_reply_by_date_still_ahead(scratch):
    """Issued today on the figures of an earlier day (the demo's 13/11/2025), a notice's
    default reply-by date is seven days from today — not a date already past, which would
    also make its reply link expired the day it is sent."""
    from geo.remind import reply
    from geo.remind.issue import RemindRequest, preview

    code = rows(
        scratch,
        "select unit_code from task where program = 'NQ57' and unit_code ~ '^[0-9]{2}$'"
        " and task_status(deadline, completed_at, date '2025-11-13') = 'overdue' limit 1",
    )[0].unit_code
    with scratch.connect() as conn:
        seen = preview(conn, RemindRequest(overdue=True, province=code, force=True))
    assert seen.request.as_of == dt.date(2025, 11, 13)
    from geo.read.progress import VN_TZ

    assert seen.request.reply_by == dt.datetime.now(VN_TZ).date() + dt.timedelta(days=7)
    token = reply.reply_token(1, seen.request.reply_by)
    assert reply.verify(token)[0] == 1  # the link it prints opens today
