"""One reminder notice — a công văn đôn đốc — as DOCX (python-docx: the format offices edit,
sign and file) and as a printable A4 HTML page; both from the same ``Notice`` so they cannot
say different things.

Why this layout: offices read a notice next to their other letters, so it follows the
presentation rules of Nghị định 30/2020/NĐ-CP: A4 portrait, margins 20/20/30/15 mm, Times New
Roman 13 pt; a borderless two-column header (parent body and issuing body, a short rule, the
number and the summary line on the left; the national name, the motto, a rule and the place-
and-date line in italics on the right); "Kính gửi"; the body justified with a first-line
indent; the task table; the signature block on the right with "Nơi nhận" level with it on the
left. Column widths of the table are fixed to their content (dates never wrap), which keeps
eight tasks on two pages.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

from geo.remind.issuers import Issuer, default_issuer

PROGRAMS = {
    "NQ57": "Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị",
    "KH02": "Kế hoạch số 02-KH/BCĐTW của Ban Chỉ đạo Trung ương",
}
DEFAULT_ISSUER = "Ban Chỉ đạo về phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số"
# (header, width mm, align) — widths sum to the 165 mm between the margins
COLUMNS = (
    ("STT", 10, "c"),
    ("Mã nhiệm vụ", 36, "l"),
    ("Tên nhiệm vụ", 42, "l"),
    ("Hạn hoàn thành", 21, "c"),
    ("Số ngày quá hạn", 14, "c"),
    ("Nguyên nhân đã nêu", 26, "l"),
    ("Lần nhắc", 16, "c"),
)
CELL_MARGIN_TWIPS = 57  # 1 mm left and right inside each cell (Word's default is 1.9 mm)
ROUND_WORDS = {1: "Lần đầu"}


def vn_date_line(place: str, day: dt.date) -> str:
    """ "Hà Nội, ngày 05 tháng 02 năm 2026": days under 10 and months under 3 take a 0."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def doc_number(number: int, abbrev: str) -> str:
    """ "05/UBND-KGVX": numbers under 10 take a leading 0 (Nghị định 30/2020)."""
    return f"{number:02d}/{abbrev}"


@dataclass
class Notice:
    """What a notice says: to whom, about which tasks, why, by when, from whom."""

    unit_code: str
    recipient: str  # "Ủy ban nhân dân tỉnh Nghệ An"
    program: str
    as_of: dt.date
    reply_by: dt.date
    issuer: Issuer = field(default_factory=lambda: default_issuer("TW", None, None))
    tasks: list[dict] = field(default_factory=list)  # with ``round`` (1 = first reminder)
    reasons: list[dict] = field(default_factory=list)  # why the unit was selected
    round: int = 1  # the unit's notice round for this programme (withdrawn ones excluded)
    reminder_id: int | None = None
    number: int | None = None  # set when issued; a preview has none
    issued_on: dt.date | None = None

    @property
    def doc_number(self) -> str:
        return (
            doc_number(self.number, self.issuer.abbrev)
            if self.number
            else f"   /{self.issuer.abbrev}"
        )

    @property
    def title(self) -> str:
        """The summary line (trích yếu) of the công văn."""
        again = f" (lần {self.round})" if self.round > 1 else ""
        program = self.program if self.program in PROGRAMS else f"chương trình {self.program}"
        short = {"NQ57": "Nghị quyết 57-NQ/TW", "KH02": "Kế hoạch 02-KH/BCĐTW"}.get(
            self.program, program
        )
        return f"V/v đôn đốc{again} thực hiện nhiệm vụ theo {short}"

    def overdue_count(self) -> int:
        return sum(1 for t in self.tasks if int(t.get("days_overdue") or 0) > 0)

    def body(self) -> list[str]:
        """The paragraphs between "Kính gửi" and the table, then after it."""
        program = PROGRAMS.get(self.program, f"chương trình {self.program}")
        why = []
        for r in self.reasons:
            if r["kind"] == "overdue":
                why.append(f"còn {r['tasks']} nhiệm vụ quá hạn")
            elif r["kind"] == "below":
                pct = f"{r['completion_pct']:.2f}".replace(".", ",")
                limit = f"{r['threshold']:g}".replace(".", ",")
                why.append(f"tỷ lệ hoàn thành đạt {pct} %, dưới mức {limit} %")
        state = "; ".join(why) or f"còn {len(self.tasks)} nhiệm vụ chưa hoàn thành"
        again = f" Đây là lần đôn đốc thứ {self.round} đối với đơn vị." if self.round > 1 else ""
        return [
            f"Theo dữ liệu trên hệ thống giám sát đến ngày {self.as_of:%d/%m/%Y}, việc thực hiện"
            f" {program} tại đơn vị {state} (danh sách kèm theo).{again}",
            "Đề nghị đơn vị khẩn trương chỉ đạo hoàn thành các nhiệm vụ nêu trên; báo cáo kết"
            " quả thực hiện, nêu rõ nguyên nhân chậm, giải pháp và kiến nghị, đề xuất (nếu có)"
            f" trước ngày {self.reply_by:%d/%m/%Y}./.",
        ]

    def rows(self) -> list[list[str]]:
        return [
            [
                str(i),
                t["external_id"],
                t.get("title") or "",
                _date(t["deadline"]).strftime("%d/%m/%Y"),
                str(t["days_overdue"]) if int(t.get("days_overdue") or 0) > 0 else "—",
                t.get("reason") or "(chưa nêu)",
                ROUND_WORDS.get(int(t["round"]), f"Lần {t['round']}"),
            ]
            for i, t in enumerate(self.tasks, 1)
        ]

    def recipients_cc(self) -> list[str]:
        return ["Như trên;", f"Lưu: {self.issuer.archive}."]

    def file_stem(self) -> str:
        number = f"_so-{self.number:02d}" if self.number else ""
        ident = f"_{self.reminder_id}" if self.reminder_id is not None else ""
        return f"nhac-viec_{self.unit_code}_{self.as_of:%Y-%m-%d}{number}{ident}"


def _load_docx() -> None:
    """python-docx's names, bound into this module the first time a notice is written:
    the serving process does not load it at start (the helpers below run only inside
    ``to_docx``, after this call)."""
    if "Document" in globals():
        return
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    globals().update(
        Document=Document, WD_TABLE_ALIGNMENT=WD_TABLE_ALIGNMENT,
        WD_ALIGN_PARAGRAPH=WD_ALIGN_PARAGRAPH, OxmlElement=OxmlElement, qn=qn, Mm=Mm, Pt=Pt,
    )  # fmt: skip


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _para(container, text: str = "", *, size: float = 13, bold: bool = False,
          italic: bool = False, align: str = "c", after: float = 0):  # fmt: skip
    p = container.add_paragraph()
    p.alignment = {
        "c": WD_ALIGN_PARAGRAPH.CENTER,
        "l": WD_ALIGN_PARAGRAPH.LEFT,
        "r": WD_ALIGN_PARAGRAPH.RIGHT,
        "j": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    p.paragraph_format.space_after = Pt(after)
    p.paragraph_format.space_before = Pt(0)
    if text:
        run = p.add_run(text)
        run.font.size = Pt(size)
        run.bold = bold
        run.italic = italic
    return p


def _rule(container, width_mm: float, cell_mm: float):
    """A short centred rule under a header line: a bottom border on an indented paragraph."""
    p = _para(container, size=4)
    side = Mm(max(0.0, (cell_mm - width_mm) / 2))
    p.paragraph_format.left_indent = side
    p.paragraph_format.right_indent = side
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p._p.get_or_add_pPr().append(borders)
    return p


def _no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _fixed_widths(table, widths_mm: list[float]) -> None:
    """Fixed layout: Word and LibreOffice keep these widths instead of autofitting."""
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)
    for col, width in zip(table.columns, widths_mm, strict=True):
        col.width = Mm(width)


def _narrow_margins(table) -> None:
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(CELL_MARGIN_TWIPS))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    table._tbl.tblPr.append(margins)


def _no_wrap(cell) -> None:
    el = OxmlElement("w:noWrap")
    cell._tc.get_or_add_tcPr().append(el)


def to_docx(notice: Notice) -> bytes:
    """The notice as a công văn on A4 portrait (Nghị định 30/2020/NĐ-CP)."""
    _load_docx()
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    style.font.size = Pt(13)
    style.paragraph_format.space_after = Pt(0)
    iss = notice.issuer
    left_w, right_w = 70.0, 95.0

    head = doc.add_table(rows=1, cols=2)
    _no_borders(head)
    _fixed_widths(head, [left_w, right_w])
    left, right = head.rows[0].cells
    left.paragraphs[0].text = ""
    if iss.parent:
        _para(left, iss.parent.upper(), size=12)
    _para(left, iss.name.upper(), size=12, bold=True)
    _rule(left, 25, left_w)
    _para(left, f"Số: {notice.doc_number}", size=13, after=2)
    _para(left, notice.title, size=12)
    _para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
    _para(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True)
    _rule(right, 58, right_w)
    day = notice.issued_on or notice.as_of
    _para(right, vn_date_line(iss.place, day), size=13, italic=True)
    for cell in (left, right):  # python-docx leaves an empty first paragraph
        first = cell.paragraphs[0]
        if not first.text:
            first._p.getparent().remove(first._p)

    _para(doc, after=6)
    _para(doc, f"Kính gửi: {notice.recipient}.", size=13, after=6)
    for text in notice.body()[:1]:
        p = _para(doc, text, align="j", after=4)
        p.paragraph_format.first_line_indent = Mm(10)

    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, (name, _, _) in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = ""
        _para(cell, name, size=11, bold=True)
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    for values in notice.rows():
        cells = table.add_row().cells
        for cell, value, (name, _, align) in zip(cells, values, COLUMNS, strict=True):
            cell.text = ""
            _para(cell, value, size=11, align=align)
            cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
            if name == "Hạn hoàn thành":
                _no_wrap(cell)
    _fixed_widths(table, [w for _, w, _ in COLUMNS])
    _narrow_margins(table)

    for text in notice.body()[1:]:
        p = _para(doc, text, align="j", after=4)
        p.paragraph_format.first_line_indent = Mm(10)
        p.paragraph_format.space_before = Pt(6)

    sign = doc.add_table(rows=1, cols=2)
    _no_borders(sign)
    _fixed_widths(sign, [80.0, 85.0])
    cc, signer = sign.rows[0].cells
    _para(cc, "Nơi nhận:", size=12, bold=True, italic=True, align="l")
    for line in notice.recipients_cc():
        _para(cc, f"- {line}", size=11, align="l")
    for line in iss.authority.splitlines():
        _para(signer, line.upper(), size=13, bold=True)
    _para(signer, iss.signer_title.upper(), size=13, bold=True)
    for _ in range(4):  # room for the signature and the seal
        _para(signer, size=13)
    _para(signer, iss.signer_name, size=13, bold=True)
    for cell in (cc, signer):
        first = cell.paragraphs[0]
        if not first.text:
            first._p.getparent().remove(first._p)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_html(notice: Notice) -> str:
    """The notice as a printable A4 HTML page (no script, no external asset)."""
    e = html.escape
    iss = notice.issuer
    head = "".join(f"<th>{e(c)}</th>" for c, _, _ in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in notice.rows()
    )
    cols = "".join(f'<col style="width:{w}mm">' for _, w, _ in COLUMNS)
    parent = f"<div>{e(iss.parent.upper())}</div>" if iss.parent else ""
    paras = "".join(f"<p class=j>{e(t)}</p>" for t in notice.body())
    authority = "<br>".join(e(x.upper()) for x in iss.authority.splitlines())
    cc = "".join(f"<div>- {e(x)}</div>" for x in notice.recipients_cc())
    day = notice.issued_on or notice.as_of
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>{e(notice.doc_number)} — {e(notice.recipient)}</title>
<style>
@page {{ size: A4 portrait; margin: 20mm 15mm 20mm 30mm; }}
body {{ font-family: "Times New Roman", serif; font-size: 13pt; max-width: 165mm; margin: auto; }}
.hd {{ display: grid; grid-template-columns: 70mm 95mm; text-align: center; }}
.b {{ font-weight: bold; }} .i {{ font-style: italic; }}
.j {{ text-align: justify; text-indent: 10mm; }}
table.t {{ border-collapse: collapse; width: 165mm; table-layout: fixed; font-size: 11pt; }}
.t td, .t th {{ border: 1px solid #000; padding: 2pt 3pt; vertical-align: top; }}
.t td:nth-child(4) {{ white-space: nowrap; }}
.sg {{ display: grid; grid-template-columns: 80mm 85mm; margin-top: 8pt; }}
.sg .r {{ text-align: center; font-weight: bold; }}
</style></head><body>
<div class="hd"><div>{parent}<div class="b">{e(iss.name.upper())}</div><hr style="width:25mm">
<div>Số: {e(notice.doc_number)}</div><div style="font-size:12pt">{e(notice.title)}</div></div>
<div><div class="b" style="font-size:12pt">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</div>
<div class="b">Độc lập - Tự do - Hạnh phúc</div><hr style="width:58mm">
<div class="i">{e(vn_date_line(iss.place, day))}</div></div></div>
<p style="text-align:center">Kính gửi: {e(notice.recipient)}.</p>
{paras}
<table class="t"><colgroup>{cols}</colgroup>
<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<div class="sg"><div><div class="b i" style="font-size:12pt">Nơi nhận:</div>
<div style="font-size:11pt">{cc}</div></div>
<div class="r">{authority}<br>{e(iss.signer_title.upper())}<br><br><br><br>
{e(iss.signer_name)}</div></div>
</body></html>
"""
