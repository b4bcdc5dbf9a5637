"""One reminder notice as DOCX (python-docx: the format offices edit and sign) and as a
printable A4 HTML page; both from the same ``Notice`` so they cannot say different things.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass, field

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

PROGRAMS = {
    "NQ57": "Nghị quyết số 57-NQ/TW của Bộ Chính trị",
    "KH02": "Kế hoạch số 02-KH/BCĐTW của Ban Chỉ đạo Trung ương",
}
DEFAULT_ISSUER = "Ban Chỉ đạo về phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số"
COLUMNS = ("STT", "Mã nhiệm vụ", "Tên nhiệm vụ", "Hạn hoàn thành", "Số ngày quá hạn",
           "Đơn vị chủ trì", "Nguyên nhân đã nêu", "Lần nhắc")  # fmt: skip


@dataclass
class Notice:
    """What a notice says: to whom, about which tasks, by when, from whom."""

    unit_code: str
    recipient: str  # "Ủy ban nhân dân tỉnh Nghệ An"
    program: str
    as_of: dt.date
    reply_by: dt.date
    issuer: str
    tasks: list[dict] = field(default_factory=list)  # with ``round`` (1 = first reminder)
    reminder_id: int | None = None

    @property
    def title(self) -> str:
        rounds = max((t["round"] for t in self.tasks), default=1)
        suffix = f" (nhắc lần {rounds})" if rounds > 1 else ""
        return f"PHIẾU NHẮC VIỆC{suffix}"

    def body(self) -> str:
        program = PROGRAMS.get(self.program, f"chương trình {self.program}")
        return (
            f"Theo dữ liệu trên hệ thống giám sát đến ngày {self.as_of:%d/%m/%Y}, đơn vị còn "
            f"{len(self.tasks)} nhiệm vụ quá hạn thực hiện {program} (danh sách dưới đây). "
            "Đề nghị đơn vị khẩn trương chỉ đạo hoàn thành; báo cáo kết quả, nêu rõ nguyên "
            f"nhân chậm và giải pháp, kiến nghị trước ngày {self.reply_by:%d/%m/%Y}."
        )

    def rows(self) -> list[list[str]]:
        return [
            [
                str(i),
                t["external_id"],
                t["title"],
                _date(t["deadline"]).strftime("%d/%m/%Y"),
                str(t["days_overdue"]),
                t.get("lead_agency") or "",
                t.get("reason") or "(chưa nêu nguyên nhân)",
                "Lần đầu" if t["round"] == 1 else f"Nhắc lần {t['round']}",
            ]
            for i, t in enumerate(self.tasks, 1)
        ]

    def file_stem(self) -> str:
        number = f"_{self.reminder_id}" if self.reminder_id is not None else ""
        return f"nhac-viec_{self.unit_code}_{self.as_of:%Y-%m-%d}{number}"


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def to_docx(notice: Notice) -> bytes:
    """The notice as a DOCX on A4 portrait with the task table."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    head = doc.add_paragraph(notice.issuer.upper())
    head.runs[0].bold = True
    nation = doc.add_paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc")
    nation.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = doc.add_paragraph(notice.title)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.runs[0].bold = True
    doc.add_paragraph(
        "V/v đôn đốc thực hiện nhiệm vụ quá hạn"
    ).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(f"Kính gửi: {notice.recipient}")
    doc.add_paragraph(notice.body())
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = name
    for values in notice.rows():
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    doc.add_paragraph(f"Hạn báo cáo: {notice.reply_by:%d/%m/%Y}.")
    doc.add_paragraph(f"Nơi ban hành: {notice.issuer}.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_html(notice: Notice) -> str:
    """The notice as a printable A4 HTML page (no script, no external asset)."""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in notice.rows()
    )
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{e(notice.title)} — {e(notice.recipient)}</title>
<style>
@page {{ size: A4 portrait; margin: 20mm; }}
body {{ font-family: "Times New Roman", serif; font-size: 13pt; max-width: 170mm; margin: auto; }}
.c {{ text-align: center; }} h1 {{ font-size: 14pt; }}
table {{ border-collapse: collapse; width: 100%; font-size: 11pt; }}
td, th {{ border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; }}
</style></head><body>
<p><b>{e(notice.issuer.upper())}</b></p>
<p class="c">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM<br>Độc lập - Tự do - Hạnh phúc</p>
<h1 class="c">{e(notice.title)}</h1>
<p class="c">V/v đôn đốc thực hiện nhiệm vụ quá hạn</p>
<p>Kính gửi: {e(notice.recipient)}</p>
<p>{e(notice.body())}</p>
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<p>Hạn báo cáo: {notice.reply_by:%d/%m/%Y}.</p>
<p>Nơi ban hành: {e(notice.issuer)}.</p>
</body></html>
"""
