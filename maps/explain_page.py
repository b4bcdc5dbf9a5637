"""The HTML of ``GET /api/v1/explain?f=html``: a figure opened into its tasks, each with the
file (name, SHA-256) and sheet row it came from, paged, with the whole list as XLSX.

Why a page and not only JSON: the figure is clicked on the national map ("1.954 nhiệm vụ
hoàn thành"); the person who clicked is checking a number, not calling an API. The page
runs no script (the strict CSP) and links the same route's ``f=xlsx`` and its own pages.
"""

from __future__ import annotations

from typing import Any

from geo.read.queries import STATUS_LABEL_VI
from maps.assets_local import served_static
from maps.ogc_pages import cell, with_query
from maps.render import render_template
from maps.theme import fmt_number

TEXT: dict[str, dict[str, Any]] = {
    "vi": {
        "title": {
            "tasks_completed": "Nhiệm vụ đã hoàn thành",
            "tasks_overdue": "Nhiệm vụ quá hạn",
            "tasks_total": "Tổng số nhiệm vụ",
        },
        "tasks": "nhiệm vụ",
        "how": "Mỗi dòng là một nhiệm vụ được tính vào số liệu, kèm tệp (tên, SHA-256) và dòng"
        " trong tệp đã cập nhật trạng thái hiện tại của nhiệm vụ.",
        "back": "← Bản đồ",
        "crumbs": "Đường dẫn",
        "pages": "Trang",
        "xlsx": "Tải toàn bộ (XLSX)",
        "prev": "← Trang trước",
        "next": "Trang sau →",
        "range": "Dòng {a}–{b} trên {n}",
        "national": "toàn quốc",
        "columns": ("Mã nhiệm vụ", "Tên nhiệm vụ", "Đơn vị", "Hạn", "Hoàn thành",
                    "Tình trạng", "Tệp nguồn", "SHA-256", "Dòng"),
    },
    "en": {
        "title": {
            "tasks_completed": "Tasks completed",
            "tasks_overdue": "Overdue tasks",
            "tasks_total": "All tasks",
        },
        "tasks": "tasks",
        "how": "Each row is a task counted in the figure, with the file (name, SHA-256) and"
        " the row of it that set the task's current state.",
        "back": "← Map",
        "crumbs": "Breadcrumb",
        "pages": "Pages",
        "xlsx": "Download all (XLSX)",
        "prev": "← Previous",
        "next": "Next →",
        "range": "Rows {a}–{b} of {n}",
        "national": "national",
        "columns": ("Task id", "Title", "Unit", "Deadline", "Completed", "Status",
                    "Source file", "SHA-256", "Row"),
    },
}  # fmt: skip


STATUS_EN = {
    "completed": "Completed",
    "completed_late": "Completed late",
    "on_time": "In progress (on time)",
    "overdue": "Overdue",
}


def _named(name: str | None, code: str) -> str:
    """ "Xã A Lưới 1 (20056)": the name first, the code for whoever files by code."""
    return f"{name} ({code})" if name else code


def _who(item: dict) -> str:
    code = item.get("unit_code") or item.get("agency_code")
    return _named(item.get("unit_name"), code) if code else "—"


def _date(value: str | None) -> str:
    if not value:
        return "—"
    y, m, d = value.split("-")
    return f"{d}/{m}/{y}"


def explain_html(body: dict, href: str, lang: str) -> bytes:
    """The page of one figure's page of tasks (``body``: the route's JSON answer)."""
    t = TEXT["en" if lang == "en" else "vi"]
    n, offset, limit = body["value"], body["offset"], body["limit"]
    status_words = STATUS_EN if lang == "en" else STATUS_LABEL_VI
    rows = []
    for item in body.get("items") or []:
        src = item.get("source") or {}
        rows.append(
            [
                (item["external_id"], False),
                cell(item["title"]),
                cell(_who(item)),
                (_date(item.get("deadline")), True),
                (_date(item.get("completed_at")), True),
                (status_words.get(item["status"], item["status"]), False),
                cell(src.get("file")),
                ((src.get("sha256") or "—")[:16] + ("…" if src.get("sha256") else ""), False),
                cell(src.get("row")),
            ]
        )
    pager = []
    if offset > 0:
        pager.append((t["prev"], with_query(href, offset=str(max(0, offset - limit))), "prev"))
    if offset + limit < n:
        pager.append((t["next"], with_query(href, offset=str(offset + limit)), "next"))
    shown = len(rows)
    unit = body["unit"]
    scope = t["national"] if unit == "national" else _named(body.get("unit_name"), unit)
    if body.get("program"):
        scope += f" · {body['program']}"
    if body.get("year"):
        scope += f" · {body['year']}"
    scope += f" · {_date(body['as_of'])}"
    return render_template(
        "explain_page.html",
        lang="en" if lang == "en" else "vi",
        static=served_static(),
        s=t,
        title=t["title"].get(body["measure"], body["measure"]),
        value=fmt_number(n, 0, lang),
        scope=scope,
        back="/" if body["unit"] == "national" or len(body["unit"]) != 2 else f"/p/{body['unit']}",
        pager=pager,
        xlsx=with_query(href, drop=("offset", "limit"), f="xlsx"),
        range=t["range"].format(
            a=fmt_number(offset + 1 if shown else 0, 0, lang),
            b=fmt_number(offset + shown, 0, lang),
            n=fmt_number(n, 0, lang),
        ),
        columns=t["columns"],
        rows=rows,
    ).encode()
