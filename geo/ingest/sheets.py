"""Read the sheets provincial offices send (CSV, XLSX) and parse their cells.

Why so tolerant on input and so strict on output: the same column arrives as
``Mã nhiệm vụ``, ``MA_NHIEM_VU`` or ``task_id``; a code as ``70``, ``00070``, `` 00070`` or
``70.0`` (Excel turned it into a number); a date as ``30/09/2025``, ``2025-09-30`` or an
Excel date cell; a CSV in UTF-8 (with or without BOM), Windows-1258 or even TCVN3. Each
cell either parses to one clean value or raises ``CellError`` with a reason the report
shows next to the file, row and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import BadInput
from geo.ingest.header_block import fill_merged, header_block, numbering_row, report_date
from geo.ingest.sheet_files import CONTROL, Merge, SheetLimits, read_csv_rows, read_xlsx_rows
from geo.safe_text import file_label, spreadsheet_cell
from geo.text import IdentifierError, identifier, search_key

__all__ = ["SheetLimits"]  # re-exported: importers configure limits through this module

SHEET_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
HEADER_SCAN_ROWS = 20  # title rows above the header are common in office sheets


class CellError(ValueError):
    """A cell that cannot be parsed; the message is the reason shown to the user.

    ``str(exc)`` is the English reason; ``vi`` the Vietnamese one (the report's default
    language), ``value`` the cell as the user wrote it, ``expected``/``expected_en`` what
    would be accepted. A reason without ``vi`` is shown in English in both languages."""

    def __init__(
        self,
        message: str,
        *,
        vi: str | None = None,
        value: object = None,
        expected: str | None = None,
        expected_en: str | None = None,
    ) -> None:
        super().__init__(message)
        self.vi = vi
        self.value = None if value is None else str(value)
        self.expected = expected
        self.expected_en = expected_en


@dataclass
class Sheet:
    """Rows of a sheet keyed by the file's own header text, with their row numbers."""

    file: str
    headers: list[str]
    rows: list[tuple[int, dict[str, object]]]  # (row number as the user sees it, cells)
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    # a column's name → its labels, parent first ("Thời gian", "Hạn hoàn thành"): set for
    # columns under a merged parent header
    header_parts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    report_date: dt.date | None = None  # "Số liệu đến ngày 13/11/2025" in the title block


def header_key(text: object) -> str:
    """``Mã nhiệm vụ`` / ``MA_NHIEM_VU`` / ``ma nhiem vu`` → ``manhiemvu``."""
    return search_key(str(text or "")).replace(" ", "")


_LIST_SPLIT = re.compile(r"[,;&/]|\s+(?:và|va|and)\s+")
_BRACKETS = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*")


def list_key(text: object) -> str:
    """A header's key with its "," / "và" / "/" list in any order: ``Khó khăn, vướng mắc``
    and ``Vướng mắc và khó khăn`` → ``khokhan|vuongmac`` (case, diacritics and other
    punctuation ignored)."""
    items = {header_key(p) for p in _LIST_SPLIT.split(str(text or "").lower())}
    return "|".join(sorted(i for i in items if i))


def header_keys(header: str, parts: Sequence[str] = ()) -> list[list[str]]:
    """Keys of a header to match field aliases on, best first, by level: (0) the whole
    name, or its labels read as one phrase ("Ngày / Hoàn thành" → "Ngày Hoàn thành");
    (1) its child label ("Thời gian / Hạn hoàn thành" → "Hạn hoàn thành"); (2) either
    without an owner in brackets ("Mã NV (Sở)" → "Mã NV"). Each level gives the plain key
    and the list key (word order of "," and "và" lists ignored)."""
    texts = [header]
    levels: list[list[str]] = [[header], []]
    if len(parts) > 1:  # the labels read as one phrase: "Ngày" over "Hoàn thành"
        levels[0].append(" ".join(parts))
        texts.append(parts[-1])
        levels[1].append(parts[-1])
    stripped = [_BRACKETS.sub(" ", t).strip() for t in texts]
    levels.append([t for t, orig in zip(stripped, texts, strict=True) if t and t != orig])
    return [[k for t in lv for k in (header_key(t), list_key(t))] for lv in levels]


def map_headers(
    headers: Sequence[str],
    aliases: Mapping[str, Sequence[str]],
    parts: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, str]:
    """Our field → the file's header, by alias keys in priority order (first wins): the
    whole header first, then its child label, then without a bracketed owner."""
    keyed = [(h, header_keys(h, (parts or {}).get(h, ()))) for h in headers]
    out: dict[str, str] = {}
    used: set[str] = set()
    for level in range(3):
        by_key: dict[str, str] = {}
        for h, levels in keyed:
            for k in levels[level] if level < len(levels) else []:
                by_key.setdefault(k, h)
        for fld, keys in aliases.items():
            if fld in out:
                continue
            for k in keys:
                found = by_key.get(header_key(k)) or by_key.get(list_key(k))
                if found is not None and found not in used:
                    out[fld] = found
                    used.add(found)
                    break
    return out


def _score_header(cells: Sequence[object], known: set[str]) -> int:
    """How many distinct cells of a row name known columns (whole, as a list, or without a
    bracketed owner)."""
    score = 0
    for c in {c for c in cells if isinstance(c, str)}:  # a merged title counts once
        if len(c) > 200:
            continue
        keys = {k for lv in header_keys(c) for k in lv}
        score += bool(keys & known)
    return score


def _pick_header(rows: list[list[object]], known: set[str]) -> int:
    """Index of the header row: the first of the top rows naming ≥ 2 known columns."""
    best, best_score = 0, -1
    for i, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = _score_header(cells, known)
        if score >= 2:
            return i
        if score > best_score:
            best, best_score = i, score
    return best


def read_sheet(
    path: str | Path,
    known_headers: Iterable[str] = (),
    sheet_name: str | None = None,
    encoding: str | None = None,
    display_name: str | None = None,
    limits: SheetLimits | None = None,
) -> Sheet:
    """Read a CSV or XLSX file within ``limits``; ``known_headers`` (alias texts) locate the
    header row."""
    path = Path(path)
    name = file_label(display_name or path.name)  # stored as source, shown in headers
    limits = limits or SheetLimits()
    known = {k for h in known_headers for k in (header_key(h), list_key(h))}
    suffix = path.suffix.lower()
    enc: str | None = None
    notes: list[str] = []
    merges: list[Merge] = []
    if suffix in (".xlsx", ".xlsm"):
        grid, merges = read_xlsx_rows(path, sheet_name, name, limits)
    elif suffix in (".csv", ".txt", ".tsv"):
        grid, enc, notes = read_csv_rows(path, encoding, name, limits)
    elif suffix == ".xls":
        raise BadInput(
            f"{name}: old Excel .xls is not supported; save it as .xlsx or CSV (UTF-8)", file=name
        )
    else:
        raise BadInput(f"{name}: not a sheet (expected .csv or .xlsx)", file=name)
    if not grid:
        raise BadInput(f"{name}: the sheet is empty", file=name)
    grid = fill_merged(grid, merges, name, limits)
    h = _pick_header([cells for _, cells in grid[:HEADER_SCAN_ROWS]], known)
    # the row right under names known columns: two of them, or one under a parent label
    # merged over several columns ("Thời gian" over "Hạn hoàn thành" and "Ngày …")
    spans = any(m.top == m.bottom == grid[h][0] and m.right > m.left for m in merges)
    child = (
        h + 1 < len(grid)
        and grid[h + 1][0] == grid[h][0] + 1
        and _score_header(grid[h + 1][1], known) >= (1 if spans else 2)
    )
    block = header_block(grid, h, merges, child_row=child)
    headers = block.names
    start = block.last + 1
    if start < len(grid) and numbering_row(grid[start][1]):
        start += 1  # "(1) (2) (3) …" under the header: column numbers, not a task
    rows = [
        (row_no, {hd: (cells[i] if i < len(cells) else None) for i, hd in enumerate(headers) if hd})
        for row_no, cells in grid[start:]
    ]
    parts = {k: v for k, v in block.parts.items() if len(v) > 1}
    return Sheet(name, [x for x in headers if x], rows, enc, notes, parts, report_date(grid, h))


# --- cells -------------------------------------------------------------------------------
def is_empty(value: object) -> bool:
    """None, empty or blank text (NaN from pandas too)."""
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def text_value(value: object) -> str | None:
    """A cell as trimmed NFC text, None when empty."""
    if is_empty(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def identifier_value(value: object) -> str | None:
    """A cell holding an identifier (a task id): ``text_value`` in NFKC, refused (a
    CellError naming the character) when it holds an invisible or look-alike character."""
    text_ = text_value(value)
    if text_ is None:
        return None
    try:
        return identifier(text_)
    except IdentifierError as exc:
        raise CellError(f"{shown(text_)} {exc}") from None


def normalise_code(value: object, width: int) -> str:
    """``70``, ``00070``, `` 00070``, ``70.0``, ``'00070``, ``００７０`` → ``00070`` (width 5).

    Why NFKC and then ASCII digits only: full-width digits (what some IMEs type) are the
    same code and are folded; other look-alikes (Arabic-Indic digits, a letter O) are
    refused, never stored as a code that no join would find."""
    if isinstance(value, bool):
        raise CellError(f"'{value}' is not a code")
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"'{value}' is not a code (it has decimals)")
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().lstrip("'").strip()
    if re.fullmatch(r"[0-9]+\.0+", text):
        text = text.split(".")[0]
    if not (text.isascii() and text.isdigit()):
        raise CellError(
            f"{shown(value)} is not a code (digits 0-9 only)",
            vi=f"{shown(value)} không phải là mã (chỉ gồm chữ số 0-9)",
            value=value,
            expected=f"mã số gồm tối đa {width} chữ số 0-9",
            expected_en=f"a code of at most {width} digits 0-9",
        )
    digits = text.lstrip("0") or "0"
    if len(digits) > width:
        raise CellError(
            f"{shown(value)} has more than {width} digits",
            vi=f"{shown(value)} có nhiều hơn {width} chữ số",
            value=value,
            expected=f"mã số gồm tối đa {width} chữ số 0-9",
            expected_en=f"a code of at most {width} digits 0-9",
        )
    return digits.zfill(width)


def shown(value: object, limit: int = 40) -> str:
    """A cell value quoted for a message: control characters escaped, long text cut."""
    text = str(value)
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return "'" + CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", cut) + "'"


# Which level a column means, by the words of its header ("Mã xã" → commune, "Mã tỉnh" →
# province): one rule for task sheets, indicator sheets and boundary layer names.
LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "commune": ("xa", "phuong", "commune", "ward"),
    "province": ("tinh", "province"),
}


def header_level(header: object) -> str | None:
    """``Mã xã`` → ``commune``, ``Mã tỉnh/TP`` → ``province``; None when the header names
    neither level, or both."""
    key = header_key(header)
    found = [lvl for lvl, words in LEVEL_WORDS.items() if any(w in key for w in words)]
    return found[0] if len(found) == 1 else None


_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[T ][\d:.]+)?$")
EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_EXPECTED = {
    "expected": "ngày có thật, viết ngày/tháng/năm, ví dụ 31/12/2025 (hoặc 2025-12-31)",
    "expected_en": "a real date as dd/mm/yyyy, e.g. 31/12/2025 (or 2025-12-31)",
}


def parse_date(value: object) -> dt.date | None:
    """``30/09/2025`` (dd/mm/yyyy, Vietnamese order), ``2025-09-30``, Excel date cells."""
    if is_empty(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 <= float(value) <= 80000:  # an Excel serial day number in a General cell
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise CellError(
            f"'{value}' is not a date (expected dd/mm/yyyy)",
            vi=f"'{value}' không phải là ngày",
            **_DATE_EXPECTED,
            value=value,
        )
    text = str(value).strip()
    m = _YMD.match(text)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _DMY.match(text)
        if not m:
            raise CellError(
                f"'{text}' is not a date (expected dd/mm/yyyy or yyyy-mm-dd)",
                vi=f"'{text}' không phải là ngày",
                **_DATE_EXPECTED,
                value=text,
            )
        d, mo, y = (int(g) for g in m.groups())
        if y < 100:
            y += 2000
        if mo > 12 and d <= 12:
            raise CellError(
                f"'{text}' looks like mm/dd/yyyy; write dates as dd/mm/yyyy",
                vi=f"'{text}' có vẻ viết theo tháng/ngày/năm; hãy viết ngày/tháng/năm",
                **_DATE_EXPECTED,
                value=text,
            )
    try:
        return dt.date(y, mo, d)
    except ValueError as exc:
        raise CellError(
            f"'{text}' is not a valid date ({exc})",
            vi=f"'{text}' không phải là ngày có thật (ngày {d}, tháng {mo}, năm {y})",
            **_DATE_EXPECTED,
            value=text,
        ) from exc


def parse_number(value: object) -> float | None:
    """``74,5`` / ``74.5`` / ``1.234,5`` / ``74%`` → a float (Vietnamese decimal comma)."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise CellError(f"'{value}' is not a number")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").rstrip("%")
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError as exc:
        raise CellError(f"'{value}' is not a number") from exc


def parse_int(value: object) -> int | None:
    """A whole number (``3``, ``3.0``, ``'3'``)."""
    number = parse_number(value)
    if number is None:
        return None
    if not float(number).is_integer():
        raise CellError(f"'{value}' is not a whole number")
    return int(number)


def write_rejects(
    path: Path, headers: Sequence[str], rows: Iterable[tuple[int, dict, str]]
) -> Path:
    """The rows that were not imported, with the reason, as UTF-8 CSV with BOM (Excel).

    Every text cell is neutralised (OWASP): the file is opened in a spreadsheet to be fixed,
    and its cells — and the headers — come from an upload."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([spreadsheet_cell(h) for h in ["Dòng (row)", *headers, "Lỗi (error)"]])
        for row_no, cells, reason in rows:
            texts = [_cell_text(cells.get(h)) for h in headers]
            w.writerow([row_no, *[spreadsheet_cell(t) for t in texts], spreadsheet_cell(reason)])
    return path


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)
