"""The upload page (/upload) in a real browser, as a provincial officer uses it: token typed
once (kept for the tab only), sheet chosen, dry-run report as a Vietnamese table, confirm,
applied; a broken sheet shows its problems by row and column with a problems file to
download; an out-of-scope token gets a clear refusal and nothing changes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from api.settings import Settings
from geo.tokens import create_token
from tests.import_fixtures import rows, table_versions, write_xlsx
from tests.test_map_page import Watch, wait_js

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành"]


@contextmanager
def serve(url: str) -> Iterator[str]:
    """The real app on a scratch database under uvicorn, on a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(database_url=url, import_max_bytes=2_000_000))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def site(scratch_url, scratch) -> Iterator[dict]:
    with scratch.begin() as conn:
        _, token = create_token(conn, "ca-mau-office", "editor", "province:96")
    with serve(scratch_url) as origin:
        yield {"origin": origin, "token": token}


def open_upload(browser, origin: str, context=None):
    context = context or browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    watch = Watch(page, origin)
    page.goto(origin + "/upload", wait_until="networkidle")
    wait_js(page, "document.documentElement.dataset.uploadReady === '1'")
    return page, watch


def send(page, token: str | None, path) -> None:
    """Type the token, choose the file, press the check button with the keyboard."""
    if token is not None:
        page.click("#up-token")
        page.keyboard.type(token)
    page.set_input_files("#up-file", str(path))
    page.focus("#up-check")
    page.keyboard.press("Enter")
    wait_js(
        page,
        "['checked','columns','rejected','applied'].includes(document.body.dataset.state)"
        " || (document.body.dataset.state || '').startsWith('refused')",
        timeout=30,
    )


def counts(page) -> dict[str, str]:
    cells = page.eval_on_selector_all(
        "#up-report table.counts tr",
        "rs => rs.map(r => [r.cells[0].textContent, r.cells[1].textContent])",
    )
    return dict(cells)


def test_good_sheet_dry_run_then_confirm_applies_it(browser, site, scratch, tmp_path):
    good = write_xlsx(
        tmp_path / "ca_mau_nhiem_vu.xlsx",
        HEADER,
        [
            ["WEB-1", "Số hóa hồ sơ một cửa", "96", "31/12/2025"],
            ["WEB-2", "Kết nối dữ liệu dân cư", "96", "30/11/2025"],
        ],
    )
    page, watch = open_upload(browser, site["origin"])
    assert page.locator("html").get_attribute("lang") == "vi"
    send(page, site["token"], good)
    assert page.evaluate("document.body.dataset.state") == "checked"
    report = page.inner_text("#up-report")
    assert "Kết quả chạy thử (chưa ghi)" in report and "ca_mau_nhiem_vu.xlsx" in report
    c = counts(page)
    assert (c["Số dòng đã đọc"], c["Tạo mới"], c["Dòng bị loại"]) == ("2", "2", "0")
    assert rows(scratch, "select 1 from task where external_id like 'WEB-%'") == []  # dry run
    page.click("#up-apply")
    assert page.locator("#up-confirm-box").is_visible()
    page.keyboard.press("Enter")  # focus is on "Xác nhận cập nhật"
    wait_js(page, "document.body.dataset.state === 'applied'", timeout=30)
    assert "Đã cập nhật" in page.inner_text("#up-report")
    assert len(rows(scratch, "select 1 from task where external_id like 'WEB-%'")) == 2
    # the token stays for this tab (a reload keeps it) and nowhere else
    page.reload(wait_until="networkidle")
    assert page.input_value("#up-token") == site["token"]
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("Object.keys(localStorage).length") == 0
    other = browser.new_context()
    fresh, _ = open_upload(browser, site["origin"], other)
    assert fresh.input_value("#up-token") == ""
    other.close()
    assert watch.errors == [] and watch.foreign == []
    page.screenshot(path=str(ARTIFACTS / "upload_applied.png"))
    page.context.close()


def test_broken_sheet_shows_each_problem_with_its_row_and_a_download(
    browser, site, scratch, tmp_path
):
    before = table_versions(scratch)
    bad = write_xlsx(
        tmp_path / "sai.xlsx",
        HEADER,
        [["WEB-3", "Đúng", "96", "31/12/2025"], ["WEB-4", "Sai hạn", "96", "31/02/2025"]],
    )
    page, _ = open_upload(browser, site["origin"])
    send(page, site["token"], bad)
    assert page.evaluate("document.body.dataset.state") == "rejected"
    assert "bị từ chối" in page.inner_text("#up-msg")
    row = page.locator('#up-report table.problems tr[data-row="3"]')
    assert row.count() == 1 and "Hạn hoàn thành" in row.inner_text()
    # the value as written, the reason in Vietnamese and what would be accepted (issue 22)
    text = row.inner_text()
    assert "31/02/2025" in text and "không phải là ngày có thật" in text
    assert "ngày/tháng/năm" in text and "—" not in text
    assert page.locator("#up-confirm").is_hidden()  # nothing to apply
    with page.expect_download() as dl:
        page.click("#up-rejects")
    body = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert body.splitlines()[0].startswith('"Dòng","Cột"') and '"3","Hạn hoàn thành"' in body
    assert dl.value.suggested_filename == "sai_loi.csv"
    assert table_versions(scratch) == before
    page.screenshot(path=str(ARTIFACTS / "upload_rejected.png"))
    page.context.close()


def test_out_of_scope_token_is_refused_clearly(browser, site, scratch, tmp_path):
    before = table_versions(scratch)
    nghe_an = write_xlsx(
        tmp_path / "nghe_an.xlsx", HEADER, [["WEB-5", "Của Nghệ An", "40", "31/12/2025"]]
    )
    page, _ = open_upload(browser, site["origin"])
    send(page, site["token"], nghe_an)
    assert page.evaluate("document.body.dataset.state") == "refused-403"
    msg = page.inner_text("#up-msg")
    assert "không có quyền" in msg and "40" in msg  # which units, in the API's words
    assert page.locator("#up-report").is_hidden() and page.locator("#up-confirm").is_hidden()
    # a wrong token: another clear message, still nothing written
    page.fill("#up-token", "not-a-token")
    send(page, None, nghe_an)
    assert page.evaluate("document.body.dataset.state") == "refused-401"
    assert "không đúng" in page.inner_text("#up-msg")
    assert table_versions(scratch) == before
    page.context.close()


def test_rejected_rows_file_neutralises_formulas(browser, site, scratch, tmp_path):
    """Issue 21: the problems file the page builds holds cells from the upload (the task
    id); a task id ``=HYPERLINK(…)`` must open as text in a spreadsheet, not as a live
    formula — the cell starts with an apostrophe, as the server's downloads do."""
    from tests.import_fixtures import write_csv

    formula = '=HYPERLINK("http://x","y")'
    bad = write_csv(
        tmp_path / "cong_thuc.csv",
        HEADER,
        [[formula, "Sai hạn", "96", "31/02/2025"], ["@SUM(1+1)", "-Sai", "96", "xx"]],
    )
    page, _ = open_upload(browser, site["origin"])
    send(page, site["token"], bad)
    assert page.evaluate("document.body.dataset.state") == "rejected"
    with page.expect_download() as dl:
        page.click("#up-rejects")
    import csv

    cells = [
        c
        for row in csv.reader(Path(dl.value.path()).read_text(encoding="utf-8-sig").splitlines())
        for c in row
    ]
    assert any("HYPERLINK" in c for c in cells), cells
    live = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert live == [], f"formula-looking cells left live: {live}"
    assert "'" + formula in cells


def test_a_renamed_deadline_header_is_decided_by_the_clerk_before_anything_is_applied(
    browser, site, scratch, tmp_path
):
    """Issue 22: "Ngày phải xong" for "Hạn hoàn thành" is shown as ignored with its likely
    field; apply waits until the clerk maps it (by key presses); the mapping is
    remembered for the next sheet."""
    stored = rows(
        scratch,
        "select external_id, title, deadline from task where unit_code = '96'"
        " and completed_at is null order by id limit 3",
    )
    new_deadline = "15/12/2026"
    renamed = write_xlsx(
        tmp_path / "doi_han.xlsx",
        ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Ngày phải xong"],
        [[t.external_id, t.title, "96", new_deadline] for t in stored],
    )
    before = table_versions(scratch)
    page, watch = open_upload(browser, site["origin"])
    send(page, site["token"], renamed)
    assert page.evaluate("document.body.dataset.state") == "columns"
    row = page.locator('#up-report table.columns tr[data-header="Ngày phải xong"]')
    assert "Bỏ qua" in row.inner_text() and "có vẻ là Hạn hoàn thành" in row.inner_text()
    warnings = page.inner_text("#up-report table.warnings")
    assert "Ngày phải xong" in warnings
    assert page.locator("#up-confirm").is_hidden()  # nothing can be applied yet
    assert page.locator("#up-recheck").is_disabled()
    assert "Chưa thể áp dụng" in page.inner_text("#up-msg")
    # the clerk maps the header with the keyboard: focus the choice, arrow down to the field
    page.focus("select.up-col")
    options = page.eval_on_selector("select.up-col", "s => [...s.options].map(o => o.value)")
    for _ in range(options.index("deadline")):
        page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("select.up-col", "s => s.value") == "deadline"
    assert page.locator("#up-recheck").is_enabled()
    page.focus("#up-recheck")
    page.keyboard.press("Enter")
    wait_js(page, "document.body.dataset.state === 'checked'", timeout=30)
    row = page.locator('#up-report table.columns tr[data-header="Ngày phải xong"]')
    assert "Hạn hoàn thành" in row.inner_text() and "Dùng" in row.inner_text()
    assert counts(page)["Cập nhật"] == str(len(stored))
    assert table_versions(scratch) == before  # still a dry run
    page.focus("#up-apply")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # focus moved to "Xác nhận cập nhật"
    wait_js(page, "document.body.dataset.state === 'applied'", timeout=30)
    got = rows(
        scratch,
        "select deadline from task where external_id = any(:ids)",
        ids=[t.external_id for t in stored],
    )
    assert {g.deadline.strftime("%d/%m/%Y") for g in got} == {new_deadline}
    saved = page.evaluate("JSON.parse(localStorage.getItem('iocmap.columns'))")
    assert saved == {"Ngày phải xong": "deadline"}
    # the next sheet with the same header is mapped by the remembered decision
    send(page, None, renamed)
    assert page.evaluate("document.body.dataset.state") == "checked"
    assert "theo cách ghép đã lưu" in page.inner_text("#up-report table.columns")
    assert watch.errors == []
    page.screenshot(path=str(ARTIFACTS / "upload_columns.png"))
    page.context.close()


def test_office_codes_match_by_group_and_a_move_needs_the_checkbox(
    browser, site, scratch, tmp_path
):
    """Issue 22 on the page: the office's own codes are matched to the stored Plan 02 tasks
    ("khớp theo nhóm", nothing created); a row moving a task is refused until the clerk
    ticks the box (by keyboard), and is then listed."""
    stored = rows(
        scratch,
        "select t.external_id, t.unit_code, t.group_no from task t join admin_unit u"
        " on u.code = t.unit_code where u.parent_code = '96' and t.program = 'KH02'"
        " order by t.unit_code, t.group_no limit 3",
    )
    other = rows(
        scratch,
        "select code from admin_unit where parent_code = '96' and code <> :c order by code limit 1",
        c=stored[0].unit_code,
    )[0].code
    header = ["Mã nhiệm vụ", "Mã xã", "Nhóm nhiệm vụ"]
    office = write_xlsx(
        tmp_path / "so_khcn.xlsx",
        header,
        [[f"CM-{t.unit_code}-{t.group_no}", t.unit_code, t.group_no] for t in stored],
    )
    page, watch = open_upload(browser, site["origin"])
    send(page, site["token"], office)
    assert page.evaluate("document.body.dataset.state") == "checked"
    assert counts(page)["Tạo mới"] == "0"
    assert "khớp theo nhóm: 3" in page.inner_text("#up-match-summary")
    first = page.locator('#up-report table.matches tr[data-row="2"]').inner_text()
    assert stored[0].external_id in first and f"CM-{stored[0].unit_code}-1" in first
    # a task of the province sent under one of its communes: a move
    [own] = rows(scratch, "select external_id from task where unit_code = '96' limit 1")
    move = write_xlsx(
        tmp_path / "chuyen.xlsx", ["Mã nhiệm vụ", "Mã xã"], [[own.external_id, other]]
    )
    before = table_versions(scratch)
    send(page, None, move)
    assert page.evaluate("document.body.dataset.state") == "rejected"
    assert "cho phép chuyển đơn vị" in page.inner_text("#up-report table.problems")
    page.focus("#up-move")
    page.keyboard.press("Space")
    assert page.is_checked("#up-move")
    page.focus("#up-check")
    page.keyboard.press("Enter")
    wait_js(page, "document.body.dataset.state === 'checked'", timeout=30)
    assert f"sang đơn vị {other}" in page.inner_text("#up-report table.warnings")
    assert table_versions(scratch) == before
    assert all("422" in e for e in watch.errors)  # only the refused move's response
    page.context.close()
