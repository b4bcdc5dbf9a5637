"""The reply page (``/reply/{token}``): a unit answers a notice without an account.

Why a plain form with no script: the people answering open the link from a letter or an
e-mail, on whatever machine the office has; a server-rendered form works with the keyboard
alone (Tab, arrows between the two choices, Space, Enter), with a screen reader (one
fieldset per task, its legend the task, every field labelled, the errors listed first with
links to their fields) and under the strict CSP of every page (no inline script at all).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence

E = html.escape


def _date(value) -> str:
    if not value:
        return "—"
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day:%d/%m/%Y}"


def _head(title: str, static: str) -> str:
    fonts = "".join(
        f'<link rel="stylesheet" href="{static}vendor/be-vietnam-pro/{w}.css">'
        for w in (400, 600, 700)
    )
    return (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{E(title)} — iocmap</title>"
        f'<link rel="icon" href="{static}favicon.svg" type="image/svg+xml">{fonts}'
        f'<link rel="stylesheet" href="{static}css/ioc-base.css">'
        f'<link rel="stylesheet" href="{static}css/ioc-page.css"></head>'
        '<body class="ioc-page"><main class="page-card wide" id="main">'
    )


TAIL = "</main></body></html>\n"
# a text field, not type=date: the browser's date widget orders day and month by its own
# locale and moves between segments with Tab; offices type "31/03/2026" as on paper, and the
# sheet's date parser (dd/mm/yyyy or yyyy-mm-dd) checks it like a sheet cell
DATE_ATTRS = (
    'type="text" inputmode="numeric" autocomplete="off" maxlength="10" placeholder="ngày/tháng/năm"'
)


def refusal_page(status: int, message: str, static: str = "/static/") -> str:
    """A link that does not open a notice: what happened and what to do, in Vietnamese."""
    return (
        _head("Không mở được phiếu nhắc", static)
        + f'<p class="kicker">Phản hồi phiếu nhắc việc · {status}</p>'
        "<h1>Không mở được phiếu nhắc</h1>"
        f'<p class="error-msg" role="alert">{E(message)}</p>'
        '<p class="muted">Nếu cần phản hồi, đề nghị liên hệ cơ quan đã gửi phiếu để được'
        " cấp đường dẫn mới.</p>" + TAIL
    )


def reply_page(
    record: Mapping,
    tasks: Sequence[Mapping],
    answers: Sequence[Mapping],
    expires: dt.date,
    action: str,
    static: str = "/static/",
    form: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    done_message: str | None = None,
) -> str:
    """The notice, its tasks as they stand, and one fieldset per task."""
    form = form or {}
    problems = problems or {}
    doc = record.get("doc_number") or f"phiếu {record['id']}"
    parts = [
        _head(f"Phản hồi phiếu nhắc {doc}", static),
        '<p class="kicker">Phản hồi phiếu nhắc việc (không cần tài khoản)</p>',
        f"<h1>Phản hồi phiếu nhắc số {E(str(doc))}</h1>",
        f'<p class="muted">Gửi: {E(str(record.get("unit_name") or ""))} · Hạn báo cáo:'
        f" {_date(record.get('reply_by'))} · Đường dẫn dùng được đến hết ngày"
        f" {_date(expires)}.</p>",
    ]
    if done_message:
        parts.append(
            f'<div class="up-msg ok" role="status" id="reply-done">{E(done_message)}</div>'
        )
    if answers:
        last = answers[0]["at"]
        parts.append(
            f'<p id="reply-answered">Đơn vị đã phản hồi {len(answers)} lần, lần gần nhất lúc'
            f" {last.astimezone(dt.timezone(dt.timedelta(hours=7))):%H:%M ngày %d/%m/%Y}."
            " Có thể gửi lại nếu cần bổ sung.</p>"
        )
    if problems:
        items = "".join(
            f'<li><a href="#task-{i}">{E(ext)}: {E(msg)}</a></li>'
            for i, t in enumerate(tasks)
            for ext, msg in problems.items()
            if ext == t["external_id"]
        ) + "".join(
            f"<li>{E(ext)}: {E(msg)}</li>"
            for ext, msg in problems.items()
            if ext not in {t["external_id"] for t in tasks}
        )
        parts.append(
            '<div class="up-msg err" role="alert" id="reply-errors" tabindex="-1">'
            f"<p>Chưa ghi được phản hồi, đề nghị sửa:</p><ul>{items}</ul></div>"
        )
    parts.append(
        f'<form method="post" action="{E(action)}" id="reply-form" accept-charset="utf-8">'
        "<p>Với mỗi nhiệm vụ, chọn <strong>Đã hoàn thành</strong> và nhập ngày hoàn thành,"
        " hoặc <strong>Chưa hoàn thành</strong> và nêu nguyên nhân, giải pháp/kiến nghị và"
        " ngày dự kiến hoàn thành. Nhiệm vụ để trống không được ghi.</p>"
        '<p class="muted" id="date-hint">Ngày nhập theo dạng ngày/tháng/năm, ví dụ'
        " 31/03/2026.</p>"
    )
    for i, t in enumerate(tasks):
        ext = str(t["external_id"])
        state = form.get(f"s{i}", "")
        err = problems.get(ext)
        desc = f"task-{i}-info" + (f" task-{i}-err" if err else "")
        parts.append(
            f'<fieldset class="row reply-task" id="task-{i}" aria-describedby="{desc}">'
            f"<legend>{i + 1}. {E(ext)} — {E(str(t.get('title') or ''))}</legend>"
            f'<p class="muted" id="task-{i}-info">Hạn hoàn thành {_date(t.get("deadline"))}'
            + (f"; đã hoàn thành {_date(t['completed_at'])}" if t.get("completed_at") else "")
            + (f"; nguyên nhân đã nêu: {E(str(t['reason']))}" if t.get("reason") else "")
            + "</p>"
            + (f'<p class="error-msg" id="task-{i}-err">{E(err)}</p>' if err else "")
            + f'<input type="hidden" name="t{i}" value="{E(ext)}">'
            f'<label class="radio"><input type="radio" name="s{i}" value="done" id="s{i}-done"'
            f"{' checked' if state == 'done' else ''}> Đã hoàn thành</label>"
            f'<label class="radio"><input type="radio" name="s{i}" value="not" id="s{i}-not"'
            f"{' checked' if state == 'not' else ''}> Chưa hoàn thành</label>"
            f'<div class="row two"><div><label for="d{i}">Ngày hoàn thành</label>'
            f'<input id="d{i}" name="d{i}" {DATE_ATTRS} aria-describedby="date-hint"'
            f' value="{E(form.get(f"d{i}", ""))}"></div>'
            f'<div><label for="e{i}">Ngày dự kiến hoàn thành</label>'
            f'<input id="e{i}" name="e{i}" {DATE_ATTRS} aria-describedby="date-hint"'
            f' value="{E(form.get(f"e{i}", ""))}"></div>'
            "</div>"
            f'<label for="r{i}">Nguyên nhân chậm, khó khăn, vướng mắc</label>'
            f'<textarea id="r{i}" name="r{i}" rows="2" maxlength="2000">'
            f"{E(form.get(f'r{i}', ''))}</textarea>"
            f'<label for="p{i}">Giải pháp, kiến nghị, đề xuất</label>'
            f'<textarea id="p{i}" name="p{i}" rows="2" maxlength="2000">'
            f"{E(form.get(f'p{i}', ''))}</textarea>"
            "</fieldset>"
        )
    parts.append(
        '<div class="row actions"><button type="submit" class="btn primary" id="reply-send">'
        "Gửi phản hồi</button></div></form>" + TAIL
    )
    return "".join(parts)
