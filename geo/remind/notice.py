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
from dataclasses import dataclass, field

from geo import letter
from geo.letter import doc_number, vn_date_line
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
ROUND_WORDS = {1: "Lần đầu"}


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
    reply_url: str | None = None  # the signed answer link (issued notices only)
    escalated: bool = False  # issued automatically: the holder stayed silent past reply-by
    leader: str | None = None  # the leader in charge of its area, copied (escalations)

    @property
    def escalation_mark(self) -> str | None:
        """ "nhắc lần N — báo cáo lãnh đạo phụ trách" on an escalated notice."""
        return f"nhắc lần {self.round} — báo cáo lãnh đạo phụ trách" if self.escalated else None

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
        if self.escalated:
            again = f" ({self.escalation_mark})"
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
        online = (
            f"; đơn vị có thể báo cáo trực tuyến (không cần tài khoản) tại địa chỉ {self.reply_url}"
            if self.reply_url
            else ""
        )
        if self.escalated:
            again += (
                " Đơn vị chưa báo cáo theo công văn đôn đốc trước dù đã quá hạn báo cáo; văn bản"
                f" này là {self.escalation_mark}"
                + (f" (đồng chí {self.leader})." if self.leader else ".")
            )
        return [
            f"Theo dữ liệu trên hệ thống giám sát đến ngày {self.as_of:%d/%m/%Y}, việc thực hiện"
            f" {program} tại đơn vị {state} (danh sách kèm theo).{again}",
            "Đề nghị đơn vị khẩn trương chỉ đạo hoàn thành các nhiệm vụ nêu trên; báo cáo kết"
            " quả thực hiện, nêu rõ nguyên nhân chậm, giải pháp và kiến nghị, đề xuất (nếu có)"
            f" trước ngày {self.reply_by:%d/%m/%Y}{online}./.",
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
        leader = (
            [f"Đồng chí {self.leader}, lãnh đạo phụ trách địa bàn (để báo cáo);"]
            if self.escalated and self.leader
            else []
        )
        return ["Như trên;", *leader, f"Lưu: {self.issuer.archive}."]

    def file_stem(self) -> str:
        number = f"_so-{self.number:02d}" if self.number else ""
        ident = f"_{self.reminder_id}" if self.reminder_id is not None else ""
        return f"nhac-viec_{self.unit_code}_{self.as_of:%Y-%m-%d}{number}{ident}"


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def to_docx(notice: Notice) -> bytes:
    """The notice as a công văn on A4 portrait (Nghị định 30/2020/NĐ-CP; layout in
    ``geo/letter.py``)."""
    doc = letter.new_document()
    letter.header_block(
        doc, notice.issuer, notice.doc_number, notice.issued_on or notice.as_of, notice.title
    )
    letter.para(doc, after=6)
    letter.para(doc, f"Kính gửi: {notice.recipient}.", size=13, after=6)
    for text in notice.body()[:1]:
        letter.para(doc, text, align="j", after=4, indent_mm=10)
    letter.grid_table(doc, COLUMNS, notice.rows(), nowrap=(3,))
    for text in notice.body()[1:]:
        letter.para(doc, text, align="j", after=4, before=6, indent_mm=10)
    letter.signature_block(doc, notice.issuer, notice.recipients_cc())
    return letter.to_bytes(doc)


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
