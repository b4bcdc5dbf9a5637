"""Hostile sheets, generated on the spot (each a few KB on disk): what an editor token could
send to take the service down. Used by tests/test_hostile_sheets.py and, for the numbers
in a report, by ``python -m tests.hostile_files <dir>`` (prints peak memory and time).
"""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET_PART = "xl/worksheets/sheet1.xml"
HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành"]


def _base_xlsx(sheets: int = 1) -> bytes:
    """A real workbook written by openpyxl (styles, rels, content types all in place)."""
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    for i in range(1, sheets):
        wb.create_sheet(f"S{i}")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def with_parts(path: Path, parts: dict[str, bytes], sheets: int = 1) -> Path:
    """openpyxl's workbook with some parts replaced (or added), re-zipped."""
    source = zipfile.ZipFile(io.BytesIO(_base_xlsx(sheets)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            data = parts.pop(info.filename, None)
            z.writestr(info.filename, data if data is not None else source.read(info))
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def _sheet(rows: str, dimension: str = "A1:D2", prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{NS}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


def _header_row() -> str:
    return (
        '<row r="1">'
        + "".join(_cell(f"{c}1", h) for c, h in zip("ABCD", HEADER, strict=True))
        + "</row>"
    )


def dimension_bomb(path: Path) -> Path:
    """Declares A1:XFD1048576 and holds one cell at row 1,048,576 (openpyxl used to pad
    every row to 16,384 columns: 4.45 GB in 8 s)."""
    far = f'<row r="1048576">{_cell("A1048576", "x")}</row>'
    return with_parts(path, {SHEET_PART: _sheet(_header_row() + far, "A1:XFD1048576")})


def wide_row(path: Path) -> Path:
    """One cell in column XFD (16,384): a row padded to that width per row."""
    row = f'<row r="2">{_cell("A2", "T-1")}{_cell("XFD2", "x")}</row>'
    return with_parts(path, {SHEET_PART: _sheet(_header_row() + row, "A1:XFD2")})


def bogus_dimension(path: Path) -> Path:
    """A legitimate sheet whose <dimension> lies (A1:XFD1048576): must import as usual."""
    rows = _header_row() + (
        '<row r="2">'
        + _cell("A2", "HOSTILE-DIM-1")
        + _cell("B2", "Nhiệm vụ hợp lệ")
        + _cell("C2", "96")
        + _cell("D2", "31/12/2025")
        + "</row>"
    )
    return with_parts(path, {SHEET_PART: _sheet(rows, "A1:XFD1048576")})


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]>"
).replace("&lol0;", "&lol;")


def billion_laughs_sheet(path: Path) -> Path:
    """The classic entity-expansion bomb in the worksheet part."""
    row = '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return with_parts(path, {SHEET_PART: _sheet(_header_row() + row, prolog=LAUGHS)})


def billion_laughs_workbook(path: Path) -> Path:
    """The same bomb in xl/workbook.xml (parsed by openpyxl before any sheet)."""
    wb_xml = (
        f'<?xml version="1.0"?>{LAUGHS}<workbook xmlns="{NS}" xmlns:r="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="&lol9;"'
        ' sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    return with_parts(path, {"xl/workbook.xml": wb_xml.encode()})


def xxe_sheet(path: Path) -> Path:
    """An external entity reading a server file into a cell."""
    prolog = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    row = '<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    return with_parts(path, {SHEET_PART: _sheet(_header_row() + row, prolog=prolog)})


def zip_bomb(path: Path, inflated: int = 160 << 20) -> Path:
    """A worksheet part that inflates to 160 MiB of blanks (≈160 KB zipped)."""
    head = _sheet(_header_row()).split(b"</sheetData>")[0]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        source = zipfile.ZipFile(io.BytesIO(_base_xlsx()))
        for info in source.infolist():
            if info.filename != SHEET_PART:
                z.writestr(info.filename, source.read(info))
        with z.open(SHEET_PART, "w", force_zip64=True) as part:
            part.write(head)
            blank = b" " * (1 << 20)
            for _ in range(inflated >> 20):
                part.write(blank)
            part.write(b"</sheetData></worksheet>")
    return path


def many_sheets(path: Path, count: int = 65) -> Path:
    return with_parts(path, {}, sheets=count)


def sniffer_bomb(path: Path) -> Path:
    """50 lines of ``Mã nhiệm vụ,`` + ``,"a`` × 1,000 (csv.Sniffer took 47 s on it)."""
    line = "Mã nhiệm vụ," + ',"a' * 1000
    path.write_text("\n".join([line] * 50) + "\n", encoding="utf-8")
    return path


def long_line(path: Path, chars: int = 150_000) -> Path:
    path.write_text("Mã nhiệm vụ,Tên nhiệm vụ\nT-1," + "a" * chars + "\n", encoding="utf-8")
    return path


def many_rows(path: Path, rows: int = 200_001) -> Path:
    path.write_text("Mã nhiệm vụ\n" + "x\n" * rows, encoding="utf-8")
    return path


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "dimension_bomb": (dimension_bomb, "bomb.xlsx"),
    "wide_row": (wide_row, "wide.xlsx"),
    "bogus_dimension": (bogus_dimension, "dim.xlsx"),
    "billion_laughs_sheet": (billion_laughs_sheet, "laughs.xlsx"),
    "billion_laughs_workbook": (billion_laughs_workbook, "laughs_wb.xlsx"),
    "xxe_sheet": (xxe_sheet, "xxe.xlsx"),
    "zip_bomb": (zip_bomb, "zipbomb.xlsx"),
    "many_sheets": (many_sheets, "sheets.xlsx"),
    "sniffer_bomb": (sniffer_bomb, "sniff.csv"),
    "long_line": (long_line, "long.csv"),
    "many_rows": (many_rows, "rows.csv"),
}

_CHILD = """
import json, resource, sys, time
start = time.perf_counter()
out = {}
try:
    from geo.ingest.sheets import read_sheet
    sheet = read_sheet(sys.argv[1], ["Mã nhiệm vụ", "Tên nhiệm vụ"])
    out = {"outcome": "read", "rows": len(sheet.rows)}
except Exception as exc:
    out = {"outcome": type(exc).__name__, "message": str(exc),
           "limit": getattr(exc, "limit", None)}
out["seconds"] = time.perf_counter() - start
# VmHWM: this process's own peak (ru_maxrss would count the forked parent before exec)
hwm = [ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:")]
out["peak_mb"] = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def parse_in_subprocess(path: Path, cap_bytes: int = 1 << 30, timeout_s: float = 120) -> dict:
    """Read ``path`` with ``read_sheet`` in a child whose address space is capped
    (``RLIMIT_AS``): the outcome, the message, peak RSS (MB) and seconds."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))

    repo = Path(__file__).resolve().parents[1]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        preexec_fn=cap,  # noqa: PLW1509 - setrlimit only, before exec
    )
    if done.returncode != 0 or not done.stdout.strip():
        return {"outcome": f"crashed ({done.returncode})", "message": done.stderr[-2000:]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - start
    return result


if __name__ == "__main__":  # numbers for the report: python -m tests.hostile_files /tmp/x
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    for case, (build, name) in CASES.items():
        f = build(folder / name)
        r = parse_in_subprocess(f)
        print(
            f"{case:25s} {f.stat().st_size:>9,} B  {r['outcome']:14s}"
            f" peak {r.get('peak_mb', 0):6.1f} MB  {r.get('seconds', 0):6.2f} s"
            f"  {str(r.get('limit') or '')}  {r.get('message', '')[:90]}"
        )
