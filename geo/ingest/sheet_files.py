"""Read CSV and XLSX files into rows of cells — bounded, streaming, never trusting the file.

Why a module of its own: any editor token can send a sheet, so the reader is the first
thing a hostile file meets. Every limit in ``SheetLimits`` is checked while streaming,
before the memory or the time is spent:

- XLSX: the zip's declared sizes (zipfile never inflates a member past its declared size,
  so the check is a real bound), the number of sheets, then a pre-scan of the one
  worksheet with expat that counts rows, columns and cells and refuses any DTD (billion
  laughs, XXE; the prolog of every other XML part is checked for a DTD too) before
  openpyxl builds a single row; openpyxl then reads in read-only mode
  with the declared ``<dimension>`` dropped, so a 5 KB file declaring ``A1:XFD1048576`` is
  not padded to 17 billion cells. ``defusedxml`` (a dependency) guards openpyxl's own XML.
- CSV: physical line lengths are checked before parsing, and the delimiter is found by a
  linear count (``csv.Sniffer``'s regexes backtrack for tens of seconds on crafted lines).

A file over a limit raises ``LimitExceeded`` (413) naming the limit; a file that is not
what it says raises ``BadInput`` (422). Control characters in cells become spaces (a NUL
cannot be stored in PostgreSQL text at all).

Where it runs: ``read_xlsx_rows`` and ``read_csv_rows`` hand the file to a limited child
process (``geo.ingest.sandbox``); everything below ``# --- in the child`` runs there, so the
serving process never imports openpyxl nor decodes a byte of an upload. Before openpyxl
opens an XLSX, the child counts what makes openpyxl allocate (``count_xlsx_parts``): style
records, shared strings and their rich-text runs, defined names, sheets — streaming each
inflated part through a bounded buffer, never building a tree (``xlsx_counts``).

Why one module (≈470 lines): the CSV and XLSX readers share one counter, one set of
limits and one wording of refusals, and the serving side of each (two short functions)
must stay next to the child's side it hands the file to.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple
from xml.parsers import expat

from geo.errors import BadInput, LimitExceeded
from geo.ingest import encodings, sandbox
from geo.ingest.xlsx_counts import count_xlsx_parts

MAX_MERGES = 10_000  # merged ranges kept per worksheet (headers need a few dozen)


class Merge(NamedTuple):
    """A merged range, 1-based and inclusive: its top-left cell holds the value."""

    top: int
    left: int
    bottom: int
    right: int


# C0/C1 control characters other than tab, LF and CR: never meaningful in a sheet cell.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
DELIMITERS = ",;\t|"
SNIFF_LINES = 50
SNIFF_CHARS = 4096  # per line: enough to count delimiters of a header and a few rows
DETECT_BYTES = 2000  # per line handed to the legacy-encoding detector


@dataclass(frozen=True)
class SheetLimits:
    """What one sheet may cost; over any of these the file is refused with the limit named.

    The defaults fit a national Plan 02 export (3,321 communes × 16 groups ≈ 53,000 rows)
    with room to spare, and keep a worst-case file under ~300 MB of memory."""

    max_bytes: int = 20 << 20  # the file on disk (CSV text or zipped XLSX)
    max_rows: int = 200_000
    max_columns: int = 500
    max_cells: int = 1_000_000
    max_cell_chars: int = 32_767  # Excel's own limit for one cell
    max_line_chars: int = 100_000  # one physical CSV line
    max_sheets: int = 64
    max_unzipped_bytes: int = 128 << 20  # all members of the XLSX, inflated
    max_zip_members: int = 10_000
    # counted in the XLSX parts before openpyxl reads them (each made openpyxl allocate
    # gigabytes from a file of a few hundred KB)
    max_styles: int = (
        100_000  # style records in styles.xml (<xf>, fonts, fills…; Excel: 64,000 formats)
    )
    max_shared_strings: int = 1_000_000  # <si> in sharedStrings.xml (no more than cells)
    max_runs_per_string: int = 4_096  # rich-text runs <r> in one shared string
    max_runs: int = 1_000_000  # rich-text runs in all shared strings
    max_defined_names: int = 10_000  # <definedName> in workbook.xml
    max_part_elements: int = 2_000_000  # elements of any other XML part openpyxl parses


def limit_error(name: str, what: str, limit: str, value: int) -> LimitExceeded:
    """``LimitExceeded`` with one wording everywhere: file, what, the limit's name and value."""
    return LimitExceeded(
        f"{name}: {what} (limit {limit}={value:,})", file=name, limit=limit, value=value
    )


def clean_cell(value: object) -> object:
    """Control characters (NUL, ESC, …) in a text cell → spaces; other values unchanged."""
    if isinstance(value, str) and CONTROL.search(value):
        return CONTROL.sub(" ", value)
    return value


def check_size(path: Path, name: str, limits: SheetLimits) -> None:
    """Refuse a file over ``max_bytes`` before reading a byte of it."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise limit_error(name, f"the file has {size:,} bytes", "max_bytes", limits.max_bytes)


class _Counter:
    """Rows, columns and cells seen so far, raising the first limit crossed."""

    def __init__(self, name: str, limits: SheetLimits) -> None:
        self.name, self.limits = name, limits
        self.rows = 0
        self.cells = 0

    def row(self, row_no: int) -> None:
        self.rows += 1
        if row_no > self.limits.max_rows or self.rows > self.limits.max_rows:
            raise limit_error(
                self.name, f"row {row_no:,} is past the row limit", "max_rows",
                self.limits.max_rows,
            )  # fmt: skip

    def cell(self, row_no: int, column: int) -> None:
        self.cells += 1
        if column > self.limits.max_columns:
            raise limit_error(
                self.name, f"row {row_no:,} has a cell in column {column:,}", "max_columns",
                self.limits.max_columns,
            )  # fmt: skip
        if self.cells > self.limits.max_cells:
            raise limit_error(self.name, "too many cells", "max_cells", self.limits.max_cells)

    def values(self, row_no: int, values: list | tuple) -> None:
        """A whole row at once (columns, cells, longest text): the CSV and XLSX readers'
        per-row check, cheaper than one call per cell."""
        if len(values) > self.limits.max_columns:
            raise limit_error(
                self.name, f"row {row_no:,} has {len(values):,} columns", "max_columns",
                self.limits.max_columns,
            )  # fmt: skip
        self.cells += len(values)
        if self.cells > self.limits.max_cells:
            raise limit_error(self.name, "too many cells", "max_cells", self.limits.max_cells)
        longest = max((len(v) for v in values if isinstance(v, str)), default=0)
        if longest > self.limits.max_cell_chars:
            col = next(
                i for i, v in enumerate(values, 1) if isinstance(v, str) and len(v) == longest
            )
            raise limit_error(
                self.name, f"the cell at row {row_no:,}, column {col:,} has {longest:,}"
                " characters", "max_cell_chars", self.limits.max_cell_chars,
            )  # fmt: skip


# --- in the serving process: hand the file to the sandbox --------------------------------
def read_csv_rows(
    path: Path, encoding: str | None, name: str, limits: SheetLimits
) -> tuple[list[tuple[int, list[object]]], str, list[str]]:
    """(non-empty rows as (record number, cells), encoding used, notes) of a text sheet,
    read in a sandboxed child."""
    check_size(path, name, limits)
    args = {"encoding": encoding, "limits": asdict(limits)}
    out = sandbox.run("sheet_csv", path, name, args).result
    return sandbox.unpack_rows(out["rows"]), str(out["encoding"]), list(out["notes"])


def read_xlsx_rows(
    path: Path, sheet_name: str | None, name: str, limits: SheetLimits
) -> tuple[list[tuple[int, list[object]]], list[Merge]]:
    """(non-empty rows of one worksheet as (Excel row number, values), its merged ranges),
    read in a sandboxed child (parts counted first, then openpyxl)."""
    check_size(path, name, limits)
    args = {"sheet": sheet_name, "limits": asdict(limits)}
    out = sandbox.run("sheet_xlsx", path, name, args).result
    merged = [
        Merge(*(int(x) for x in m))
        for m in out.get("merged", [])[:MAX_MERGES]
        if isinstance(m, list) and len(m) == 4
    ]
    return sandbox.unpack_rows(out["rows"]), merged


# --- in the child (geo.ingest.sandbox runs these) ----------------------------------------
def csv_task(path: Path, name: str, args: dict) -> tuple[dict, None]:
    """The child's CSV work: decode, sniff, parse, within the limits."""
    limits = SheetLimits(**args["limits"])
    sandbox.stage("parse")
    rows, enc, notes = csv_rows_here(path, args.get("encoding"), name, limits)
    return {"rows": sandbox.pack_rows(rows), "encoding": enc, "notes": notes}, None


def xlsx_task(path: Path, name: str, args: dict) -> tuple[dict, None]:
    """The child's XLSX work: zip checks and counts, then openpyxl; the merged ranges (read
    by the pre-scan) travel with the rows."""
    limits = SheetLimits(**args["limits"])
    merged: list[Merge] = []
    rows = xlsx_rows_here(path, args.get("sheet"), name, limits, merged)
    return {"rows": sandbox.pack_rows(rows), "merged": [list(m) for m in merged]}, None


def csv_rows_here(
    path: Path, encoding: str | None, name: str, limits: SheetLimits
) -> tuple[list[tuple[int, list[object]]], str, list[str]]:
    """``read_csv_rows``'s work, in this process (the child's)."""
    check_size(path, name, limits)
    text, enc = decode_text_file(path.read_bytes(), encoding, name)
    notes = [] if enc.startswith("utf-8") else [f"{name}: read as {encodings.LABELS.get(enc, enc)}"]
    for line_no, line in enumerate(io.StringIO(text, newline=None), start=1):
        if len(line) > limits.max_line_chars:
            raise limit_error(
                name, f"line {line_no:,} has {len(line):,} characters", "max_line_chars",
                limits.max_line_chars,
            )  # fmt: skip
    delimiter = sniff_delimiter(text)
    counter = _Counter(name, limits)
    out: list[tuple[int, list[object]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row_no, record in enumerate(reader, start=1):
            counter.row(row_no)
            counter.values(row_no, record)
            cells = [clean_cell(raw) if raw.strip() else None for raw in record]
            if any(c is not None for c in cells):
                out.append((row_no, cells))
    except csv.Error as exc:  # e.g. a field over csv's own size limit
        raise BadInput(f"{name}: not a readable CSV file ({exc})", file=name) from exc
    return out, enc, notes


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text, in time linear in what it looks at.

    Counts each candidate outside double quotes on the first lines (each cut to
    ``SNIFF_CHARS``); the winner appears on the most lines the same non-zero number of
    times, ties going to the order of ``DELIMITERS`` (comma first)."""
    lines = [ln[:SNIFF_CHARS] for ln in text.splitlines()[:SNIFF_LINES] if ln.strip()]
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        counts = [_count_outside_quotes(ln, d) for ln in lines]
        nonzero = [c for c in counts if c]
        if not nonzero:
            continue
        mode = max(set(nonzero), key=nonzero.count)
        score = (counts.count(mode), mode)
        if score > best_score:
            best, best_score = d, score
    return best


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


# Byte-order marks, longest first (UTF-32 LE starts with UTF-16 LE's mark)
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_text_file(raw: bytes, encoding: str | None, name: str) -> tuple[str, str]:
    """Bytes of a text file → (NFC text, encoding used): BOM (UTF-8, UTF-16, UTF-32), UTF-8,
    else detected legacy. Why the UTF-16/32 marks: Excel's "Unicode text" is UTF-16; read
    as a legacy encoding it was every other byte a NUL."""
    if encoding:
        try:
            return encodings.decode(raw, encoding), encodings.normalise_encoding_name(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise BadInput(f"{name}: cannot decode as {encoding}: {exc}", file=name) from exc
    for bom, codec in BOMS:
        if raw.startswith(bom):
            try:  # the codec reads the mark for the byte order and drops it
                return unicodedata.normalize("NFC", raw.decode(codec)), codec
            except UnicodeDecodeError as exc:
                raise BadInput(
                    f"Tệp {name}: có dấu BOM {codec.upper()} nhưng nội dung không hợp lệ —"
                    f" {name}: starts with a {codec.upper()} byte-order mark but is not"
                    f" {codec.upper()} ({exc})",
                    file=name,
                ) from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return unicodedata.normalize("NFC", raw[3:].decode("utf-8")), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise BadInput(f"{name}: starts as UTF-8 but is not ({exc})", file=name) from exc
    try:
        return unicodedata.normalize("NFC", raw.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    lines = [ln[:DETECT_BYTES] for ln in raw.splitlines() if ln.strip()]
    found = encodings.detect(lines[:2000])
    if not found.confirmed:
        raise BadInput(
            f"{name}: the text is not UTF-8 and no legacy encoding reads it as Vietnamese"
            f" (best guess {found.label}, {found.score:.0%} of words valid); save it as UTF-8"
            " or pass --encoding",
            file=name,
        )
    return encodings.decode(raw, found.encoding), found.encoding


# --- XLSX --------------------------------------------------------------------------------
def xlsx_rows_here(
    path: Path,
    sheet_name: str | None,
    name: str,
    limits: SheetLimits,
    merged: list[Merge] | None = None,
) -> list[tuple[int, list[object]]]:
    """``read_xlsx_rows``'s work, in this process (the child's); the worksheet's merged
    ranges are appended to ``merged``."""
    sandbox.stage("sniff")
    check_size(path, name, limits)
    check_zip(path, name, limits)
    sandbox.stage("count")
    count_xlsx_parts(path, name, limits)  # before openpyxl builds anything
    sandbox.stage("parse")
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, KeyError, defusedxml's refusals…
        if isinstance(exc, MemoryError):  # the sandbox's memory limit: named by it
            raise
        raise _unreadable(name, exc, path) from exc
    try:
        if len(wb.sheetnames) > limits.max_sheets:
            raise limit_error(
                name, f"the workbook has {len(wb.sheetnames):,} sheets", "max_sheets",
                limits.max_sheets,
            )  # fmt: skip
        if sheet_name:
            if sheet_name not in wb.sheetnames:
                shown = ", ".join(wb.sheetnames[:20])
                raise BadInput(
                    f"{name}: no sheet '{sheet_name}' (sheets: {shown})", file=name, field="sheet"
                )
            ws = wb[sheet_name]
        else:
            ws = wb.worksheets[0]
        # openpyxl's read-only worksheet keeps the part's path; the pre-scan reads the same
        # bytes from the same archive before openpyxl builds any row.
        with wb._archive.open(ws._worksheet_path) as part:
            found = prescan_worksheet(part, name, limits)
        if merged is not None:
            merged.extend(found)
        ws.reset_dimensions()  # never pad rows to the declared <dimension>
        return list(_xlsx_rows(ws, name, limits))
    except (BadInput, LimitExceeded):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a malformed part makes openpyxl raise
        if isinstance(exc, MemoryError):  # the sandbox's memory limit: named by it
            raise
        raise _unreadable(name, exc, path) from exc
    finally:
        wb.close()


def _xlsx_rows(ws, name: str, limits: SheetLimits) -> Iterator[tuple[int, list[object]]]:
    counter = _Counter(name, limits)
    for row_no, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if row_no > limits.max_rows:  # only gaps can get here: the pre-scan counted rows
            raise limit_error(name, f"row {row_no:,} is past the row limit", "max_rows",
                              limits.max_rows)  # fmt: skip
        if not values or all(v is None for v in values):
            continue
        counter.row(row_no)
        counter.values(row_no, values)
        yield row_no, [clean_cell(v) for v in values]


def check_zip(path: Path, name: str, limits: SheetLimits) -> None:
    """Refuse a zip bomb before inflating anything: member count and declared sizes."""
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadInput(f"{name}: not a readable .xlsx file ({exc})", file=name) from exc
    if len(members) > limits.max_zip_members:
        raise limit_error(
            name, f"the archive has {len(members):,} members", "max_zip_members",
            limits.max_zip_members,
        )  # fmt: skip
    total = sum(m.file_size for m in members)
    if total > limits.max_unzipped_bytes:
        raise limit_error(
            name, f"the archive inflates to {total:,} bytes", "max_unzipped_bytes",
            limits.max_unzipped_bytes,
        )  # fmt: skip
    with zipfile.ZipFile(path) as z:
        for m in members:
            if m.filename.endswith((".xml", ".rels")):
                with z.open(m) as part:
                    _refuse_dtd(part, name, m.filename)


class _Prolog(Exception):
    """The root element started: the prolog, where a DTD would be, is over."""


def _refuse_dtd(stream, name: str, part: str) -> None:
    """Refuse a part that declares a DTD (entity expansion, external entities): XLSX parts
    never do. Reads only the prolog, up to the root element."""

    def dtd(*_: object) -> None:
        raise BadInput(
            f"{name}: {part} declares a DTD, which spreadsheets never do"
            " (refused: XML entity expansion or external entities)",
            file=name,
        )

    def root(*_: object) -> None:
        raise _Prolog

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = dtd
    parser.EntityDeclHandler = dtd
    parser.StartElementHandler = root
    try:
        while chunk := stream.read(1 << 14):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Prolog:
        return
    except expat.ExpatError as exc:
        raise BadInput(f"{name}: {part} is not well-formed XML ({exc})", file=name) from exc


def prescan_worksheet(stream, name: str, limits: SheetLimits) -> list[Merge]:
    """Count rows, columns and cells of a worksheet part with expat, refusing any DTD; the
    merged ranges (``<mergeCell ref="C6:D6">``) are returned, at most ``MAX_MERGES``, each
    clipped to the column and row limits.

    Why before openpyxl: openpyxl builds a whole ``<row>`` element (and pads it to its
    last cell's column) before we could count it; expat sees one element at a time. Why the
    merges here: openpyxl's read-only worksheet does not read them, and office headers are
    laid out with them ("Thời gian" over "Hạn hoàn thành" and "Ngày hoàn thành")."""
    counter = _Counter(name, limits)
    state = {"row": 0, "col": 0}
    merges: list[Merge] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit("}", 1)[-1]
        if local == "row":
            r = attrs.get("r")
            state["row"] = int(r) if r and r.isdigit() else state["row"] + 1
            state["col"] = 0
            counter.row(state["row"])
        elif local == "c":
            ref = attrs.get("r")
            state["col"] = _column_of(ref) if ref else state["col"] + 1
            counter.cell(state["row"], state["col"])
        elif local == "mergeCell" and len(merges) < MAX_MERGES:
            merge = _merge_of(attrs.get("ref", ""), limits)
            if merge is not None:
                merges.append(merge)

    def refuse_dtd(*_: object) -> None:
        raise BadInput(
            f"{name}: the worksheet declares a DTD, which spreadsheets never do"
            " (refused: XML entity expansion or external entities)",
            file=name,
        )

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    try:
        while chunk := stream.read(1 << 16):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise BadInput(f"{name}: the worksheet is not well-formed XML ({exc})", file=name) from exc
    return merges


def _merge_of(ref: str, limits: SheetLimits) -> Merge | None:
    """``C6:D7`` → Merge(6, 3, 7, 4), clipped to the limits; None when malformed."""
    parts = ref.split(":")
    if len(parts) != 2:
        return None
    ends = []
    for part in parts:
        m = _CELL_REF.fullmatch(part)
        if not m or not m.group(2):
            return None
        ends.append((_column_of(part), int(m.group(2))))
    (c1, r1), (c2, r2) = ends
    top, bottom = min(r1, r2), min(max(r1, r2), limits.max_rows)
    left, right = min(c1, c2), min(max(c1, c2), limits.max_columns)
    if top > bottom or left > right:
        return None
    return Merge(top, left, bottom, right)


_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d*)")


def _column_of(ref: str) -> int:
    """``A1`` → 1, ``XFD7`` → 16384 (a malformed reference counts as past every limit)."""
    m = _CELL_REF.fullmatch(ref)
    if not m:
        return 1 << 20
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return col


def _unreadable(name: str, exc: BaseException, path: Path) -> BadInput:
    """An unreadable XLSX, with a short reason that does not show the server's folder."""
    reason = (str(exc) or type(exc).__name__).replace(str(path.parent), "…")
    return BadInput(
        f"{name}: not a readable .xlsx file ({CONTROL.sub(' ', reason)[:200]})", file=name
    )
