"""The steering committee's periodic report, written by the system: a DOCX in the format of
Nghị định 30/2020/NĐ-CP (layout pieces shared with the notices: ``geo/letter.py``), and a
PDF of it where LibreOffice is installed.

What it says, in the order a báo cáo of a provincial office or the steering committee uses:
I results (national figures and their change against the previous period, the central
level, Plan 02, the map and the trend, every province, national-level indicators); II
shortcomings (the slowest provinces with the reasons and proposals they stated, overdue
tasks with no reason, ministries with overdue tasks, units that stopped reporting); III
targets and the forecast's "will miss" list; IV proposals. Every figure is read by
``geo/read/report.py`` from the functions the API answers with; numbers and dates are
written the Vietnamese way (1.954; 56,97 %; ngày 30 tháng 9 năm 2025).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import Connection

from geo import letter
from geo.read.report import Period, geometries, report_data
from geo.remind.issuers import NATIONAL, issuer_for
from maps.theme import vn_number

TARGET_WORDS = {"met": "Đạt", "at_risk": "Có nguy cơ không đạt", "not_met": "Chưa đạt",
                "no_data": "Chưa có số liệu"}  # fmt: skip
PDF_TIMEOUT = 120
LIST_CAP = 40  # rows of a list in the report (the paragraph above it gives the count)


# national indicators in the order the reports quote them; others after, by code
class NoOffice(RuntimeError):
    """LibreOffice (``soffice``) is not installed: no PDF can be made here."""


def n(value) -> str:
    """An integer the Vietnamese way: 1.954."""
    return "—" if value is None else vn_number(value, 0)


def pct(value) -> str:
    """A percentage: 56,97 %."""
    return "—" if value is None else f"{vn_number(value, 2)} %"


def signed(value, decimals: int = 0) -> str:
    """A change: +12, -3, +1,25; 0 without a sign."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return sign + vn_number(abs(value), decimals)


def dmy(day: dt.date | str | None) -> str:
    if day is None:
        return "—"
    d = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)[:10])
    return f"{d:%d/%m/%Y}"


def read_inputs(conn: Connection, period: Period, as_of: dt.date | None = None,
                province: str | None = None, stale_days: int = 14) -> dict:  # fmt: skip
    """Everything the report needs from the database (the figures, the issuer, the
    shapes); drawing and writing then need no connection."""
    return {
        "data": report_data(conn, period, as_of, province, stale_days),
        "issuer": issuer_for(conn, province or NATIONAL),
        "shapes": geometries(conn, "province"),
        "communes": geometries(conn, "commune", province) if province else None,
    }


def render(inputs: dict) -> bytes:
    """The report as DOCX bytes, from ``read_inputs``."""
    from maps.report_images import choropleth_png, trend_png

    data = inputs["data"]
    maps = [
        choropleth_png(
            inputs["shapes"],
            {p["code"]: p["completion_pct"] for p in data["now"]["provinces"]},
            f"Tỷ lệ hoàn thành nhiệm vụ NQ57 theo tỉnh, thành phố đến {dmy(data['as_of'])}",
        )
    ]
    if inputs["communes"] is not None:
        maps.append(
            choropleth_png(
                inputs["communes"],
                {c["code"]: c["completion_pct"] for c in data["province"]["communes_kpis"]},
                f"{data['province']['name']}: tỷ lệ hoàn thành KH02 theo xã, phường",
                level="commune",
            )
        )
    chart = trend_png(data["trend"], f"Diễn biến năm {data['year']} (cuối mỗi tháng)")
    return compose(data, inputs["issuer"], maps, chart)


def build_docx(conn: Connection, period: Period, as_of: dt.date | None = None,
               province: str | None = None, stale_days: int = 14) -> bytes:  # fmt: skip
    """The report as DOCX bytes."""
    return render(read_inputs(conn, period, as_of, province, stale_days))


def compose(data: dict, issuer, maps: list[bytes], chart: bytes) -> bytes:
    period: Period = data["period"]
    day: dt.date = data["as_of"]
    now, before, ch = data["now"], data["before"], data["change"]
    doc = letter.new_document()
    kind = issuer.abbrev.split("-")[0]
    letter.header_block(doc, issuer, f"      /BC-{kind}", day)
    scope = f" tại {data['province']['name']}" if data["province"] else ""
    letter.title_block(
        doc,
        "BÁO CÁO",
        f"Kết quả thực hiện Nghị quyết số 57-NQ/TW và Kế hoạch số 02-KH/BCĐTW{scope}"
        f" {period.words}",
    )

    def p(text: str, **kw) -> None:
        letter.para(doc, text, align="j", after=4, indent_mm=10, **kw)

    def heading(text: str) -> None:
        letter.para(doc, text, bold=True, align="l", before=6, after=4, keep_next=True)

    p(
        f"Căn cứ số liệu trên hệ thống giám sát đến {letter.vn_date(day)}, {_who(data)} báo cáo"
        f" kết quả thực hiện {period.words} (số liệu so sánh với cuối kỳ trước, ngày"
        f" {dmy(period.previous_end)}) như sau:"
    )
    heading("I. KẾT QUẢ THỰC HIỆN")
    heading("1. Nhiệm vụ của các tỉnh, thành phố")
    p(
        f"{len(now['provinces'])} tỉnh, thành phố có {n(now['tasks_total'])} nhiệm vụ đến hạn"
        f" trong năm {data['year']}; đã hoàn thành {n(now['tasks_completed'])} nhiệm vụ"
        f" ({pct(now['completion_pct'])}), đang thực hiện {n(now['tasks_in_progress'])}"
        f" nhiệm vụ, trong đó {n(now['tasks_overdue'])} nhiệm vụ quá hạn. So với cuối kỳ"
        f" trước: số nhiệm vụ hoàn thành {signed(ch['tasks_completed'])}, quá hạn"
        f" {signed(ch['tasks_overdue'])}, tỷ lệ hoàn thành {signed(ch['completion_pct'], 2)}"
        " điểm phần trăm."
    )
    c, cb = now["central"], before["central"]
    kh, khb = now["plan02"], before["plan02"]
    rows = [
        ["Nhiệm vụ đến hạn (tỉnh, thành phố)", n(now["tasks_total"]), n(before["tasks_total"]),
         signed(now["tasks_total"] - before["tasks_total"])],
        ["Đã hoàn thành", n(now["tasks_completed"]), n(before["tasks_completed"]),
         signed(ch["tasks_completed"])],
        ["Tỷ lệ hoàn thành", pct(now["completion_pct"]), pct(before["completion_pct"]),
         signed(ch["completion_pct"], 2)],
        ["Quá hạn", n(now["tasks_overdue"]), n(before["tasks_overdue"]),
         signed(ch["tasks_overdue"])],
        ["Quá hạn chưa nêu nguyên nhân", n(now["tasks_overdue_without_reason"]),
         n(before["tasks_overdue_without_reason"]),
         signed(now["tasks_overdue_without_reason"] - before["tasks_overdue_without_reason"])],
        ["Nhiệm vụ của bộ, ngành trung ương", n(c["tasks_total"]), n(cb["tasks_total"]),
         signed(c["tasks_total"] - cb["tasks_total"])],
        ["Bộ, ngành: đã hoàn thành", n(c["tasks_completed"]), n(cb["tasks_completed"]),
         signed(data["central_change"]["tasks_completed"])],
        ["Bộ, ngành: quá hạn", n(c["tasks_overdue"]), n(cb["tasks_overdue"]),
         signed(data["central_change"]["tasks_overdue"])],
        ["Xã, phường hoàn thành đủ 16 nhóm KH02", n(kh["communes_all_groups_done"]),
         n(khb["communes_all_groups_done"]),
         signed(kh["communes_all_groups_done"] - khb["communes_all_groups_done"])],
    ]  # fmt: skip
    letter.grid_table(
        doc,
        (("Chỉ tiêu", 75, "l"), (f"Đến {dmy(day)}", 30, "r"),
         (f"Đến {dmy(period.previous_end)}", 30, "r"), ("Thay đổi", 30, "r")),
        rows,
    )  # fmt: skip
    heading("2. Nhiệm vụ của bộ, ngành trung ương")
    p(
        f"{n(c['agencies'])} bộ, ngành có {n(c['tasks_total'])} nhiệm vụ; đã hoàn thành"
        f" {n(c['tasks_completed'])} ({pct(c['completion_pct'])}), đang thực hiện trong hạn"
        f" {n(c['tasks_on_time'])}, quá hạn {n(c['tasks_overdue'])}."
    )
    heading("3. Kế hoạch số 02-KH/BCĐTW (cấp xã)")
    p(
        f"{n(kh['communes_all_groups_done'])}/{n(kh['communes'])} xã, phường, đặc khu đã hoàn"
        f" thành đủ 16 nhóm nhiệm vụ giai đoạn 1; {n(kh['groups_done'])}/{n(kh['groups_total'])}"
        f" nhóm nhiệm vụ đã hoàn thành; {n(kh['tasks_overdue'])} nhiệm vụ quá hạn, trong đó"
        f" {n(kh['tasks_overdue_without_reason'])} nhiệm vụ chưa nêu nguyên nhân."
    )
    heading("4. Bản đồ và diễn biến")
    for i, png in enumerate(maps, 1):
        _picture(doc, png, 120 if i == 1 else 130)
        letter.para(doc, f"Hình {i}. Bản đồ tỷ lệ hoàn thành nhiệm vụ (cùng phân lớp, màu với"
                    " bản đồ trên hệ thống).", size=11, italic=True, after=6)  # fmt: skip
    _picture(doc, chart, 150)
    letter.para(doc, f"Hình {len(maps) + 1}. Tỷ lệ hoàn thành và số nhiệm vụ quá hạn cuối"
                " mỗi tháng (từ lịch sử cập nhật nhiệm vụ).", size=11, italic=True,
                after=6)  # fmt: skip
    if data["province"]:
        _province_section(doc, data, p, heading)
    heading(f"{6 if data['province'] else 5}. Kết quả theo tỉnh, thành phố")
    letter.grid_table(
        doc,
        (("STT", 9, "c"), ("Tỉnh, thành phố", 38, "l"), ("Nhiệm vụ", 17, "r"),
         ("Hoàn thành", 19, "r"), ("Tỷ lệ", 21, "r"), ("± điểm %", 18, "r"),
         ("Quá hạn", 15, "r"), ("± quá hạn", 14, "r"), ("Xã đạt 16/16", 14, "r")),
        [[str(i), f"{r['kind']} {r['name']}", n(r["tasks_total"]), n(r["tasks_completed"]),
          pct(r["completion_pct"]),
          signed(r["change"]["completion_pct"], 2) if r["change"] else "—",
          n(r["tasks_overdue"]), signed(r["change"]["tasks_overdue"]) if r["change"] else "—",
          f"{n(r['communes_all_groups_done'])}/{n(r['communes'])}"]
         for i, r in enumerate(now["provinces"], 1)],
        size=10, nowrap=(4,),
    )  # fmt: skip
    if data["national_indicators"]:
        heading(f"{7 if data['province'] else 6}. Chỉ tiêu cấp quốc gia")
        letter.grid_table(
            doc,
            (("Chỉ tiêu", 95, "l"), ("Kỳ", 30, "c"), ("Giá trị", 40, "r")),
            [[i["name"], i["period"], _value(i)] for i in data["national_indicators"]],
        )  # fmt: skip

    heading("II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN")
    heading("1. Các tỉnh, thành phố có tỷ lệ hoàn thành thấp nhất")
    letter.grid_table(
        doc,
        (("Tỉnh, thành phố", 32, "l"), ("Tỷ lệ", 20, "r"), ("Quá hạn", 15, "r"),
         ("Nguyên nhân đã nêu", 52, "l"), ("Kiến nghị, đề xuất", 46, "l")),
        [[r["name"], pct(r["completion_pct"]), n(r["tasks_overdue"]),
          "\n".join(f"- {x['reason']} ({n(x['tasks'])} nhiệm vụ)" for x in r["reasons"])
          or "(chưa nêu)",
          "\n".join(f"- {x}" for x in dict.fromkeys(y["proposal"] for y in r["reasons"]
                                                       if y["proposal"])) or "(chưa có)"]
         for r in data["slowest"]],
        size=10,
    )  # fmt: skip
    heading("2. Đơn vị có nhiệm vụ quá hạn chưa nêu nguyên nhân")
    rows_nr = data["no_reason"]
    p(f"{n(len(rows_nr))} tỉnh, thành phố có nhiệm vụ quá hạn chưa nêu nguyên nhân"
      " (nhiệm vụ của tỉnh và nhiệm vụ KH02 của các xã, phường).")  # fmt: skip
    if rows_nr:
        letter.grid_table(
            doc,
            (("Tỉnh, thành phố", 75, "l"), ("NQ57 (cấp tỉnh)", 45, "r"),
             ("KH02 (cấp xã)", 45, "r")),
            [[r["name"], n(r["own"]), n(r["communes"])] for r in rows_nr[:LIST_CAP]],
            size=10,
        )  # fmt: skip
    heading("3. Bộ, ngành trung ương có nhiệm vụ quá hạn")
    if data["agencies"]:
        letter.grid_table(
            doc,
            (("Bộ, ngành", 95, "l"), ("Nhiệm vụ", 22, "r"), ("Tỷ lệ", 26, "r"),
             ("Quá hạn", 22, "r")),
            [[a["name"], n(a["tasks_total"]), pct(a["completion_pct"]), n(a["tasks_overdue"])]
             for a in data["agencies"][:LIST_CAP]],
            size=10,
        )  # fmt: skip
    else:
        p("Không có bộ, ngành nào có nhiệm vụ quá hạn.")
    heading("4. Tình hình cập nhật dữ liệu")
    stale = data["stale_provinces"]
    p(
        f"{n(len(stale))} tỉnh, thành phố và {n(data['stale_communes'])}/{n(data['communes'])}"
        f" xã, phường không cập nhật dữ liệu quá {n(data['stale_days'])} ngày"
        + (
            ": " + "; ".join(f"{h['name']} (lần cuối {dmy(h['last_report_date'])})" for h in stale)
            if stale
            else ""
        )  # fmt: skip
        + "."
    )
    silent = data.get("silent") or []
    heading("5. Đơn vị không báo cáo theo công văn đôn đốc")
    silent_names = "; ".join(
        f"{h['name']} ({h['doc_number']}, hạn {dmy(h['reply_by'])}, còn"
        f" {n(h['still_overdue'])} nhiệm vụ quá hạn)"
        for h in silent[:LIST_CAP]
    )
    p(f"{n(len(silent))} đơn vị quá hạn báo cáo mà chưa trả lời công văn đôn đốc"
      + (f": {silent_names}." if silent else "."))  # fmt: skip

    heading("III. MỤC TIÊU VÀ DỰ BÁO")
    counts = {k: sum(1 for t in data["targets"] if t["state"] == k) for k in TARGET_WORDS}
    heading("1. Mục tiêu")
    p(f"{n(len(data['targets']))} mục tiêu: đạt {n(counts['met'])}, có nguy cơ không đạt"
      f" {n(counts['at_risk'])}, chưa đạt {n(counts['not_met'])}, chưa có số liệu"
      f" {n(counts['no_data'])}.")  # fmt: skip
    judged = sorted(data["targets"], key=lambda t: (list(TARGET_WORDS).index(t["state"]),
                                                    t["unit_code"]))  # fmt: skip
    if judged:
        letter.grid_table(
            doc,
            (("Đơn vị", 34, "l"), ("Mục tiêu", 66, "l"), ("Hạn", 22, "c"),
             ("Đánh giá", 43, "l")),
            [[t["unit_name"], t.get("label") or t["detail"], dmy(t["due"]),
              TARGET_WORDS[t["state"]]] for t in judged[:LIST_CAP]],
            size=10, nowrap=(2,),
        )  # fmt: skip
    heading("2. Dự báo: đơn vị sẽ không kịp hạn")
    wm = data["will_miss"]
    p(f"Theo tốc độ hoàn thành 8 tuần gần nhất, {n(len(wm))} tỉnh, thành phố sẽ không hoàn"
      " thành các nhiệm vụ NQ57 đến hạn trước thời hạn.")  # fmt: skip
    if wm:
        names = {r["code"]: r["name"] for r in now["provinces"]}
        letter.grid_table(
            doc,
            (("Tỉnh, thành phố", 45, "l"), ("Hạn", 24, "c"), ("Còn mở", 22, "r"),
             ("Tốc độ/tuần", 24, "r"), ("Cần/tuần", 24, "r"), ("Dự kiến xong", 26, "c")),
            [[names.get(f["code"], f["code"]), dmy(f["deadline"]), n(f["open_due"]),
              vn_number(f["pace_per_week"], 1) if f["pace_per_week"] is not None else "—",
              vn_number(f["needed_per_week"], 1) if f["needed_per_week"] is not None else "—",
              dmy(f["expected_completion"]) if f["expected_completion"] else "không xác định"]
             for f in wm[:LIST_CAP]],
            size=10, nowrap=(1, 5),
        )  # fmt: skip

    heading("IV. ĐỀ XUẤT, KIẾN NGHỊ")
    for text in (
        "Đề nghị các tỉnh, thành phố có tỷ lệ hoàn thành thấp và các đơn vị có tên trong danh"
        " sách dự báo không kịp hạn tập trung chỉ đạo, bảo đảm nguồn lực, hoàn thành các"
        " nhiệm vụ đến hạn; nêu rõ nguyên nhân chậm, giải pháp và kiến nghị, đề xuất đối với"
        " từng nhiệm vụ quá hạn.",
        "Đề nghị các đơn vị cập nhật dữ liệu trên hệ thống giám sát bảo đảm đúng, đủ, sạch,"
        " sống; kết quả xanh hóa trên hệ thống là thước đo kết quả thực hiện.",
        "Đề nghị các bộ, ngành trung ương khẩn trương hoàn thành các nhiệm vụ quá hạn, ban"
        " hành văn bản hướng dẫn theo thẩm quyền./.",
    ):
        p(text)
    letter.para(doc, after=6)
    letter.signature_block(
        doc, issuer,
        _recipients(data, issuer),
    )  # fmt: skip
    return letter.to_bytes(doc)


def _value(ind: dict) -> str:
    """A national indicator's value: 704 (a count), 18,3 % (a share)."""
    v = float(ind["value"])
    text = vn_number(v, 0 if v.is_integer() else 2)
    return f"{text} %" if ind["unit"] == "%" else f"{text} {ind['unit'] or ''}".strip()


def _who(data: dict) -> str:
    """Who reports: the steering committee, or the province's People's Committee."""
    prov = data["province"]
    return f"Ủy ban nhân dân {prov['kind'].lower()} {prov['name']}" if prov else "Ban Chỉ đạo"


def _recipients(data: dict, issuer) -> list[str]:
    if data["province"]:
        return ["Ban Chỉ đạo Trung ương;", "Thường trực Tỉnh ủy;", "Các sở, ban, ngành;",
                "Ủy ban nhân dân các xã, phường;", f"Lưu: {issuer.archive}."]  # fmt: skip
    return ["Thường trực Ban Chỉ đạo Trung ương;", "Các bộ, ngành trung ương;",
            "Ủy ban nhân dân các tỉnh, thành phố;", f"Lưu: {issuer.archive}."]  # fmt: skip


def _picture(doc, png: bytes, width_mm: float) -> None:
    par = letter.para(doc, before=4)
    par.add_run().add_picture(io.BytesIO(png), width=letter.mm(width_mm))


def _province_section(doc, data: dict, p, heading) -> None:
    prov = data["province"]
    heading(f"5. {prov['kind']} {prov['name']}")
    ch = prov["change"] or {}
    p(
        f"{prov['kind']} {prov['name']} có {n(prov['tasks_total'])} nhiệm vụ, đã hoàn thành"
        f" {n(prov['tasks_completed'])} ({pct(prov['completion_pct'])}; so với cuối kỳ trước"
        f" {signed(ch.get('completion_pct'), 2)} điểm phần trăm), quá hạn"
        f" {n(prov['tasks_overdue'])}; {n(prov['communes_all_groups_done'])}/"
        f"{n(prov['communes'])} xã, phường hoàn thành đủ 16 nhóm KH02."
    )
    for r in prov["reasons"]:
        p(f"Nguyên nhân đã nêu: {r['reason']} ({n(r['tasks'])} nhiệm vụ)"
          + (f"; kiến nghị: {r['proposal']}" if r["proposal"] else "") + ".")  # fmt: skip


def soffice() -> str | None:
    """The LibreOffice binary, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: bytes) -> bytes:
    """The DOCX rendered to PDF by LibreOffice (its own profile in a temporary folder, a
    wall-clock limit); NoOffice when LibreOffice is not installed."""
    binary = soffice()
    if binary is None:
        raise NoOffice("LibreOffice (soffice) is not installed")
    with tempfile.TemporaryDirectory(prefix="iocmap-report-") as tmp:
        src = Path(tmp) / "report.docx"
        src.write_bytes(docx)
        subprocess.run(  # noqa: S603 - fixed argv, our own temporary file
            [binary, "--headless", f"-env:UserInstallation=file://{tmp}/lo",
             "--convert-to", "pdf", "--outdir", tmp, str(src)],
            check=True, capture_output=True, timeout=PDF_TIMEOUT,
        )  # fmt: skip
        return (Path(tmp) / "report.pdf").read_bytes()
