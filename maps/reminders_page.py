"""The reminders page (``/reminders``): office staff preview reminder notices to slow units,
issue exactly that preview, and download each notice (DOCX) to sign.

Why a page over the API and not a form posting to the server: like ``/upload``, it calls
``POST /api/v1/reminders`` (preview, nothing recorded) and then
``POST /api/v1/reminders/previews/{id}/issue`` with the token the user typed, so the scope
rules, the skip-recently-reminded rule and the numbering are exactly the API's. The token is
kept in ``sessionStorage`` only, shared with ``/upload``.
"""

from __future__ import annotations

from maps.i18n import strings
from maps.render import config_script, render_template

REMIND_STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Nhắc việc các đơn vị chậm",
        "intro": "Chọn tiêu chí rồi xem trước danh sách (chưa ghi gì). Kiểm tra xong, phát hành"
        " đúng danh sách đó; mỗi phiếu là một công văn đôn đốc có số, tải về để ký.",
        "token": "Mã truy cập (token)",
        "token_help": "Chỉ lưu trong phiên trình duyệt này; đóng thẻ là xoá.",
        "program": "Chương trình",
        "program_NQ57": "Nghị quyết 57-NQ/TW (tỉnh)",
        "program_KH02": "Kế hoạch 02-KH/BCĐTW (xã, phường)",
        "criteria": "Tiêu chí",
        "overdue": "Có nhiệm vụ quá hạn",
        "below": "Tỷ lệ hoàn thành dưới (%)",
        "combine": "Kết hợp tiêu chí",
        "combine_any": "Thỏa một tiêu chí",
        "combine_all": "Thỏa mọi tiêu chí",
        "province": "Tỉnh (mã 2 số; để trống: theo mã truy cập)",
        "agency": "Hoặc bộ, ngành (mã, ví dụ BXD; thay cho tỉnh)",
        "list": "Xem phiếu đã phát hành",
        "list_title": "Phiếu đã phát hành",
        "reply_by_col": "Hạn báo cáo",
        "answer": "Phản hồi",
        "answered": "Đã phản hồi {d}",
        "not_answered": "Chưa phản hồi",
        "withdrawn": "Đã thu hồi",
        "reply_link": "Đường dẫn phản hồi",
        "reply_by": "Hạn báo cáo (để trống: sau 7 ngày)",
        "force": "Nhắc cả đơn vị vừa được nhắc gần đây",
        "preview": "Xem trước",
        "issue": "Phát hành…",
        "confirm": "Xác nhận phát hành",
        "cancel": "Huỷ",
        "confirm_q": "Phát hành và ghi số các phiếu này?",
        "working": "Đang xử lý…",
        "preview_title": "Xem trước (chưa ghi)",
        "issued_title": "Đã phát hành",
        "none": "Không có đơn vị nào thỏa tiêu chí.",
        "unit": "Đơn vị",
        "why": "Lý do chọn",
        "tasks": "Số nhiệm vụ",
        "round": "Lần nhắc",
        "number": "Số văn bản",
        "download": "Tải DOCX",
        "skipped": "Bỏ qua",
        "why_overdue": "{n} nhiệm vụ quá hạn",
        "why_below": "hoàn thành {pct} % < {limit} %",
        "need_token": "Nhập mã truy cập.",
        "need_criteria": "Chọn ít nhất một tiêu chí.",
        "err_401": "Mã truy cập không đúng hoặc đã bị thu hồi.",
        "err_403": "Mã truy cập này không có quyền nhắc các đơn vị đã chọn.",
        "err_409": "Danh sách đã thay đổi kể từ khi xem trước; hãy xem trước lại.",
        "err_other": "Không thực hiện được.",
        "back": "Về bản đồ",
    },
    "en": {
        "title": "Remind slow units",
        "intro": "Choose the criteria and preview the list (nothing is recorded). Then issue"
        " exactly that list; each notice is a numbered official letter to download and sign.",
        "token": "Access token",
        "token_help": "Kept for this browser session only; closing the tab forgets it.",
        "program": "Programme",
        "program_NQ57": "Resolution 57-NQ/TW (provinces)",
        "program_KH02": "Plan 02-KH/BCĐTW (communes)",
        "criteria": "Criteria",
        "overdue": "Has overdue tasks",
        "below": "Completion rate under (%)",
        "combine": "Combine criteria",
        "combine_any": "Any criterion",
        "combine_all": "Every criterion",
        "province": "Province (2-digit code; empty: the token's)",
        "agency": "Or a ministry (code, e.g. BXD; instead of a province)",
        "list": "Show issued notices",
        "list_title": "Issued notices",
        "reply_by_col": "Reply by",
        "answer": "Answer",
        "answered": "Answered {d}",
        "not_answered": "Not answered",
        "withdrawn": "Withdrawn",
        "reply_link": "Reply link",
        "reply_by": "Reply by (empty: in 7 days)",
        "force": "Also remind units reminded recently",
        "preview": "Preview",
        "issue": "Issue…",
        "confirm": "Confirm and issue",
        "cancel": "Cancel",
        "confirm_q": "Issue and number these notices?",
        "working": "Working…",
        "preview_title": "Preview (nothing recorded)",
        "issued_title": "Issued",
        "none": "No unit meets the criteria.",
        "unit": "Unit",
        "why": "Why",
        "tasks": "Tasks",
        "round": "Round",
        "number": "Number",
        "download": "Download DOCX",
        "skipped": "Skipped",
        "why_overdue": "{n} overdue tasks",
        "why_below": "completion {pct} % < {limit} %",
        "need_token": "Enter your access token.",
        "need_criteria": "Choose at least one criterion.",
        "err_401": "The token is wrong or was revoked.",
        "err_403": "This token may not remind the units chosen.",
        "err_409": "The list changed since the preview; preview again.",
        "err_other": "That did not work.",
        "back": "Back to the map",
    },
}


def render_reminders_page(lang: str, static: str = "/static/", api: str = "/api/v1") -> str:
    """The page's HTML (no data in it: the same page for every user and version)."""
    r = REMIND_STRINGS.get(lang, REMIND_STRINGS["vi"])
    s = strings(lang)
    config = {"kind": "reminders", "lang": lang, "api": api, "strings": {**s, **r}}
    return render_template(
        "reminders.html", s=s, r=r, lang=lang, static=static, config=config_script(config)
    )
