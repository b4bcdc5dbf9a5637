"""Count what openpyxl would build objects for in an XLSX, before it reads a byte.

Why: openpyxl parses ``styles.xml``, ``sharedStrings.xml`` and ``workbook.xml`` whole,
allocating per element, so a few hundred KB of zipped XML became gigabytes: 24 million
``<xf/>`` (179 KB), one shared string of 4 million rich-text runs (129 KB), a million
``<definedName>`` (2.5 MB), 5 million shared strings (12 MB). Each inflated part is
streamed through a bounded buffer and its tags counted with one C-level regex pass per
megabyte — no tree, no per-element Python — and the file is refused at the first count
past its limit (``SheetLimits``), naming the part and the limit.

Runs in the sandbox's child, like the parse it protects (``sheet_files.xlsx_rows_here``).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import IO, Protocol

from geo.errors import LimitExceeded


class SheetLimits(Protocol):
    """The limits this module reads (``sheet_files.SheetLimits`` has them)."""

    @property
    def max_styles(self) -> int: ...
    @property
    def max_shared_strings(self) -> int: ...
    @property
    def max_runs_per_string(self) -> int: ...
    @property
    def max_runs(self) -> int: ...
    @property
    def max_defined_names(self) -> int: ...
    @property
    def max_sheets(self) -> int: ...
    @property
    def max_part_elements(self) -> int: ...


# The start tags openpyxl allocates for (prefix allowed: ``<x:xf``), and the end of a
# shared string. The name must be followed by a space, ``/`` or ``>`` (``<rPr`` is not a
# run, ``<sheetData`` not a sheet). Text in comments or CDATA may be counted too: a count
# is an upper bound, never an under-count.
_COUNTED = re.compile(
    rb"<(?:[A-Za-z_][\w.\-]{0,40}:)?"
    rb"(xf|font|fill|border|numFmt|dxf|cellStyle|si|r|definedName|sheet)(?=[\s/>])"
    rb"|</(?:[A-Za-z_][\w.\-]{0,40}:)?si\s*>"
)
_START_TAG = re.compile(rb"<[A-Za-z_]")
STYLE_TAGS = frozenset((b"xf", b"font", b"fill", b"border", b"numFmt", b"dxf", b"cellStyle"))
COUNT_CHUNK = 1 << 20


class _PartCounts:
    """What ``count_xlsx_parts`` has seen so far, refusing at the first limit crossed."""

    def __init__(self, name: str, limits: SheetLimits) -> None:
        self.name, self.limits = name, limits
        self.styles = self.strings = self.runs = self.names = self.sheets = 0
        self.runs_here = 0  # runs of the shared string being read

    def add(self, part: str, tags: list[bytes]) -> None:
        lim = self.limits
        self.styles += sum(1 for t in tags if t in STYLE_TAGS)
        self.names += tags.count(b"definedName")
        self.sheets += tags.count(b"sheet")
        if b"r" in tags:  # in order: runs are counted per shared string
            for t in tags:
                if t == b"si":
                    self.strings += 1
                    self.runs_here = 0
                elif t == b"r":
                    self.runs += 1
                    self.runs_here += 1
                    if self.runs_here > lim.max_runs_per_string:
                        raise self.refuse(
                            part,
                            "rich-text runs in one shared string",
                            "chuỗi có quá nhiều đoạn định dạng",
                            "max_runs_per_string",
                            lim.max_runs_per_string,
                        )
        else:
            self.strings += tags.count(b"si")
        checks = (
            (self.styles, "style records (<xf>, fonts, fills, borders, number formats)",
             "quá nhiều định dạng (style)", "max_styles", lim.max_styles),
            (self.strings, "shared strings (<si>)", "quá nhiều chuỗi dùng chung",
             "max_shared_strings", lim.max_shared_strings),
            (self.runs, "rich-text runs (<r>)", "quá nhiều đoạn định dạng chữ", "max_runs",
             lim.max_runs),
            (self.names, "defined names (<definedName>)", "quá nhiều tên định nghĩa",
             "max_defined_names", lim.max_defined_names),
            (self.sheets, "sheets", "quá nhiều trang tính", "max_sheets", lim.max_sheets),
        )  # fmt: skip
        for seen, what, what_vi, limit, value in checks:
            if seen > value:
                raise self.refuse(part, what, what_vi, limit, value)

    def refuse(self, part: str, what: str, what_vi: str, limit: str, value: int) -> LimitExceeded:
        return LimitExceeded(
            f"Tệp {self.name}: {part} có {what_vi} (giới hạn {limit}={value:,}) —"
            f" {self.name}: {part} has more than {value:,} {what} (limit {limit}={value:,})",
            file=self.name, limit=limit, value=value, stage="count",
        )  # fmt: skip


def count_xlsx_parts(path: Path, name: str, limits: SheetLimits) -> None:
    """Count, in every XML part, what openpyxl would build objects for, and refuse a file
    over a limit before openpyxl reads it.

    Streams each inflated part through a buffer of ``COUNT_CHUNK`` bytes (plus the tail of
    an unfinished tag), counting with one C-level regex pass per chunk: 24 million
    ``<xf/>`` are refused after the first megabyte, not after openpyxl built them."""
    counts = _PartCounts(name, limits)
    with zipfile.ZipFile(path) as z:
        for m in z.infolist():
            if m.filename.endswith(".xml"):
                with z.open(m) as part:
                    _count_part(part, m.filename, counts)


def _count_part(part: IO[bytes], filename: str, counts: _PartCounts) -> None:
    limits = counts.limits
    generic = not filename.startswith("xl/worksheets/") and "sharedStrings" not in filename
    elements = 0
    carry = b""
    while True:
        chunk = part.read(COUNT_CHUNK)
        buffer = carry + chunk
        cut = len(buffer)
        if chunk:  # keep an unfinished tag (a "<" in the last 64 bytes) for the next round
            last = buffer.rfind(b"<", max(0, len(buffer) - 64))
            cut = cut if last < 0 else last
        segment, carry = buffer[:cut], buffer[cut:]
        counts.add(filename, _COUNTED.findall(segment))
        if generic:
            elements += len(_START_TAG.findall(segment))
            if elements > limits.max_part_elements:
                what, vi = "XML elements", "quá nhiều phần tử XML"
                raise counts.refuse(
                    filename, what, vi, "max_part_elements", limits.max_part_elements
                )
        if not chunk:
            return
