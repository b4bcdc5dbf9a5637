"""The layout of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP) in DOCX,
shared by the reminder notices (``geo/remind/notice.py``) and the committee's report
(``maps/report.py``).

Why one module: a notice and a report are read next to the other letters of the same
office; the page, the fonts, the two-column header block and the signature block must be
the same in both, so they are built here once: A4 portrait, margins 20/20/30/15 mm, Times
New Roman 13 pt; the header a borderless two-column table (parent body and issuing body,
a short rule, the number — and for a công văn the summary line — on the left; the national
name, the motto, a rule and the place-and-date line in italics on the right); for a typed
document (``BÁO CÁO``) the type name and its summary centred under it; the signature
block on the right with "Nơi nhận" level with it on the left.

python-docx is bound into this module on first use (``load_docx``): the serving process
does not load it at start.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    from geo.remind.issuers import Issuer

CELL_MARGIN_TWIPS = 57  # 1 mm left and right inside each cell (Word's default is 1.9 mm)
TEXT_WIDTH_MM = 165.0  # A4 210 mm less the 30 + 15 mm margins
HEADER_WIDTHS = (70.0, 95.0)
SIGN_WIDTHS = (80.0, 85.0)


def vn_date(day: dt.date) -> str:
    """ "ngày 05 tháng 02 năm 2026": days under 10 and months under 3 take a 0."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def vn_date_line(place: str, day: dt.date) -> str:
    """ "Hà Nội, ngày 05 tháng 02 năm 2026"."""
    return f"{place}, {vn_date(day)}"


def doc_number(number: int, abbrev: str) -> str:
    """ "05/UBND-KGVX": numbers under 10 take a leading 0 (Nghị định 30/2020)."""
    return f"{number:02d}/{abbrev}"


def load_docx() -> None:
    """python-docx's names, bound into this module the first time a document is written."""
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


def mm(value: float) -> Any:
    return Mm(value)


def para(container, text: str = "", *, size: float = 13, bold: bool = False,
         italic: bool = False, align: str = "c", after: float = 0, before: float = 0,
         indent_mm: float = 0, keep_next: bool = False):  # fmt: skip
    """A paragraph of one run; ``align`` c / l / r / j (justified); ``keep_next`` keeps it
    on the page of what follows (a heading never ends a page)."""
    p = container.add_paragraph()
    p.alignment = {
        "c": WD_ALIGN_PARAGRAPH.CENTER,
        "l": WD_ALIGN_PARAGRAPH.LEFT,
        "r": WD_ALIGN_PARAGRAPH.RIGHT,
        "j": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    p.paragraph_format.space_after = Pt(after)
    p.paragraph_format.space_before = Pt(before)
    if indent_mm:
        p.paragraph_format.first_line_indent = Mm(indent_mm)
    if keep_next:
        p.paragraph_format.keep_with_next = True
    if text:
        run = p.add_run(text)
        run.font.size = Pt(size)
        run.bold = bold
        run.italic = italic
    return p


def rule(container, width_mm: float, cell_mm: float):
    """A short centred rule under a header line: a bottom border on an indented paragraph."""
    p = para(container, size=4)
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


def no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def fixed_widths(table, widths_mm: list[float] | tuple[float, ...]) -> None:
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


def narrow_margins(table) -> None:
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(CELL_MARGIN_TWIPS))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    table._tbl.tblPr.append(margins)


def no_wrap(cell) -> None:
    cell._tc.get_or_add_tcPr().append(OxmlElement("w:noWrap"))


def repeat_header(row) -> None:
    """The row repeats at the top of every page the table runs onto."""
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def drop_empty_first(*cells) -> None:
    """python-docx leaves an empty first paragraph in a new cell: remove it."""
    for cell in cells:
        first = cell.paragraphs[0]
        if not first.text and len(cell.paragraphs) > 1:
            first._p.getparent().remove(first._p)


def new_document():
    """An empty A4 portrait document with the decree's margins and font."""
    load_docx()
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
    return doc


def header_block(doc, issuer: Issuer, number: str, day: dt.date, summary: str | None = None):
    """The two-column header; ``summary`` is a công văn's "V/v …" line (a typed document
    puts its summary under the type name instead: ``title_block``)."""
    left_w, right_w = HEADER_WIDTHS
    head = doc.add_table(rows=1, cols=2)
    no_borders(head)
    fixed_widths(head, [left_w, right_w])
    left, right = head.rows[0].cells
    if issuer.parent:
        para(left, issuer.parent.upper(), size=12)
    para(left, issuer.name.upper(), size=12, bold=True)
    rule(left, 25, left_w)
    para(left, f"Số: {number}", size=13, after=2)
    if summary:
        para(left, summary, size=12)
    para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
    para(right, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True)
    rule(right, 58, right_w)
    para(right, vn_date_line(issuer.place, day), size=13, italic=True)
    drop_empty_first(left, right)
    return head


def title_block(doc, type_name: str, summary: str) -> None:
    """The type of a typed document ("BÁO CÁO", bold, 14 pt) and its summary under it
    (bold, 14 pt), a short rule below."""
    para(doc, type_name.upper(), size=14, bold=True, before=18)
    para(doc, summary, size=14, bold=True)
    rule(doc, 40, TEXT_WIDTH_MM)
    para(doc, after=6)


def signature_block(doc, issuer: Issuer, cc: list[str]) -> None:
    """ "Nơi nhận" on the left, level with the authority, title and name on the right."""
    sign = doc.add_table(rows=1, cols=2)
    no_borders(sign)
    fixed_widths(sign, list(SIGN_WIDTHS))
    left, signer = sign.rows[0].cells
    para(left, "Nơi nhận:", size=12, bold=True, italic=True, align="l")
    for line in cc:
        para(left, f"- {line}", size=11, align="l")
    for line in issuer.authority.splitlines():
        para(signer, line.upper(), size=13, bold=True)
    para(signer, issuer.signer_title.upper(), size=13, bold=True)
    for _ in range(4):  # room for the signature and the seal
        para(signer, size=13)
    para(signer, issuer.signer_name, size=13, bold=True)
    drop_empty_first(left, signer)


def grid_table(doc, columns, rows: list[list[str]], size: float = 11, nowrap: tuple = ()):
    """A bordered table: ``columns`` (header, width mm, align c/l/r) and its rows; the
    header row bold and repeated on every page."""
    table = doc.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    repeat_header(table.rows[0])
    for cell, (name, _, _) in zip(table.rows[0].cells, columns, strict=True):
        para(cell, name, size=size, bold=True)
        drop_empty_first(cell)
    for values in rows:
        cells = table.add_row().cells
        for i, (cell, value, (_, _, align)) in enumerate(zip(cells, values, columns, strict=True)):
            para(cell, value, size=size, align=align)
            drop_empty_first(cell)
            if i in nowrap:
                no_wrap(cell)
    fixed_widths(table, [w for _, w, _ in columns])
    narrow_margins(table)
    return table


def to_bytes(doc) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
