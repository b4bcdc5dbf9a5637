"""The reminders page (/reminders) in a real browser, as a provincial office uses it: token
typed, criteria chosen by keys, a preview that records nothing, issue after confirming,
each notice downloaded as a numbered DOCX."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import text

from geo.tokens import create_token
from tests.import_fixtures import scalar
from tests.test_map_page import Watch, wait_js
from tests.test_pages_upload import serve
from tests.test_reminders import _below


@pytest.fixture
def site(scratch_url, scratch) -> Iterator[dict]:
    with scratch.begin() as conn:
        _, token = create_token(conn, "so-khcn-ha-noi", "editor", "province:01")
    with serve(scratch_url) as origin:
        yield {"origin": origin, "token": token}


def test_preview_issue_download_by_keys(browser, site, scratch):
    expected = _below(scratch, "KH02", "01", 50)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    watch = Watch(page, site["origin"])
    page.goto(site["origin"] + "/reminders", wait_until="networkidle")
    wait_js(page, "document.documentElement.dataset.remindersReady === '1'")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.click("#rm-token")
    page.keyboard.type(site["token"])
    page.keyboard.press("Tab")  # → programme (Plan 02 first)
    assert page.evaluate("document.activeElement.id") == "rm-program"
    page.focus("#rm-below")
    page.keyboard.type("50")
    page.keyboard.press("Enter")  # submits the form: a preview
    wait_js(page, "['previewed'].includes(document.body.dataset.state) || "
            "(document.body.dataset.state || '').startsWith('refused')", timeout=30)  # fmt: skip
    assert page.evaluate("document.body.dataset.state") == "previewed"
    shown = set(
        page.eval_on_selector_all("#rm-report tr[data-unit]", "rs => rs.map(r => r.dataset.unit)")
    )
    assert shown == expected
    assert "Xem trước (chưa ghi)" in page.inner_text("#rm-report")
    assert scalar(scratch, "select count(*) from reminder") == 0
    page.focus("#rm-issue")
    page.keyboard.press("Enter")
    assert page.locator("#rm-confirm-box").is_visible()
    page.keyboard.press("Enter")  # focus is on "Xác nhận phát hành"
    wait_js(page, "document.body.dataset.state === 'issued'", timeout=30)
    assert scalar(scratch, "select count(*) from reminder") == len(expected)
    numbers = page.eval_on_selector_all(
        "#rm-report tr[data-unit]", "rs => rs.map(r => r.cells[0].textContent)"
    )
    assert sorted(int(n.split("/")[0]) for n in numbers) == list(range(1, len(expected) + 1))
    with page.expect_download() as got:
        page.focus("#rm-report .rm-dl")
        page.keyboard.press("Enter")
    doc = Document(io.BytesIO(Path(got.value.path()).read_bytes()))
    left = [p.text for p in doc.tables[0].rows[0].cells[0].paragraphs if p.text]
    assert left[1] == f"Số: {numbers[0]}"
    assert watch.errors == []
    context.close()


def test_dead_letters_listed_and_retried_by_an_admin(browser, site, scratch):
    """A delivery whose attempts ran out shows in the page's dead-letter list with its
    reason; an admin queues it again by keys; an editor's retry is refused in words."""
    from geo.remind.issue import RemindRequest, issue

    issue(scratch, RemindRequest(program="KH02", below=50, province="01"), "test")
    with scratch.begin() as conn:
        dead = conn.execute(
            text(
                "update delivery set status = 'dead', attempts = 8,"
                " last_error = 'SMTPConnectError: máy chủ thư không trả lời'"
                " where id = (select min(id) from delivery where channel = 'email') returning id"
            )
        ).scalar_one()
        _, admin = create_token(conn, "quan-tri", "admin", None)
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    watch = Watch(page, site["origin"])
    page.goto(site["origin"] + "/reminders", wait_until="networkidle")
    wait_js(page, "document.documentElement.dataset.remindersReady === '1'")
    page.click("#rm-token")
    page.keyboard.type(site["token"])  # the province's editor first
    page.focus("#dl-load")
    page.keyboard.press("Enter")
    wait_js(page, "document.body.dataset.deliveries === 'loaded'", timeout=30)
    row = page.locator(f"#dl-list tr[data-delivery='{dead}']")
    assert "máy chủ thư không trả lời" in row.inner_text()
    assert "Không gửi được" in row.inner_text()
    row.locator(".dl-retry").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('rm-msg').textContent.length > 0")
    assert "Chỉ quản trị viên" in page.inner_text("#rm-msg")
    assert scalar(scratch, f"select status from delivery where id = {dead}") == "dead"
    page.fill("#rm-token", admin)
    page.evaluate("document.body.dataset.deliveries = ''")
    row.locator(".dl-retry").focus()
    page.keyboard.press("Enter")
    wait_js(page, "document.body.dataset.deliveries === 'loaded'", timeout=30)
    assert "Đã xếp hàng gửi lại" in page.inner_text("#rm-msg")
    assert scalar(scratch, f"select status from delivery where id = {dead}") == "queued"
    assert page.locator(f"#dl-list tr[data-delivery='{dead}']").count() == 0
    # the editor's refused retry is the one failed request the console shows
    assert [e for e in watch.errors if "403" not in e] == []
