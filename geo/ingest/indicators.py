"""Import indicator sheets (long or wide) per unit and period; ranks computed when absent.

Long: one row per unit × indicator (``Mã đơn vị | Chỉ số | Kỳ | Giá trị [| Xếp hạng]``).
Wide: one row per unit, one column per indicator (header = indicator code or name), the
period in a column or given once (``period=2025-Q3``).

Why ranks are recomputed for the whole group: a new value moves every other unit's rank in
the same indicator, period and level; published ranks, when the sheet carries them for every
row, are kept as published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo.errors import BadInput
from geo.ingest.report import ImportReport
from geo.ingest.resolve import UnitResolver
from geo.ingest.sheet_import import ImportOptions, SheetItem, SheetSpec, run_sheet_import
from geo.ingest.sheets import (
    CellError,
    Sheet,
    header_key,
    header_level,
    map_headers,
    parse_int,
    parse_number,
    text_value,
)
from geo.text import search_key

ALIASES: dict[str, list[str]] = {
    "legacy_unit_code": ["Mã đơn vị cũ", "Mã tỉnh cũ", "Mã xã cũ", "legacy_unit_code"],
    "unit_code": [
        "Mã đơn vị",
        "Mã ĐVHC",
        "Mã tỉnh",
        "Mã xã",
        "Mã tỉnh/TP",
        "unit_code",
        "code",
        "ma_dvhc",
        "ma_tinh",
        "ma_xa",
    ],  # fmt: skip
    "unit_name": ["Tên đơn vị", "Đơn vị", "Tỉnh/thành phố", "Tên tỉnh", "Tên xã", "unit_name"],
    "indicator": ["Mã chỉ số", "Chỉ số", "Chỉ tiêu", "indicator", "indicator_code"],
    "period": ["Kỳ", "Kỳ báo cáo", "Quý", "Năm", "Thời kỳ", "period"],
    "value": ["Giá trị", "Điểm", "Kết quả", "Tỷ lệ", "value", "score"],
    "rank": ["Xếp hạng", "Thứ hạng", "Hạng", "rank"],
}
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
# the unit cell of a value of the whole country (an indicator of the ``national`` level)
NATIONAL_UNITS = {"vn", "toan quoc", "ca nuoc", "quoc gia"}


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    unit: str
    higher_is_better: bool
    level: str  # province | commune | both | national


@dataclass
class Value(SheetItem):
    """One (unit, indicator, period) value from one row (wide rows give several)."""

    column: str = ""
    indicator: str | None = None
    unit_code: str | None = None
    unit_level: str | None = None
    period: str | None = None
    value: float | None = None
    rank: int | None = None

    @property
    def code(self) -> str | None:
        return self.unit_code


def parse_period(value: object) -> str:
    """``2025-Q3``, ``Q3/2025``, ``Quý III/2025``, ``2025``, ``2025-09`` → canonical text."""
    text_ = text_value(value)
    if text_ is None:
        raise CellError("period is empty")
    key = search_key(text_).replace("quy", "q")
    m = re.fullmatch(r"(\d{4}) ?q ?([1-4]|i{1,3}|iv)", key) or re.fullmatch(
        r"q ?([1-4]|i{1,3}|iv) ?(?:nam )?(\d{4})", key
    )
    if m:
        a, b = m.groups()
        year, q = (a, b) if len(a) == 4 else (b, a)
        return f"{year}-Q{ROMAN.get(q, q)}"
    if re.fullmatch(r"\d{4}", key):
        return key
    m = re.fullmatch(r"(\d{4}) (\d{1,2})", key) or re.fullmatch(r"(\d{1,2}) (\d{4})", key)
    if m:
        a, b = m.groups()
        year, month = (a, b) if len(a) == 4 else (b, a)
        if 1 <= int(month) <= 12:
            return f"{year}-{int(month):02d}"
    raise CellError(f"'{text_}' is not a period (2025-Q3, Q3/2025, 2025 or 2025-09)")


def _indicators(conn: Connection) -> dict[str, IndicatorDef]:
    rows = conn.execute(
        text("select code, name, name_en, unit, higher_is_better, level from indicator")
    )
    out: dict[str, IndicatorDef] = {}
    for r in rows:
        d = IndicatorDef(r.code, r.name, r.unit, r.higher_is_better, r.level)
        for alias in (r.code, r.name, r.name_en):
            out.setdefault(header_key(alias), d)
        m = re.search(r"\(([^)]+)\)", r.name)  # "Chỉ số chuyển đổi số (DTI)" → DTI
        if m:
            out.setdefault(header_key(m.group(1)), d)
    return out


class IndicatorSheet(SheetSpec):
    """Indicator sheets, long or wide: upsert values by (indicator, unit, period)."""

    kind = "indicators"
    aliases = ALIASES

    def __init__(self) -> None:
        self.cols: dict[str, str] = {}
        self.unit_col = ""
        self.fixed_period: str | None = None
        self.defs: dict[str, IndicatorDef] = {}
        self.value_cols: dict[str, IndicatorDef] = {}
        self.resolver: UnitResolver | None = None
        self.name = ""
        self.headers: list[str] = []
        self.report: ImportReport | None = None
        self.inserts: list[Value] = []
        self.updates: list[tuple[int, Value, int | None]] = []
        self.good: list[Value] = []

    def columns(self, sheet: Sheet, report: ImportReport, options: ImportOptions) -> dict:
        self.name = name = sheet.file
        cols = self.cols = map_headers(sheet.headers, ALIASES)
        unit_col = cols.get("legacy_unit_code") or cols.get("unit_code")
        if unit_col is None:
            raise BadInput(
                f"{name}: no unit code column (expected 'Mã đơn vị', 'Mã tỉnh' or 'Mã xã');"
                f" columns found: {', '.join(sheet.headers)}",
                file=name,
                field="unit_code",
            )
        self.unit_col = unit_col
        try:
            self.fixed_period = parse_period(options.period) if options.period else None
        except CellError as exc:
            raise BadInput(f"period: {exc}", field="period") from exc
        if "period" not in cols and self.fixed_period is None:
            raise BadInput(
                f"{name}: no period column ('Kỳ') and no period given (e.g. period=2025-Q3)",
                file=name,
                field="period",
            )
        self.headers = sheet.headers
        self.report = report
        return cols

    def load(self, conn: Connection, resolver: UnitResolver, options: ImportOptions) -> None:
        """Indicator definitions decide long or wide (outside the lock: imports never
        change them)."""
        self.resolver = resolver
        self.defs = _indicators(conn)
        cols = self.cols
        if not ("indicator" in cols and "value" in cols):
            for h in self.headers:
                if h not in cols.values() and header_key(h) in self.defs:
                    self.value_cols[h] = self.defs[header_key(h)]
            if not self.value_cols:
                codes = ", ".join(sorted({d.code for d in self.defs.values()}))
                raise BadInput(
                    f"{self.name}: neither a long sheet ('Chỉ số' + 'Giá trị' columns) nor a"
                    f" wide one (a column per indicator code: {codes})",
                    file=self.name,
                )
        assert self.report is not None, "columns() runs before load()"
        self.report.fields = dict(cols) | {d.code: h for h, d in self.value_cols.items()}

    def parse(self, sheet: Sheet, report: ImportReport) -> list[SheetItem]:
        values: list[SheetItem] = []
        for row_no, cells in sheet.rows:
            values.extend(
                _row_values(
                    row_no, cells, self.cols, self.unit_col, self.value_cols, self.defs,
                    self.resolver, self.fixed_period, report,
                )
            )  # fmt: skip
        return values

    def duplicate_key(self, item: SheetItem) -> tuple | None:
        if (
            isinstance(item, Value)
            and item.indicator
            and item.period
            and (item.unit_code or item.unit_level == "national")
        ):
            return (item.indicator, item.unit_code or "VN", item.period)
        return None

    def duplicate_problem(self, item: SheetItem, key: Any, rows: str) -> tuple[str, str]:
        ind, unit, per = key
        assert isinstance(item, Value)
        return (item.column, f"{ind} for {unit} in {per} appears on rows {rows}")

    def units_touched(self, items: list[SheetItem]) -> set[str]:
        return {v.unit_code for v in items if isinstance(v, Value) and v.unit_code}

    def stage(self, conn: Connection, good: list[SheetItem], report: ImportReport) -> None:
        self.good = [v for v in good if isinstance(v, Value)]
        self.inserts, self.updates = _stage(conn, self.good)
        report.created, report.updated = len(self.inserts), len(self.updates)
        report.unchanged = len(self.good) - len(self.inserts) - len(self.updates)

    def write(self, conn: Connection, report: ImportReport) -> bool:
        _write(conn, self.inserts, self.updates)
        reranked = _recompute_ranks(conn, self.good)
        if reranked:
            report.notes.append(f"ranks recomputed: {reranked} value(s) changed rank")
            if not (self.inserts or self.updates):
                report.updated = reranked  # only ranks moved: still a change users will see
        return bool(self.inserts or self.updates or reranked)


def import_indicators(
    engine: Engine, path: str | Path, options: ImportOptions | None = None, **overrides: Any
) -> ImportReport:
    """Read an indicator sheet and upsert its values (see the module docstring).

    ``options`` (or keyword overrides of its fields: ``period``, ``dry_run``, …) say how."""
    options = replace(options or ImportOptions(), **overrides)
    return run_sheet_import(engine, path, IndicatorSheet(), options)


def _row_values(row_no, cells, cols, unit_col, value_cols, defs, resolver, fixed_period, report):
    """The values one row gives: one (long) or one per indicator column (wide)."""
    base = Value(row_no, column=unit_col)
    hint = header_level(unit_col)
    try:
        name = text_value(cells.get(cols["unit_name"])) if "unit_name" in cols else None
        raw_unit = text_value(cells.get(unit_col))
        if raw_unit is not None and search_key(raw_unit) in NATIONAL_UNITS:
            base.unit_code, base.unit_level = None, "national"  # the whole country
        else:
            unit, note = resolver.resolve(cells.get(unit_col), hint=hint, name=name)
            base.unit_code, base.unit_level = unit.code, unit.level
            if note:
                report.notes.append(f"row {row_no}: {note}")
    except CellError as exc:
        base.problems.append((unit_col, str(exc)))
    if "period" in cols:
        try:
            base.period = parse_period(cells.get(cols["period"]))
        except CellError as exc:
            base.problems.append((cols["period"], str(exc)))
    else:
        base.period = fixed_period
    if "rank" in cols:
        try:
            base.rank = parse_int(cells.get(cols["rank"]))
            if base.rank is not None and base.rank < 1:
                raise CellError(f"rank {base.rank} is not ≥ 1")
        except CellError as exc:
            base.problems.append((cols["rank"], str(exc)))
    if "indicator" in cols:
        raw = text_value(cells.get(cols["indicator"]))
        d = defs.get(header_key(raw)) if raw else None
        if d is None:
            known = ", ".join(sorted({x.code for x in defs.values()}))
            base.problems.append((cols["indicator"], f"unknown indicator '{raw}' (known: {known})"))
        pairs = [(cols["value"], d)]
    else:
        pairs = list(value_cols.items())
    out = []
    for column, d in pairs:
        v = Value(row_no, list(base.problems), column, d.code if d else None, base.unit_code,
                  base.unit_level, base.period, None, base.rank)  # fmt: skip
        try:
            v.value = parse_number(cells.get(column))
        except CellError as exc:
            v.problems.append((column, str(exc)))
        if v.value is None and not v.problems:
            if len(pairs) > 1:
                continue  # a wide row may leave an indicator blank
            v.problems.append((column, "value is empty"))
        if d is not None and v.value is not None:
            if d.unit == "%" and not 0 <= v.value <= 100:
                v.problems.append((column, f"{v.value} is not a percentage (0–100)"))
            if d.level == "national" and v.unit_level != "national":
                v.problems.append(
                    (column, f"chỉ tiêu '{d.code}' là chỉ tiêu toàn quốc: mã đơn vị phải là VN"
                             f" / '{d.code}' is a national indicator: its unit must be VN")
                )  # fmt: skip
            elif v.unit_level and d.level not in ("both", v.unit_level):
                v.problems.append(
                    (
                        column,
                        f"indicator '{d.code}' is for {d.level}s, unit {v.unit_code or 'VN'}"
                        f" is a {v.unit_level}",
                    )  # fmt: skip
                )
        out.append(v)
    return out


def _stage(
    conn: Connection, good: list[Value]
) -> tuple[list[Value], list[tuple[int, Value, int | None]]]:
    """(new values, (id, value, stored rank) of changed ones) against what is stored."""
    existing = {
        (r.indicator_code, r.unit_code, r.period): (r.id, r.value, r.rank)
        for r in conn.execute(
            text(
                "select id, indicator_code, unit_code, period, value, rank from indicator_value"
                " where indicator_code = any(:i) and period = any(:p)"
            ),
            {
                "i": sorted({str(v.indicator) for v in good}),
                "p": sorted({str(v.period) for v in good}),
            },
        )
    }
    inserts, updates = [], []
    for v in good:
        key = (v.indicator, v.unit_code, v.period)
        if key not in existing:
            inserts.append(v)
            continue
        vid, old_value, old_rank = existing[key]
        if old_value != v.value or (v.rank is not None and v.rank != old_rank):
            updates.append((vid, v, old_rank))
    return inserts, updates


def _write(
    conn: Connection, inserts: list[Value], updates: list[tuple[int, Value, int | None]]
) -> None:
    if inserts:
        conn.execute(
            text(
                "insert into indicator_value (indicator_code, unit_code, period, value, rank,"
                " source_row) select * from unnest(cast(:i as text[]), cast(:u as text[]),"
                " cast(:p as text[]), cast(:v as float8[]), cast(:r as int[]), cast(:n as int[]))"
            ),
            {
                "i": [v.indicator for v in inserts],
                "u": [v.unit_code for v in inserts],
                "p": [v.period for v in inserts],
                "v": [v.value for v in inserts],
                "r": [v.rank for v in inserts],
                "n": [v.row_no for v in inserts],
            },
        )
    if updates:
        conn.execute(
            text(
                "update indicator_value set value = :v, rank = :r, source_row = :n where id = :id"
            ),
            [
                {
                    "id": vid,
                    "v": v.value,
                    "r": v.rank if v.rank is not None else old,
                    "n": v.row_no,
                }  # fmt: skip
                for vid, v, old in updates
            ],
        )


def _recompute_ranks(conn: Connection, good: list[Value]) -> int:
    """Rank every touched (indicator, period, level) group whose ranks the sheet did not give
    for all its rows: 1 = best, ties share the better rank."""
    groups: dict[tuple, list[Value]] = {}
    for v in good:
        groups.setdefault((v.indicator, v.period, v.unit_level), []).append(v)
    changed = 0
    for (indicator, period, level), vals in groups.items():
        if level == "national" or all(v.rank is not None for v in vals):
            continue
        changed += len(
            conn.execute(
                text(
                    """
                    with r as (
                      select v.id, rank() over (order by case when i.higher_is_better
                                                 then -v.value else v.value end) as rk
                      from indicator_value v
                      join indicator i on i.code = v.indicator_code
                      join admin_unit u on u.code = v.unit_code
                      where v.indicator_code = :i and v.period = :p and u.level = :l
                    )
                    update indicator_value v set rank = r.rk from r
                    where v.id = r.id and v.rank is distinct from r.rk
                    returning v.id
                    """
                ),
                {"i": indicator, "p": period, "l": level},
            ).all()
        )
    return changed
