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


# --- issue 21: files whose parts make a parser allocate far beyond their size -----------
def _stream_part(path: Path, part: str, head: bytes, unit: bytes, count: int, tail: bytes,
                 numbered: bool = False) -> Path:  # fmt: skip
    """openpyxl's workbook with ``part`` replaced by ``head + unit × count + tail``, written
    in blocks (never the whole part in memory); ``numbered``: ``unit`` holds ``%d``."""
    source = zipfile.ZipFile(io.BytesIO(_base_xlsx()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            if info.filename != part:
                z.writestr(info.filename, source.read(info))
        with z.open(part, "w", force_zip64=True) as out:
            out.write(head)
            block = 100_000
            for start in range(0, count, block):
                n = min(block, count - start)
                if numbered:
                    out.write(b"".join(unit % i for i in range(start, start + n)))
                else:
                    out.write(unit * n)
            out.write(tail)
    return path


def styles_bomb(path: Path, count: int = 24_000_000) -> Path:
    """styles.xml of 24 million empty ``<xf/>`` (≈179 KB zipped): openpyxl built them all,
    a worker past 1.6 GB in 2.5 s."""
    head = (f'<?xml version="1.0"?><styleSheet xmlns="{NS}"><cellXfs count="{count}">').encode()
    return _stream_part(path, "xl/styles.xml", head, b"<xf/>", count, b"</cellXfs></styleSheet>")


def runs_bomb(path: Path, count: int = 4_000_000) -> Path:
    """One shared string of 4 million rich-text runs (≈129 KB zipped)."""
    head = f'<?xml version="1.0"?><sst xmlns="{NS}" count="1" uniqueCount="1"><si>'.encode()
    return _stream_part(
        path, "xl/sharedStrings.xml", head, b"<r><t>a</t></r>", count, b"</si></sst>"
    )


def defined_names_bomb(path: Path, count: int = 1_000_000) -> Path:
    """workbook.xml with a million ``<definedName>`` (≈2.5 MB zipped)."""
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    head = (
        f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{rels}"><sheets>'
        '<sheet name="Sheet" sheetId="1" r:id="rId1"/></sheets><definedNames>'
    ).encode()
    unit = b'<definedName name="n%d">Sheet!$A$1</definedName>'
    return _stream_part(
        path, "xl/workbook.xml", head, unit, count, b"</definedNames></workbook>", numbered=True
    )


def shared_strings_bomb(path: Path, count: int = 5_000_000) -> Path:
    """Five million unique shared strings (≈12 MB zipped)."""
    head = f'<?xml version="1.0"?><sst xmlns="{NS}" count="{count}" uniqueCount="{count}">'
    return _stream_part(
        path, "xl/sharedStrings.xml", head.encode(), b"<si><t>s%d</t></si>", count, b"</sst>",
        numbered=True,
    )  # fmt: skip


def ring_geojson(path: Path, vertices: int = 3_000_000) -> Path:
    """One polygon whose ring has 3 million vertices (≈67.5 MB): GDAL's reader went past
    1.8 GB before refusing it."""
    import math

    with path.open("wb") as f:
        f.write(
            b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
            b'{"ma_xa":"00001"},"geometry":{"type":"Polygon","coordinates":[['
        )
        block = 100_000
        for start in range(0, vertices, block):
            parts = []
            for i in range(start, min(start + block, vertices)):
                a = 2 * math.pi * i / vertices
                parts.append(b"[%.6f,%.6f]," % (105 + math.cos(a), 21 + math.sin(a)))
            f.write(b"".join(parts))
        f.write(b"[106.000000,21.000000]]]}}]}")
    return path


def properties_geojson(path: Path, count: int = 100_000) -> Path:
    """One feature with 100,000 properties (≈1.7 MB): pyogrio held the GIL 67 s."""
    props = ",".join(f'"thuoc_tinh_{i}":{i}' for i in range(count))
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{'
        + props
        + '},"geometry":{"type":"Point","coordinates":[105.8,21.0]}}]}'
    )
    return path


# issue 21's table: case → (builder, file name, import kind, the limit its refusal names)
LARGE_CASES: dict[str, tuple[Callable[[Path], Path], str, str, str]] = {
    "styles_bomb": (styles_bomb, "styles.xlsx", "tasks", "max_styles"),
    "runs_bomb": (runs_bomb, "runs.xlsx", "tasks", "max_runs_per_string"),
    "defined_names_bomb": (defined_names_bomb, "names.xlsx", "tasks", "max_defined_names"),
    "shared_strings_bomb": (shared_strings_bomb, "strings.xlsx", "tasks", "max_shared_strings"),
    "ring_geojson": (ring_geojson, "ring.geojson", "boundaries", "max_vertices_per_ring"),
    "properties_geojson": (properties_geojson, "props.geojson", "boundaries", "max_properties"),
}


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
