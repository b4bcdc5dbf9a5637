"""The upload page (``/upload``): office staff send a task or indicator sheet from a browser.

Why a page and not a new API: the page posts the file to the existing
``POST /api/v1/imports/{tasks|indicators}`` with the token the user typed, so the scope
rules, the size cap and the report are exactly the API's. First a dry run (nothing
written), its report shown as a table in Vietnamese; then the user confirms and the same
file is sent again for real. The token is kept in ``sessionStorage`` only (gone when the
browser tab closes), never in a cookie or on the server.
"""

from __future__ import annotations

from geo.ingest.columns import label
from geo.ingest.task_cells import ALIASES
from maps.i18n import strings
from maps.render import config_script, render_template

UPLOAD_STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Tải lên bảng tính",
        "intro": "Gửi bảng tính nhiệm vụ hoặc chỉ số. Hệ thống kiểm tra trước (chạy thử, "
        "chưa ghi gì); bạn xem báo cáo rồi xác nhận để cập nhật.",
        "token": "Mã truy cập (token)",
        "token_help": "Chỉ lưu trong phiên trình duyệt này; đóng thẻ là xoá.",
        "token_forget": "Xoá mã",
        "kind": "Loại bảng tính",
        "kind_tasks": "Nhiệm vụ",
        "kind_indicators": "Chỉ số",
        "period": "Kỳ (chỉ số, ví dụ 2025-Q3)",
        "sheet": "Tên trang tính (không bắt buộc)",
        "file": "Tệp (.xlsx, .csv)",
        "check": "Kiểm tra (chạy thử)",
        "apply": "Áp dụng…",
        "confirm": "Xác nhận cập nhật",
        "cancel": "Huỷ",
        "confirm_q": "Ghi các thay đổi này vào hệ thống?",
        "working": "Đang xử lý…",
        "report_dry": "Kết quả chạy thử (chưa ghi)",
        "report_done": "Đã cập nhật",
        "report_rejected": "Bảng tính bị từ chối — không có gì được ghi",
        "read": "Số dòng đã đọc",
        "created": "Tạo mới",
        "updated": "Cập nhật",
        "unchanged": "Không đổi",
        "rejected": "Dòng bị loại",
        "problems": "Các lỗi cần sửa",
        "warnings": "Lưu ý",
        "row": "Dòng",
        "column": "Cột",
        "value": "Giá trị",
        "reason": "Lý do",
        "code": "Mã",
        "rejects": "Tải tệp lỗi (CSV)",
        "no_changes": "Không có thay đổi: dữ liệu đã giống bảng tính.",
        "need_token": "Nhập mã truy cập.",
        "need_file": "Chọn tệp bảng tính.",
        "err_401": "Mã truy cập không đúng hoặc đã bị thu hồi.",
        "err_403": "Mã truy cập này không có quyền cập nhật dữ liệu trong bảng tính.",
        "err_409": "Đang có một lần nhập khác; vui lòng thử lại sau ít phút.",
        "err_413": "Tệp quá lớn.",
        "err_other": "Không gửi được bảng tính.",
        "version": "Phiên bản dữ liệu",
        "back": "Về bản đồ",
        "expected": "Cần ghi",
        "move_units": "Cho phép chuyển nhiệm vụ sang đơn vị khác",
        "move_units_help": "Chỉ chọn khi bảng tính cố ý giao lại nhiệm vụ cho đơn vị khác; "
        "mỗi dòng chuyển đơn vị được liệt kê trong báo cáo.",
        "columns": "Các cột của bảng tính",
        "columns_state": "Dùng hay bỏ qua",
        "columns_field": "Trường dữ liệu",
        "columns_used": "Dùng",
        "columns_mapped": "Dùng (theo cách ghép đã lưu)",
        "columns_ignored": "Bỏ qua",
        "columns_ignored_ok": "Bỏ qua (đã xác nhận)",
        "columns_likely": "có vẻ là",
        "columns_choose": "— Chọn —",
        "columns_ignore": "Bỏ qua cột này",
        "columns_decide": "Có cột không được dùng nhưng giống một trường dữ liệu: hãy ghép cột "
        "hoặc xác nhận bỏ qua, rồi kiểm tra lại. Chưa thể áp dụng.",
        "columns_recheck": "Kiểm tra lại với cách ghép cột này",
        "matches": "Cách nhận ra nhiệm vụ của từng dòng",
        "matches_how": "Khớp",
        "matches_task": "Nhiệm vụ đã lưu",
        "matches_suggest": "có thể trùng",
    },
    "en": {
        "title": "Upload a sheet",
        "intro": "Send a task or indicator sheet. It is checked first (a dry run that "
        "writes nothing); read the report, then confirm to apply it.",
        "token": "Access token",
        "token_help": "Kept for this browser session only; closing the tab forgets it.",
        "token_forget": "Forget token",
        "kind": "Sheet kind",
        "kind_tasks": "Tasks",
        "kind_indicators": "Indicators",
        "period": "Period (indicators, e.g. 2025-Q3)",
        "sheet": "Worksheet name (optional)",
        "file": "File (.xlsx, .csv)",
        "check": "Check (dry run)",
        "apply": "Apply…",
        "confirm": "Confirm and apply",
        "cancel": "Cancel",
        "confirm_q": "Write these changes?",
        "working": "Working…",
        "report_dry": "Dry run (nothing written)",
        "report_done": "Applied",
        "report_rejected": "Sheet rejected — nothing was written",
        "read": "Rows read",
        "created": "Created",
        "updated": "Updated",
        "unchanged": "Unchanged",
        "rejected": "Rows rejected",
        "problems": "Problems to fix",
        "warnings": "Notes",
        "row": "Row",
        "column": "Column",
        "value": "Value",
        "reason": "Reason",
        "code": "Code",
        "rejects": "Download the problems (CSV)",
        "no_changes": "No changes: the data already matches the sheet.",
        "need_token": "Enter your access token.",
        "need_file": "Choose a sheet file.",
        "err_401": "The token is wrong or was revoked.",
        "err_403": "This token may not change the data in this sheet.",
        "err_409": "Another import is running; try again in a few minutes.",
        "err_413": "The file is too large.",
        "err_other": "The sheet could not be sent.",
        "version": "Data version",
        "back": "Back to the map",
        "expected": "Expected",
        "move_units": "Allow moving tasks to another unit",
        "move_units_help": "Only when the sheet deliberately reassigns tasks; every row that "
        "moves a task is listed in the report.",
        "columns": "The sheet's columns",
        "columns_state": "Used or ignored",
        "columns_field": "Field",
        "columns_used": "Used",
        "columns_mapped": "Used (saved mapping)",
        "columns_ignored": "Ignored",
        "columns_ignored_ok": "Ignored (confirmed)",
        "columns_likely": "looks like",
        "columns_choose": "— Choose —",
        "columns_ignore": "Ignore this column",
        "columns_decide": "A column is ignored but looks like a field: map it or confirm that it "
        "is ignored, then check again. Nothing can be applied yet.",
        "columns_recheck": "Check again with this mapping",
        "matches": "How each row found its task",
        "matches_how": "Match",
        "matches_task": "Stored task",
        "matches_suggest": "maybe",
    },
}


def render_upload_page(lang: str, static: str = "/static/", api: str = "/api/v1") -> str:
    """The page's HTML (no data in it: the same page for every user and version)."""
    u = UPLOAD_STRINGS.get(lang, UPLOAD_STRINGS["vi"])
    s = strings(lang)
    fields = {f: label(f, lang) for f in ALIASES}
    config = {"kind": "upload", "lang": lang, "api": api, "strings": {**s, **u}, "fields": fields}
    return render_template(
        "upload.html", s=s, u=u, lang=lang, static=static, config=config_script(config)
    )
