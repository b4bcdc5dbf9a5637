"""The committee's report: a DOCX in the NĐ30 format whose figures are the API's, a PDF that
looks like a report an office files, the scheduled run and its listing."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from geo.errors import BadInput
from geo.read.report import last_complete_quarter, parse_period
from maps.theme import vn_number

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "reports"
SOFFICE = shutil.which("soffice")


def _n(v: int) -> str:
    return vn_number(v, 0)


def _pct(v: float) -> str:
    return f"{vn_number(v, 2)} %"


def _text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def test_periods_quarters_months_and_the_previous_one():
    q = parse_period("2025-Q3")
    assert (q.start, q.end, q.previous, q.previous_end) == (
        dt.date(2025, 7, 1), dt.date(2025, 9, 30), "2025-Q2", dt.date(2025, 6, 30))  # fmt: skip
    assert q.words == "quý III năm 2025"
    m = parse_period("2025-01")
    assert (m.end, m.previous, m.previous_end) == (dt.date(2025, 1, 31), "2024-12",
                                                   dt.date(2024, 12, 31))  # fmt: skip
    assert parse_period("2024-Q1").previous == "2023-Q4"
    for bad in ("2025-Q5", "2025-13", "2025", "Q3-2025", "1999-Q1", "", "2025-Q3x"):
        with pytest.raises(BadInput) as err:
            parse_period(bad)
        assert err.value.field == "period"
    assert last_complete_quarter(dt.date(2025, 10, 5)) == "2025-Q3"
    assert last_complete_quarter(dt.date(2026, 2, 1)) == "2025-Q4"


@pytest.mark.parametrize("period", ["2025-Q5", "2025-13", "hello", "2025-q3"])
def test_bad_period_is_422_naming_period(client, period):
    for ext in ("docx", "pdf"):
        r = client.get(f"/api/v1/reports/{period}.{ext}")
        assert r.status_code == 422, r.text
        assert "period" in r.text


def test_unknown_province_is_422_naming_province(client):
    r = client.get("/api/v1/reports/2025-Q3.docx", params={"province": "99"})
    assert r.status_code == 422, r.text
    assert "province" in r.text


def test_docx_holds_the_map_the_tables_and_the_api_figures(client):
    from docx import Document

    r = client.get("/api/v1/reports/2025-Q3.docx")
    assert r.status_code == 200, r.text[:300]
    assert "bao-cao_2025-Q3_2025-09-30.docx" in r.headers["content-disposition"]
    doc = Document(io.BytesIO(r.content))
    text = _text(doc)
    # the NĐ30 header, type name and date line, in Vietnamese date format
    for words in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO",
                  "Hà Nội, ngày 30 tháng 9 năm 2025", "Số:", "/BC-BCĐTW", "quý III năm 2025",
                  "Nơi nhận:", "TM. BAN CHỈ ĐẠO"):  # fmt: skip
        assert words in text, words
    assert doc.styles["Normal"].font.name == "Times New Roman"
    section = doc.sections[0]
    assert round(section.left_margin.mm) == 30 and round(section.page_width.mm) == 210
    # the map and the trend chart, as pictures
    images = [s for s in doc.inline_shapes]
    assert len(images) >= 2
    blobs = [rel.target_part.blob for rel in doc.part.rels.values() if "image" in rel.reltype]
    assert all(b.startswith(b"\x89PNG") for b in blobs) and len(blobs) >= 2

    now = client.get("/api/v1/summary", params={"as_of": "2025-09-30"}).json()
    before = client.get("/api/v1/summary", params={"as_of": "2025-06-30"}).json()
    national = next(t for t in doc.tables if t.rows[0].cells[0].text == "Chỉ tiêu")
    rows = {r.cells[0].text: [c.text for c in r.cells[1:]] for r in national.rows[1:]}
    assert national.rows[0].cells[1].text == "Đến 30/09/2025"
    assert rows["Nhiệm vụ đến hạn (tỉnh, thành phố)"][:2] == [
        _n(now["tasks_total"]), _n(before["tasks_total"])]  # fmt: skip
    assert rows["Đã hoàn thành"][:2] == [_n(now["tasks_completed"]),
                                         _n(before["tasks_completed"])]  # fmt: skip
    assert rows["Tỷ lệ hoàn thành"][:2] == [_pct(now["completion_pct"]),
                                            _pct(before["completion_pct"])]  # fmt: skip
    assert rows["Quá hạn"][0] == _n(now["tasks_overdue"])
    assert rows["Nhiệm vụ của bộ, ngành trung ương"][0] == _n(now["central"]["tasks_total"])
    assert rows["Bộ, ngành: quá hạn"][0] == _n(now["central"]["tasks_overdue"])
    assert rows["Xã, phường hoàn thành đủ 16 nhóm KH02"][0] == _n(
        now["plan02"]["communes_all_groups_done"])  # fmt: skip
    diff = now["tasks_completed"] - before["tasks_completed"]
    assert rows["Đã hoàn thành"][2] == (f"+{_n(diff)}" if diff > 0 else _n(diff))
    # every province, its figures equal to the summary's provinces
    table = next(t for t in doc.tables if t.rows[0].cells[1].text == "Tỉnh, thành phố")
    got = {r.cells[1].text: [c.text for c in r.cells[2:7]] for r in table.rows[1:]}
    assert len(got) == len(now["provinces"]) == 34
    for p in now["provinces"]:
        row = got[f"{p['kind']} {p['name']}"]
        assert row[0] == _n(p["tasks_total"]) and row[1] == _n(p["tasks_completed"])
        assert row[2] == _pct(p["completion_pct"]) and row[4] == _n(p["tasks_overdue"])
    # national indicators (no province): in the summary and in the report
    national = {i["code"]: i["value"] for i in now["national_indicators"]}
    assert [national[c] for c in ("laws_issued", "decrees_issued", "circulars_issued",
                                  "local_docs_issued")] == [17, 56, 60, 704]  # fmt: skip
    assert "704 văn bản" in text and "17 văn bản" in text
    # the other sections, with their headings
    for words in ("có tỷ lệ hoàn thành thấp nhất", "quá hạn chưa nêu nguyên nhân",
                  "Bộ, ngành trung ương có nhiệm vụ quá hạn", "Tình hình cập nhật dữ liệu",
                  "Mục tiêu", "sẽ không kịp hạn", "ĐỀ XUẤT, KIẾN NGHỊ",
                  "Chỉ tiêu cấp quốc gia", "17", "704"):  # fmt: skip
        assert words in text, words


def test_province_report_has_the_province_map(client):
    from docx import Document

    r = client.get("/api/v1/reports/2025-Q3.docx", params={"province": "66"})
    assert r.status_code == 200, r.text[:300]
    doc = Document(io.BytesIO(r.content))
    assert len(doc.inline_shapes) >= 3  # country, province, trend
    assert "Đắk Lắk" in _text(doc)


def test_pdf_route_says_when_libreoffice_is_missing(client, monkeypatch):
    import maps.report

    monkeypatch.setattr(maps.report, "soffice", lambda: None)
    r = client.get("/api/v1/reports/2025-Q2.pdf")
    assert r.status_code == 503, r.text
    assert "LibreOffice" in r.json()["detail"] and "PDF" in r.json()["detail"]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (libreoffice-writer-nogui)")
def test_cli_writes_docx_and_a_pdf_an_office_would_file(db_url, monkeypatch, tmp_path):
    from iocmap.cli import app

    monkeypatch.setenv("IOCMAP_DATABASE_URL", db_url)
    out = CliRunner().invoke(app, ["report", "--period", "2025-Q3", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    pdf = tmp_path / "bao-cao_2025-Q3_2025-09-30.pdf"
    assert (tmp_path / "bao-cao_2025-Q3_2025-09-30.docx").is_file() and pdf.is_file()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "(A4)" in info.stdout
    pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
    assert 3 <= pages <= 12, pages
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    for words in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BÁO CÁO", "Nơi nhận:",
                  "ngày 30 tháng 9 năm 2025", "TRƯỞNG BAN"):  # fmt: skip
        assert words in text, words
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "Serif" in fonts or "Times" in fonts, fonts
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("report-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(pdf), str(ARTIFACTS / "report")],
                   check=True, timeout=120)  # fmt: skip
    assert len(list(ARTIFACTS.glob("report-*.png"))) == pages
    print(f"pages as images: {ARTIFACTS}")
    bad = CliRunner().invoke(app, ["report", "--period", "2025-Q9", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "period" in bad.output


def test_scheduled_run_is_listed_and_downloadable(db_url, monkeypatch, tmp_path):
    from iocmap.cli import app

    monkeypatch.setenv("IOCMAP_DATABASE_URL", db_url)
    # no --today: the last quarter complete by the data's reporting date (13 Nov 2025)
    out = CliRunner().invoke(app, ["report", "scheduled", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    with TestClient(create_app(Settings(database_url=db_url, reports_dir=str(tmp_path)))) as api:
        body = api.get("/api/v1/reports").json()
        assert [r["period"] for r in body["reports"]] == ["2025-Q3"]
        got = body["reports"][0]
        assert got["as_of"] == "2025-09-30" and got["created"].endswith("Z")
        r = api.get(got["links"]["docx"])
        assert r.status_code == 200 and r.content[:2] == b"PK"
        assert api.get("/api/v1/reports/stored/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)
        assert api.get("/api/v1/reports/stored/bao-cao_2024-Q1_2024-03-31.docx").status_code == 404


def test_serving_process_does_not_load_the_renderers():
    code = (
        "import sys, api.app\n"
        "heavy = [m for m in ('matplotlib', 'docx', 'geopandas', 'maps.report')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-2000:]


def test_reports_wait_for_a_heavy_slot_then_answer_503(db_url):
    app = create_app(Settings(database_url=db_url, heavy_slots=1))
    with TestClient(app) as api:
        limit = app.state.work_limits["reports"]
        limit.wait_seconds = 0.2
        api.portal.call(limit._admit.acquire)  # another report holds the only slot
        try:
            r = api.get("/api/v1/reports/2024-Q4.docx")
            assert r.status_code == 503 and r.headers["retry-after"], r.text
            assert "reports" in r.json()["detail"]
        finally:
            limit._admit.release()
        assert api.get("/api/v1/reports/2024-Q4.docx").status_code == 200
