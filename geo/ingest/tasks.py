"""Import task sheets: upsert by task id (or an office's code, or commune + Plan 02 group),
with every change written to the task history.

Why all-or-nothing by default: a provincial office sends one sheet as one statement of its
progress; importing half of it would show a map that is neither the old nor the new truth.
``skip_invalid`` imports the good rows and writes the others, with their reasons, to a
rejects file next to the input so it can be fixed and sent again.

The parts: the column vocabulary is ``task_cells``, the header accounting ``columns``,
a row's cells → values ``task_rows``, which stored task a row is ``task_match``, what a row
does ``task_plan``, the bulk writes ``task_write``; the skeleton is ``sheet_import``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo.errors import BadInput
from geo.ingest.columns import account, apply_mapping, warning_text
from geo.ingest.difficulty_write import Given
from geo.ingest.difficulty_write import refresh as refresh_difficulties
from geo.ingest.programmes import Registry, load_registry
from geo.ingest.report import ImportReport, default_actor
from geo.ingest.resolve import UnitResolver
from geo.ingest.sheet_import import ImportOptions, SheetItem, SheetSpec, run_sheet_import
from geo.ingest.sheets import (
    CellError,
    Sheet,
    map_headers,
)
from geo.ingest.task_cells import ALIASES
from geo.ingest.task_match import (
    Match,
    key_collisions,
    match_rows,
    save_aliases,
    similar_warnings,
)
from geo.ingest.task_plan import Plan, Row, flag_row, moved_text, plan_row
from geo.ingest.task_rows import check_programme_province, parse_row, resolve_agency, resolve_unit
from geo.ingest.task_write import apply_plans


class TaskSheet(SheetSpec):
    """Task sheets: upsert by task id; every change written to ``task_event``."""

    kind = "tasks"
    aliases = ALIASES

    def __init__(self) -> None:
        self.cols: dict[str, str] = {}
        self.resolver: UnitResolver | None = None
        self.agencies: set[str] = set()
        self.registry = Registry({})
        self.current: dict[int, dict] = {}  # row number → the stored task it matched
        self.matches: dict[int, Match] = {}
        self.plans: dict[int, Plan] = {}
        self.plan_notes: list[str] = []
        self.good: list[tuple[Row, Plan]] = []
        self.report: ImportReport | None = None
        self.options = ImportOptions()
        self.actor = ""
        self.token_id: int | None = None
        self.source = ""
        self.report_date: dt.date | None = None

    def columns(self, sheet: Sheet, report: ImportReport, options: ImportOptions) -> dict:
        self.cols = _columns(sheet, report, options)
        self.report = report
        self.options = options
        self.actor = options.actor or default_actor()
        self.token_id = options.token_id
        self.source = report.file
        self.report_date = options.report_date or sheet.report_date
        if self.report_date is not None:
            report.report_date = self.report_date.isoformat()
            found = "option" if options.report_date else "title block"
            report.notes.append(f"{sheet.file}: report date {self.report_date:%d/%m/%Y} ({found})")
            if self.report_date > dt.date.today():
                report.warn(
                    f"the report date {self.report_date:%d/%m/%Y} ({found}) is after today: a"
                    " task done without a date counts as done only from that day"
                    if options.lang == "en"
                    else f"ngày báo cáo {self.report_date:%d/%m/%Y} sau hôm nay: nhiệm vụ ghi"
                    " hoàn thành mà không có ngày chỉ được tính hoàn thành từ ngày đó",
                    value=f"{self.report_date:%d/%m/%Y}",
                    expected="ngày báo cáo không muộn hơn hôm nay",
                )
        return self.cols

    def load(self, conn: Connection, resolver: UnitResolver, options: ImportOptions) -> None:
        self.resolver = resolver
        self.agencies = set(conn.execute(text("select code from agency")).scalars())
        self.registry = load_registry(conn)

    def parse(self, sheet: Sheet, report: ImportReport) -> list[SheetItem]:
        assert self.resolver is not None, "load() runs before parse()"
        rows = [Row(n, cells=cells) for n, cells in sheet.rows]
        for row in rows:
            parse_row(row, self.cols, self.registry)
            if not resolve_agency(row, self.cols, self.agencies):
                resolve_unit(row, self.cols, self.resolver)
                check_programme_province(row, self.resolver)
            report.notes.extend(f"row {row.row_no}: {note}" for note in row.notes)
        return list(rows)

    def duplicate_key(self, item: SheetItem) -> str | None:
        return item.values.get("external_id") if isinstance(item, Row) else None

    def duplicate_problem(self, item: SheetItem, key: object, rows: str) -> tuple[str, object]:
        return (
            "external_id",
            CellError(
                f"duplicate task id '{key}' (rows {rows})",
                vi=f"mã nhiệm vụ '{key}' lặp lại (các dòng {rows})",
                value=str(key),
                expected="mỗi mã nhiệm vụ một dòng",
                expected_en="one row per task id",
            ),
        )

    def check(self, conn: Connection, items: list[SheetItem]) -> None:
        rows = [r for r in items if isinstance(r, Row)]
        self.matches = match_rows(conn, rows)
        self.current = {n: m.task for n, m in self.matches.items() if m.task is not None}
        for row in rows:
            before = len(row.notes)
            self.plans[row.row_no] = plan_row(
                row, self.current.get(row.row_no), self.options.move_units, self.report_date
            )
            self.plan_notes += [f"row {row.row_no}: {n}" for n in row.notes[before:]]
        key_collisions(conn, rows, self.plans, self.current)
        undated = [r.row_no for r in rows if "_undated" in r.values and not r.problems]
        if undated and self.report_date is None and self.report is not None:
            self.report.warn(
                "the sheet does not say its report date ('Số liệu đến ngày …'): rows marked"
                " done without a date are counted done by today; give report_date= /"
                " --report-date for the day the sheet reports on"
                if self.options.lang == "en"
                else "bảng tính không ghi ngày báo cáo (“Số liệu đến ngày …”): các dòng ghi"
                " hoàn thành mà không có ngày được tính hoàn thành chậm nhất vào hôm nay; hãy"
                " cho biết ngày báo cáo (report_date= / --report-date)",
                row=undated[0],
                expected="ngày báo cáo, ví dụ 13/11/2025",
            )
        if self.report is not None:
            lang = self.options.lang
            self.report.matches = [self.matches[r.row_no].as_dict(lang) for r in rows]
            title = self.cols.get("title", "title")
            similar_warnings(conn, rows, self.plans, self.matches, self.report, lang, title)
            for row in rows:
                if not row.problems:
                    flag_row(self.report, row, self.cols, lang)
                moved = self.plans[row.row_no].moved_from
                if moved and not row.problems:
                    self.report.warn(
                        moved_text(moved, row.values.get("unit_code"), lang),
                        row=row.row_no,
                        code=row.code,
                        field=self.cols.get("unit_code"),
                        value=row.values.get("unit_code"),
                    )

    def units_of(self, item: SheetItem) -> set[str]:
        """The units one row changes: the row's own and, for a stored task, the task's."""
        if not isinstance(item, Row):
            return set()
        found: set[str | None] = set()
        plan = self.plans.get(item.row_no)
        current = self.current.get(item.row_no)
        for holder in ("unit_code", "agency_code"):  # an agency's code is its "unit" here
            found.add(item.values.get(holder))
            if plan and plan.record:
                found.add(plan.record.get(holder))
            if current:
                found.add(current.get(holder))
        return {c for c in found if c}

    def units_touched(self, items: list[SheetItem]) -> set[str]:
        return set().union(*(self.units_of(it) for it in items)) if items else set()

    def stage(self, conn: Connection, good: list[SheetItem], report: ImportReport) -> None:
        report.notes.extend(self.plan_notes)
        self.good = [(r, self.plans[r.row_no]) for r in good if isinstance(r, Row)]
        creates = sum(1 for _, p in self.good if p.action == "create")
        updates = sum(1 for _, p in self.good if p.action == "update")
        report.created, report.updated = creates, updates
        report.unchanged = len(self.good) - creates - updates

    def write(self, conn: Connection, report: ImportReport) -> bool:
        changed = apply_plans(conn, self.good, self.actor, self.source, self.token_id)
        aliases = [
            (row.code, self.matches[row.row_no].task)
            for row, _ in self.good
            if self.matches[row.row_no].how == "natural_key"
        ]
        save_aliases(conn, [(code, task["id"]) for code, task in aliases if code and task],
                     self.source)  # fmt: skip
        ids = {row.row_no: self._external_id(row) for row, _ in self.good}
        given: dict[str, Given] = {
            ids[row.row_no] or "": Given(row.values.get("difficulty"), row.values.get("waits_on"))
            for row, _ in self.good
            if ids[row.row_no] and (row.values.get("difficulty") or row.values.get("waits_on"))
        }
        found = [x for x in ids.values() if x]
        moved = refresh_difficulties(conn, found, given, self.actor, self.source)
        return changed or moved > 0

    def _external_id(self, row: Row) -> str | None:
        """The row's task id: its own cell, or the stored task it matched otherwise."""
        task = self.matches[row.row_no].task if row.row_no in self.matches else None
        return row.values.get("external_id") or (task or {}).get("external_id")


def import_tasks(
    engine: Engine, path: str | Path, options: ImportOptions | None = None, **overrides: Any
) -> ImportReport:
    """Read a task sheet and upsert it (see the module docstring for the rules).

    ``options`` (or keyword overrides of its fields: ``actor``, ``dry_run``, …) say how;
    ``options.authorize(conn, unit_codes)`` runs under the lock with every unit the
    sheet's rows name or whose tasks they change, and raises (``Forbidden``) to refuse."""
    options = replace(options or ImportOptions(), **overrides)
    return run_sheet_import(engine, path, TaskSheet(), options)


def _columns(sheet: Sheet, report: ImportReport, options: ImportOptions) -> dict[str, str]:
    """The file's headers → our fields (by name, then the clerk's mapping); every header
    accounted for in ``report.columns``, a resembling ignored one a warning."""
    auto = map_headers(sheet.headers, ALIASES, sheet.header_parts)
    cols, confirmed = apply_mapping(sheet.headers, auto, options.columns, ALIASES)
    report.fields = dict(cols)
    report.columns = account(sheet.headers, cols, confirmed, options.columns, ALIASES, options.lang)
    for entry in report.columns:
        if entry.get("warn"):
            report.warn(
                warning_text(entry, options.lang),
                field=entry["header"],
                value=entry["header"],
                expected=entry["likely"],
            )
    if "external_id" not in cols:
        hint = [e["header"] for e in report.columns if e.get("likely") == "external_id"]
        raise BadInput(
            f"{sheet.file}: không có cột mã nhiệm vụ — no task id column (expected one of:"
            f" {', '.join(ALIASES['external_id'][:4])});"
            f" columns found: {', '.join(sheet.headers) or 'none'}"
            + (
                f'; \'{hint[0]}\' looks like it: send columns={{"{hint[0]}": "external_id"}}'
                if hint
                else ""
            ),
            file=sheet.file,
            field="external_id",
        )
    if not ({"unit_code", "legacy_unit_code", "province_code"} & cols.keys()):
        report.notes.append(f"{sheet.file}: no unit column; rows can only update existing tasks")
    ignored = [h for h in sheet.headers if h not in cols.values()]
    if ignored:
        report.notes.append(f"{sheet.file}: columns ignored: {', '.join(ignored)}")
    return cols
