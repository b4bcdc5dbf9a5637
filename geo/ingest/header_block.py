"""Headers as offices lay them out: a title block, then a header of one or more rows with
merged cells, each column named by its parent and child labels.

Why: a provincial summary puts "Đơn vị" over "Mã xã" and "Tên xã/phường", "Thời gian" over
"Hạn hoàn thành" and "Ngày hoàn thành" (merged cells), under a title block of merged rows
("Số liệu đến ngày 13/11/2025"). Reading only the first row that names known columns took
the upper row, so the sheet had no task id column. Here the merged ranges (reported by the
sandboxed reader, ``sheet_files.prescan_worksheet``) make a merged cell span its columns;
the header block reaches down to the lowest row a header cell is merged into, and each
column is named "parent / child" ("Thời gian / Hạn hoàn thành"); ``sheets.map_headers``
then matches a field on the whole name, else on the child label.

Merged cells of data rows span their columns too (a commune name merged over its tasks'
rows is that commune on every row); the copies are bounded by ``max_cells``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from geo.ingest.sheet_files import Merge, SheetLimits, limit_error
from geo.text import search_key

MAX_HEADER_ROWS = 4  # a header block deeper than this is a table, not a header
MAX_HEADER_MERGES = 500  # merged ranges a header block may have (it has ≤ 4 × 500 cells)
SEPARATOR = " / "  # between a parent label and a child label in a column's name

Grid = list[tuple[int, list[object]]]

# "(Số liệu đến ngày 13/11/2025)", "Tính đến hết ngày 13 tháng 11 năm 2025" (diacritic-free)
_REPORT_DATE = (
    re.compile(r"\bden (?:het )?ngay (\d{1,2}) (\d{1,2}) (\d{4})\b"),
    re.compile(r"\bden (?:het )?ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})\b"),
    re.compile(r"\bas (?:of|at) (\d{1,2}) (\d{1,2}) (\d{4})\b"),
)


_DOCUMENT_DATE = re.compile(r"\bngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})\b")


@dataclass
class HeaderBlock:
    """Where the header is and what each column is called."""

    first: int  # index in the grid of the first header row
    last: int  # index of the last header row (the data starts after it)
    names: list[str]  # one per column ("" = unnamed)
    parts: dict[str, tuple[str, ...]]  # a column's name → its labels, parent first


def fill_merged(grid: Grid, merges: Sequence[Merge], name: str, limits: SheetLimits) -> Grid:
    """Every cell of a merged range holds the range's value (its top-left cell's); the
    copies count against ``max_cells`` with the sheet's own cells. (``header_block``
    knows the copies from the ranges, so a header merged over two columns still names one
    column.)"""
    if not merges:
        return grid
    by_row = {row_no: i for i, (row_no, _) in enumerate(grid)}
    numbers = [row_no for row_no, _ in grid]  # ascending: the reader yields rows in order
    budget = limits.max_cells - sum(len(cells) for _, cells in grid)  # with the sheet's own
    for m in merges:
        origin = by_row.get(m.top)
        if origin is None:
            continue
        cells = grid[origin][1]
        value = cells[m.left - 1] if m.left - 1 < len(cells) else None
        if value is None:
            continue
        # only the rows the sheet has (a range may say 1 048 576 rows of nothing)
        for i in range(origin, bisect.bisect_right(numbers, m.bottom)):
            row_no, row = grid[i]
            if len(row) < m.right:
                row.extend([None] * (m.right - len(row)))
            for col in range(m.left, m.right + 1):
                if row_no == m.top and col == m.left:
                    continue
                budget -= 1
                if budget < 0:
                    raise limit_error(name, "merged cells span too many cells", "max_cells",
                                      limits.max_cells)  # fmt: skip
                row[col - 1] = value
    return grid


def header_block(
    grid: Grid, first: int, merges: Sequence[Merge], child_row: bool = False
) -> HeaderBlock:
    """The header rows starting at grid index ``first`` and each column's name.

    The block reaches down to the lowest row a cell of the first header row is merged
    into ("STT" merged over two rows), at most ``MAX_HEADER_ROWS``; without vertical
    merges, the row right under is a child row when the caller says so (``child_row``:
    it names known columns, see ``sheets.read_sheet``). In a header without merges, an
    empty parent cell above a child label belongs to the parent on its left ("Thời gian"
    | "" over "Hạn" | "Ngày")."""
    top = grid[first][0]
    bottom = top
    for m in merges:
        if m.top == top and m.bottom > bottom:
            bottom = m.bottom
    if child_row and bottom == top and first + 1 < len(grid) and grid[first + 1][0] == top + 1:
        bottom = top + 1
    bottom = min(bottom, top + MAX_HEADER_ROWS - 1)
    last = first
    while last + 1 < len(grid) and grid[last + 1][0] <= bottom:
        last += 1
    if last > first and not merges:
        _carry_parents(grid[first][1], grid[first + 1][1])
    copies = _copied_cells(merges, top, bottom)
    width = max(len(cells) for _, cells in grid[first : last + 1])
    names: list[str] = []
    parts: dict[str, tuple[str, ...]] = {}
    for col in range(1, width + 1):
        labels: list[str] = []
        own = False
        for row_no, cells in grid[first : last + 1]:
            text = clean_label(cells[col - 1] if col - 1 < len(cells) else None)
            if not text:
                continue
            own = own or (row_no, col) not in copies  # a copy alone names no column
            if not labels or labels[-1] != text:
                labels.append(text)
        if not labels or not own:
            names.append("")
            continue
        name = SEPARATOR.join(labels)
        names.append(name)
        parts.setdefault(name, tuple(labels))
    return HeaderBlock(first, last, names, parts)


def _carry_parents(parent: list[object], child: list[object]) -> None:
    """Unmerged two-row header: an empty parent cell over a child label takes the parent
    on its left when that parent has a child label too (it spans a group)."""
    left: object = None
    for i in range(len(child)):
        here = parent[i] if i < len(parent) else None
        if clean_label(here):
            left = here if clean_label(child[i]) else None
        elif left is not None and clean_label(child[i]):
            while len(parent) <= i:
                parent.append(None)
            parent[i] = left
        else:
            left = None


_COLUMN_NUMBER = re.compile(r"\(?\s*(\d{1,3})\s*\)?")


def numbering_row(cells: Sequence[object]) -> bool:
    """A row of column numbers under a header ("(1)", "(2)", … or 1, 2, 3 …), which
    Vietnamese administrative tables often carry: at least three, increasing."""
    numbers: list[int] = []
    for c in cells:
        if c is None or (isinstance(c, str) and not c.strip()):
            continue
        if isinstance(c, bool):
            return False
        if isinstance(c, int | float) and float(c).is_integer():
            numbers.append(int(c))
            continue
        m = _COLUMN_NUMBER.fullmatch(str(c).strip())
        if not m:
            return False
        numbers.append(int(m.group(1)))
    return len(numbers) >= 3 and all(b > a for a, b in zip(numbers, numbers[1:], strict=False))


def _copied_cells(merges: Sequence[Merge], top: int, bottom: int) -> set[tuple[int, int]]:
    """(row, column) of the header cells that hold a copy of a merged cell's value."""
    out: set[tuple[int, int]] = set()
    near = [m for m in merges if not (m.bottom < top or m.top > bottom)]
    for m in near[:MAX_HEADER_MERGES]:  # more than a header's cells: overlapping, ignored
        for r in range(max(m.top, top), min(m.bottom, bottom) + 1):
            for c in range(m.left, m.right + 1):
                if (r, c) != (m.top, m.left):
                    out.add((r, c))
    return out


def clean_label(value: object) -> str:
    """A header cell as one line of NFC text ("" for an empty cell)."""
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def report_date(grid: Grid, first: int) -> dt.date | None:
    """The sheet's reporting date, read from its title block (the rows above the header):
    "Số liệu đến ngày 13/11/2025", "Tính đến hết ngày 13 tháng 11 năm 2025"; else the
    document's own date ("Nghệ An, ngày 14 tháng 11 năm 2025"), which is no earlier."""
    texts = [
        search_key(c) for _, cells in grid[:first] for c in cells
        if isinstance(c, str) and len(c) <= 500
    ]  # fmt: skip
    for patterns in (_REPORT_DATE, (_DOCUMENT_DATE,)):
        for key in texts:
            for pattern in patterns:
                m = pattern.search(key)
                if m:
                    d, mo, y = (int(g) for g in m.groups())
                    try:
                        return dt.date(y, mo, d)
                    except ValueError:
                        continue
    return None
