"""Import target sheets: a unit's published targets, upserted by (unit, subject, kind).

One row per target: ``Mã đơn vị | Chỉ tiêu | Loại mục tiêu | Ngưỡng | Hạn [| Mô tả]``.
The kind is read from words a provincial office writes ("xếp hạng", "top", "giá trị",
"hoàn thành", "xanh hóa") or our codes (rank_max, value_min, completion_min, all_green);
a rank target reads "Top 10" in the threshold cell as 10. The subject must be a known
indicator (rank, value), a programme (NQ57, KH02 for completion) or an indicator
programme (KH02-2, all green). Plugged into the one sheet-import skeleton, so limits,
locks, the scope check (an editor sets its own province's targets), the report and the
version bump are the tasks' and indicators' own.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo.errors import BadInput
from geo.ingest.columns import account
from geo.ingest.report import ImportReport
from geo.ingest.resolve import UnitResolver
from geo.ingest.sheet_import import ImportOptions, SheetItem, SheetSpec, run_sheet_import
from geo.ingest.sheets import CellError, Sheet, map_headers, parse_date, parse_number, text_value
from geo.text import normalise_name, search_key

ALIASES: dict[str, list[str]] = {
    "unit_code": ["Mã đơn vị", "Mã tỉnh", "Mã tỉnh/thành phố", "unit_code", "province_code"],
    "subject": ["Chỉ tiêu", "Chỉ số", "Chương trình", "subject", "indicator"],
    "kind": ["Loại mục tiêu", "Loại", "kind"],
    "threshold": ["Ngưỡng", "Mục tiêu", "Giá trị mục tiêu", "threshold", "target"],
    "due": ["Hạn", "Hạn hoàn thành", "Thời hạn", "due", "deadline"],
    "label": ["Mô tả", "Nội dung", "label", "description"],
}
KIND_WORDS = {
    "rank_max": ("rank_max", "xep hang", "hang", "top", "rank"),
    "value_min": ("value_min", "gia tri", "dat gia tri", "value"),
    "completion_min": ("completion_min", "hoan thanh", "ty le hoan thanh", "completion"),
    "all_green": ("all_green", "xanh hoa", "xanh", "green", "all green"),
}
PROGRAMMES = ("NQ57", "KH02")
MAX_THRESHOLD = 1e9


@dataclass
class TargetRow(SheetItem):
    values: dict = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        return self.values.get("unit_code")


def parse_kind(value: object) -> str:
    """Words or codes → one of the four kinds (``CellError`` naming them otherwise)."""
    words = search_key(text_value(value) or "").replace("_", " ").strip()
    words = words.replace("≤", "").replace("≥", "").strip()
    for kind, options in KIND_WORDS.items():
        if any(words == o.replace("_", " ") or words.startswith(o + " ") for o in options):
            return kind
    raise CellError(
        f"'{value}' is not a target kind (rank_max | value_min | completion_min | all_green,"
        " or: xếp hạng, giá trị, hoàn thành, xanh hóa)"
    )


def parse_threshold(value: object) -> float | None:
    """``10``, ``Top 10``, ``80%``, ``0,65`` → a number."""
    raw = text_value(value)
    if raw is None:
        return None
    cleaned = re.sub(r"(?i)^\s*top\s*", "", raw).rstrip("% ").strip()
    try:
        number = parse_number(cleaned)
    except CellError:
        number = None
    if number is None or not (-MAX_THRESHOLD < number < MAX_THRESHOLD):
        raise CellError(f"'{raw}' is not a threshold")
    return number


class TargetSheet(SheetSpec):
    """Target sheets: upsert by (unit, subject, kind)."""

    kind = "targets"
    aliases = ALIASES

    def __init__(self) -> None:
        self.cols: dict[str, str] = {}
        self.resolver: UnitResolver | None = None
        self.indicators: dict[str, str] = {}  # search key of code or name → code
        self.programmes: set[str] = set()
        self.existing: dict[tuple, dict] = {}
        self.good: list[TargetRow] = []
        self.source = ""

    def columns(self, sheet: Sheet, report: ImportReport, options: ImportOptions) -> dict:
        cols = map_headers(sheet.headers, ALIASES)
        missing = [f for f in ("unit_code", "subject", "kind", "due") if f not in cols]
        if missing:
            raise BadInput(
                f"{sheet.file}: missing column(s) {', '.join(missing)} (expected e.g."
                f" {', '.join(ALIASES[missing[0]][:3])}); columns found:"
                f" {', '.join(sheet.headers) or 'none'}",
                file=sheet.file,
                field=missing[0],
            )
        report.fields = dict(cols)
        # every header accounted for (used / ignored with its likely field), as for tasks
        report.columns = account(sheet.headers, cols, set(), None, ALIASES, options.lang)
        self.cols = cols
        self.source = report.file
        return cols

    def load(self, conn: Connection, resolver: UnitResolver, options: ImportOptions) -> None:
        self.resolver = resolver
        for r in conn.execute(text("select code, name, programme from indicator")):
            self.indicators[search_key(r.code)] = r.code
            self.indicators[search_key(r.name)] = r.code
            if r.programme:
                self.programmes.add(r.programme)

    def parse(self, sheet: Sheet, report: ImportReport) -> list[SheetItem]:
        assert self.resolver is not None, "load() runs before parse()"
        items: list[SheetItem] = []
        for n, cells in sheet.rows:
            row = TargetRow(n)
            self._parse(row, cells)
            items.append(row)
        return items

    def _parse(self, row: TargetRow, cells: dict) -> None:
        assert self.resolver is not None

        def cell(f: str) -> object:
            return cells.get(self.cols[f]) if f in self.cols else None

        try:
            unit, _ = self.resolver.resolve(cell("unit_code"), hint="province")
            row.values["unit_code"] = unit.code
        except CellError as exc:
            row.problems.append(("unit_code", str(exc)))
        try:
            kind = parse_kind(cell("kind"))
            row.values["kind"] = kind
        except CellError as exc:
            row.problems.append(("kind", str(exc)))
            kind = None
        subject = text_value(cell("subject"))
        if subject is None:
            row.problems.append(("subject", "the target's indicator or programme is empty"))
        elif kind in ("rank_max", "value_min"):
            code = self.indicators.get(search_key(subject))
            if code is None:
                row.problems.append(("subject", f"unknown indicator '{subject}'"))
            row.values["subject"] = code
        elif kind == "completion_min":
            if subject.upper() not in PROGRAMMES:
                row.problems.append(("subject", f"'{subject}' is not a programme (NQ57, KH02)"))
            row.values["subject"] = subject.upper()
        elif kind == "all_green":
            if subject.upper() not in self.programmes:
                known = ", ".join(sorted(self.programmes)) or "none"
                row.problems.append(
                    ("subject", f"'{subject}' is not an indicator programme (known: {known})")
                )
            row.values["subject"] = subject.upper()
        try:
            threshold = parse_threshold(cell("threshold"))
        except CellError as exc:
            row.problems.append(("threshold", str(exc)))
            threshold = None
        if kind == "all_green":
            threshold = None
        elif (
            kind is not None
            and threshold is None
            and not any(f == "threshold" for f, _ in row.problems)
        ):
            row.problems.append(("threshold", f"a {kind} target needs a threshold"))
        if (
            kind == "rank_max"
            and threshold is not None
            and (threshold < 1 or not float(threshold).is_integer())
        ):
            row.problems.append(("threshold", f"a rank is a whole number ≥ 1, not {threshold:g}"))
        if kind == "completion_min" and threshold is not None and not 0 <= threshold <= 100:
            row.problems.append(("threshold", f"a completion % is 0–100, not {threshold:g}"))
        row.values["threshold"] = threshold
        try:
            due = parse_date(cell("due"))
            if due is None:
                row.problems.append(("due", "the due date is empty"))
            elif not dt.date(2000, 1, 1) <= due <= dt.date(2100, 12, 31):
                row.problems.append(("due", f"due date {due:%d/%m/%Y} is out of range"))
            row.values["due"] = due
        except CellError as exc:
            row.problems.append(("due", str(exc)))
        label = text_value(cell("label"))
        row.values["label"] = normalise_name(label)[:500] if label else None

    def duplicate_key(self, item: SheetItem) -> tuple | None:
        if not isinstance(item, TargetRow) or item.problems:
            return None
        v = item.values
        return (v.get("unit_code"), v.get("subject"), v.get("kind"))

    def duplicate_problem(self, item: SheetItem, key: Any, rows: str) -> tuple[str, str]:
        unit, subject, kind = key
        return ("subject", f"target {kind} {subject} of {unit} appears on rows {rows}")

    def check(self, conn: Connection, items: list[SheetItem]) -> None:
        rows = conn.execute(
            text("select unit_code, subject, kind, threshold, due, label from target")
        ).mappings()
        self.existing = {(r["unit_code"], r["subject"], r["kind"]): dict(r) for r in rows}

    def units_touched(self, items: list[SheetItem]) -> set[str]:
        return {i.values["unit_code"] for i in items if isinstance(i, TargetRow) and
                i.values.get("unit_code")}  # fmt: skip

    def stage(self, conn: Connection, good: list[SheetItem], report: ImportReport) -> None:
        self.good = []
        for item in good:
            assert isinstance(item, TargetRow)
            v = item.values
            old = self.existing.get((v["unit_code"], v["subject"], v["kind"]))
            if old is None:
                report.created += 1
            elif (old["threshold"], old["due"], old["label"]) != (
                v["threshold"],
                v["due"],
                v["label"] if v["label"] is not None else old["label"],
            ):
                report.updated += 1
            else:
                report.unchanged += 1
                continue
            self.good.append(item)

    def write(self, conn: Connection, report: ImportReport) -> bool:
        if not self.good:
            return False
        conn.execute(
            text(
                "insert into target (unit_code, subject, kind, threshold, due, label, source)"
                " values (:unit_code, :subject, :kind, :threshold, :due, :label, :source)"
                " on conflict (unit_code, subject, kind) do update set"
                " threshold = excluded.threshold, due = excluded.due,"
                " label = coalesce(excluded.label, target.label), source = excluded.source,"
                " updated_at = now()"
            ),
            [{**i.values, "source": self.source} for i in self.good],
        )
        return True


def import_targets(
    engine: Engine, path: str | Path, options: ImportOptions | None = None, **overrides: Any
) -> ImportReport:
    """Read a target sheet and upsert it (see the module docstring)."""
    options = replace(options or ImportOptions(), **overrides)
    return run_sheet_import(engine, path, TargetSheet(), options)
