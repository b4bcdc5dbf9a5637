"""The notice as an office sees it: rendered by LibreOffice (headless) to PDF, a notice with
8 tasks fits on 2 A4 pages, its dates never wrap, and the pages are kept as images in
artifacts/ to look at."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from geo.remind.issuers import default_issuer
from geo.remind.notice import Notice, to_docx

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (libreoffice-writer-nogui)")


def _notice(n_tasks: int) -> Notice:
    titles = [
        "Triển khai hệ thống quản lý văn bản và điều hành liên thông bốn cấp chính quyền",
        "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính còn hiệu lực",
        "Kết nối, chia sẻ dữ liệu dân cư với cơ sở dữ liệu chuyên ngành của tỉnh",
        "Bố trí cán bộ chuyên trách chuyển đổi số cấp xã",
    ]
    tasks = [
        {
            "task_id": i,
            "external_id": f"HN-KH02-0{i:04d}-01",
            "title": titles[i % len(titles)],
            "deadline": dt.date(2025, 9 + i % 3, 10 + i),
            "days_overdue": 30 + i,
            "reason": "Chưa bố trí được kinh phí; chờ hướng dẫn của Bộ" if i % 2 else None,
            "round": 1 + i % 3,
        }
        for i in range(1, n_tasks + 1)
    ]
    return Notice(
        unit_code="00004",
        recipient="Ủy ban nhân dân phường Ba Đình, Thành phố Hà Nội",
        program="KH02",
        as_of=dt.date(2025, 11, 13),
        reply_by=dt.date(2025, 11, 20),
        issuer=default_issuer("01", "Hà Nội", "Thành phố"),
        tasks=tasks,
        reasons=[{"kind": "overdue", "tasks": n_tasks}],
        round=2,
        number=125,
        issued_on=dt.date(2025, 11, 13),
    )


def test_eight_tasks_fit_on_two_a4_pages_and_dates_never_wrap(tmp_path):
    docx = tmp_path / "notice.docx"
    docx.write_bytes(to_docx(_notice(8)))
    subprocess.run(
        [SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pdf = tmp_path / "notice.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
    assert pages <= 2, f"{pages} pages"
    size = next(x for x in info.stdout.splitlines() if x.startswith("Page size:"))
    assert "(A4)" in size
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for i in range(1, 9):  # every deadline on one line, whole
        day = dt.date(2025, 9 + i % 3, 10 + i).strftime("%d/%m/%Y")
        assert day in text, f"{day} wrapped or missing"
    for words in ("Số: 125/UBND-KGVX", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                  "Hà Nội, ngày 13 tháng 11 năm 2025", "Kính gửi:", "Nơi nhận:",
                  "TM. ỦY BAN NHÂN DÂN", "PHÓ CHỦ TỊCH"):  # fmt: skip
        assert words in text, words
    ARTIFACTS.mkdir(exist_ok=True)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / "notice_8_tasks")],
            check=True, timeout=60,
        )  # fmt: skip
