"""The reply page (/reply/{token}) in a real browser, answered with the keyboard alone, as a
provincial office would from the link printed in its notice; then the province's panel
shows the answer (reason, proposal, expected date) beside the person in charge, product and
deciding authority imported from a sheet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from geo.ingest.tasks import import_tasks
from geo.remind.issue import RemindRequest, issue
from geo.remind.reply import sign
from geo.tokens import create_token
from tests.import_fixtures import rows, scalar, write_xlsx
from tests.test_map_page import Watch, wait_js
from tests.test_pages_upload import serve


@pytest.fixture
def site(scratch_url) -> Iterator[str]:
    with serve(scratch_url) as origin:
        yield origin


def _tab_to(page, element_id: str, limit: int = 300) -> None:
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_reply_by_keys_lands_in_history_and_panel(browser, site, scratch, tmp_path):
    task = rows(
        scratch,
        "select external_id, extract(year from deadline)::int as year from task"
        " where unit_code = '48' and program = 'NQ57'"
        " and task_status(deadline, completed_at, date '2025-11-13') = 'overdue'"
        " order by deadline, external_id limit 1",
    )[0]
    sheet = write_xlsx(
        tmp_path / "phu-trach.xlsx",
        ["Mã nhiệm vụ", "Người phụ trách", "Sản phẩm", "Cấp có thẩm quyền"],
        [
            [
                task.external_id,
                "Đ/c Hồ Thị D, Phó Chủ tịch UBND",
                "Đề án chuyển đổi số",
                "Ban Thường vụ Tỉnh ủy",
            ]
        ],  # fmt: skip
    )
    assert import_tasks(scratch, sheet, actor="cli:test").ok
    notices = issue(
        scratch,
        RemindRequest(
            overdue=True,
            province="48",
            as_of=dt.date(2025, 11, 13),
            reply_by=dt.date.today() + dt.timedelta(days=7),
        ),  # fmt: skip
        "cli:test",
    )
    notice = next(n for n in notices if n.unit_code == "48")
    assert notice.reply_url and notice.tasks[0]["external_id"] == task.external_id
    token = notice.reply_url.rsplit("/", 1)[1]

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    watch = Watch(page, site)
    page.goto(f"{site}/reply/{token}", wait_until="networkidle")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert notice.doc_number in page.locator("h1").inner_text()
    # keys only: Tab to the first task's choice, arrow to "Chưa hoàn thành"
    _tab_to(page, "s0-done")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "s0-not"
    assert page.is_checked("#s0-not")
    _tab_to(page, "e0")
    page.keyboard.type("31/03/2026")  # as written on paper
    assert page.input_value("#e0") == "31/03/2026"
    _tab_to(page, "r0")
    page.keyboard.type("Chưa bố trí được kinh phí đối ứng")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "p0"
    page.keyboard.type("Đề nghị bổ sung dự toán năm 2026")
    _tab_to(page, "reply-send")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#reply-done").is_visible()
    assert "Đã ghi nhận phản hồi" in page.inner_text("#reply-done")
    assert page.locator("#reply-answered").is_visible()

    actor = f"phản hồi phiếu nhắc {notice.doc_number}"
    event = rows(
        scratch,
        "select e.actor, e.new from task_event e join task t on t.id = e.task_id"
        " where t.external_id = :x order by e.id desc limit 1",
        x=task.external_id,
    )[0]
    assert event.actor == actor
    assert event.new == {
        "reason": "Chưa bố trí được kinh phí đối ứng",
        "proposal": "Đề nghị bổ sung dự toán năm 2026",
        "expected_at": "2026-03-31",
    }
    assert scalar(scratch, "select count(*) from reminder_answer where reminder_id = :r",
                  r=notice.reminder_id) == 1  # fmt: skip

    # the panel of the province shows the answer and the named responsibility
    # the panel of province 48, on the page of the task's deadline year
    page.goto(f"{site}/?year={task.year}#u=48", wait_until="networkidle")
    wait_js(page, "document.documentElement.dataset.mapReady === '1'", timeout=30)
    page.wait_for_selector('#ioc-panel[data-state="ready"]')
    text = page.locator("#ioc-panel").text_content() or ""
    for shown in ("Chưa bố trí được kinh phí đối ứng", "Đề nghị bổ sung dự toán năm 2026",
                  "Dự kiến hoàn thành: 31/03/2026", "Đ/c Hồ Thị D, Phó Chủ tịch UBND",
                  "Đề án chuyển đổi số", "Cấp có thẩm quyền: Ban Thường vụ Tỉnh ủy"):  # fmt: skip
        assert shown in text, shown

    # the reminders page lists the notice as answered
    with scratch.begin() as conn:
        _, secret = create_token(conn, "da-nang", "editor", "province:48")
    page.goto(f"{site}/reminders", wait_until="networkidle")
    wait_js(page, "document.documentElement.dataset.remindersReady === '1'")
    page.focus("#rm-token")
    page.keyboard.type(secret)
    _tab_to(page, "rm-list")
    page.keyboard.press("Enter")
    wait_js(page, "document.body.dataset.state === 'listed'", timeout=30)
    row = page.locator(f'#rm-report tr[data-id="{notice.reminder_id}"]')
    assert row.get_attribute("data-answered") == "1"
    assert row.locator(".rm-answer").inner_text().startswith("Đã phản hồi ")
    assert "email: Đang chờ gửi" in row.locator(".rm-delivery").inner_text()  # no worker ran
    assert watch.errors == []
    # an altered and an expired link: a clear page in Vietnamese, no form (the browser logs
    # the 403 and the 410 of the document itself)
    page.goto(f"{site}/reply/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}")
    assert "bị sửa đổi" in page.inner_text("main") and page.locator("form").count() == 0
    page.goto(f"{site}/reply/{sign(notice.reminder_id or 0, dt.date(2025, 1, 1))}")
    assert "hết hạn" in page.inner_text("main") and page.locator("form").count() == 0
    assert len(watch.errors) == 2 and all("(Forbidden)" in e or "(Gone)" in e for e in watch.errors)
    assert watch.foreign == []
    context.close()
