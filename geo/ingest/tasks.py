"""Import task sheets: upsert by external id, with every change written to the task history.

Why all-or-nothing by default: a provincial office sends one sheet as one statement of its
progress; importing half of it would show a map that is neither the old nor the new truth.
``skip_invalid`` imports the good rows and writes the others, with their reasons, to a
rejects file next to the input so it can be fixed and sent again.

Why one module (≈420 lines): the task sheet's plan (new/update/unchanged per row), its scope
check and its two bulk writes (tasks, then their history events) share one row model; the
column vocabulary already lives in ``task_cells`` and the skeleton in ``sheet_import``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo.agencies import is_agency_code
from geo.errors import BadInput
from geo.ingest.columns import account, apply_mapping, warning_text
from geo.ingest.programmes import Programme, Registry, load_registry
from geo.ingest.report import ImportReport, default_actor
from geo.ingest.resolve import UnitResolver
from geo.ingest.sheet_import import ImportOptions, SheetItem, SheetSpec, run_sheet_import
from geo.ingest.sheets import (
    CellError,
    Sheet,
    header_level,
    map_headers,
    parse_date,
    text_value,
)
from geo.ingest.task_cells import ALIASES, parse_group, parse_note, parse_status
from geo.ingest.task_match import (
    Match,
    key_collisions,
    match_rows,
    save_aliases,
    similar_warnings,
)
from geo.text import normalise_name

FIELDS = ("program", "group_no", "phase", "year", "title", "unit_code", "agency_code",
          "lead_agency", "start_date", "deadline", "completed_at", "reason",
          "proposal")  # fmt: skip
REQUIRED_NEW = ("title", "unit_code", "deadline")
KH02_GROUPS = 16


@dataclass
class Row(SheetItem):
    """One parsed sheet row: the fields it gives (others keep the stored value)."""

    cells: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def code(self) -> str | None:
        return self.values.get("external_id")


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

    def columns(self, sheet: Sheet, report: ImportReport, options: ImportOptions) -> dict:
        self.cols = _columns(sheet, report, options)
        self.report = report
        self.options = options
        self.actor = options.actor or default_actor()
        self.token_id = options.token_id
        self.source = report.file
        return self.cols

    def load(self, conn: Connection, resolver: UnitResolver, options: ImportOptions) -> None:
        self.resolver = resolver
        self.agencies = set(conn.execute(text("select code from agency")).scalars())
        self.registry = load_registry(conn)

    def parse(self, sheet: Sheet, report: ImportReport) -> list[SheetItem]:
        assert self.resolver is not None, "load() runs before parse()"
        rows = [Row(n, cells=cells) for n, cells in sheet.rows]
        for row in rows:
            _parse_row(row, self.cols, self.registry)
            if not _resolve_agency(row, self.cols, self.agencies):
                _resolve_unit(row, self.cols, self.resolver)
                _check_programme_province(row, self.resolver)
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
            self.plans[row.row_no] = _plan(
                row, self.current.get(row.row_no), self.options.move_units
            )
            self.plan_notes += [f"row {row.row_no}: {n}" for n in row.notes[before:]]
        key_collisions(conn, rows, self.plans, self.current)
        if self.report is not None:
            lang = self.options.lang
            self.report.matches = [self.matches[r.row_no].as_dict(lang) for r in rows]
            title = self.cols.get("title", "title")
            similar_warnings(conn, rows, self.plans, self.matches, self.report, lang, title)
            for row in rows:
                moved = self.plans[row.row_no].moved_from
                if moved and not row.problems:
                    self.report.warn(
                        _moved_text(moved, row.values.get("unit_code"), lang),
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
        changed = _apply(conn, self.good, self.actor, self.source, self.token_id)
        aliases = [
            (row.code, self.matches[row.row_no].task)
            for row, _ in self.good
            if self.matches[row.row_no].how == "natural_key"
        ]
        save_aliases(conn, [(code, task["id"]) for code, task in aliases if code and task],
                     self.source)  # fmt: skip
        return changed


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
    auto = map_headers(sheet.headers, ALIASES)
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


def _parse_row(row: Row, cols: dict[str, str], registry: Registry) -> None:
    """Cells → typed values; every unparseable cell becomes a problem naming its column."""

    def cell(fld):
        return row.cells.get(cols[fld]) if fld in cols else None

    def attempt(fld, parse):
        if fld not in cols:
            return
        try:
            value = parse(cell(fld))
        except CellError as exc:
            row.problems.append((fld, exc))
            return
        row.values[fld] = value

    ext = text_value(cell("external_id"))
    if ext is None:
        row.problems.append(
            (
                "external_id",
                _reason(
                    "task id is empty",
                    "mã nhiệm vụ để trống",
                    None,
                    "mã nhiệm vụ (của hệ thống hoặc của đơn vị)",
                    "a task id (ours or the office's own)",
                ),
            )
        )
    else:
        row.values["external_id"] = ext
    attempt("title", lambda v: normalise_name(text_value(v) or "") or None)
    attempt("lead_agency", lambda v: normalise_name(text_value(v) or "") or None)
    attempt("start_date", parse_date)
    attempt("deadline", parse_date)
    attempt("completed_at", parse_date)
    attempt("program", registry.match)
    attempt("group_no", parse_group)
    attempt("phase", parse_group)
    programme = row.values.pop("program", None)
    if isinstance(programme, Programme):
        # a phase entry ("KH02 giai đoạn 2") is its parent's task with that phase
        row.values["program"] = programme.stored_code
        row.values["_programme"] = programme
        if programme.phase is not None and row.values.get("phase") is None:
            row.values["phase"] = programme.phase
    attempt("status", parse_status)
    attempt("reason", parse_note)
    attempt("proposal", parse_note)
    if "title" in row.values and row.values["title"] is None:
        row.values.pop("title")  # an empty title keeps the stored one; required for new tasks
    if "deadline" in row.values and row.values["deadline"] is None:
        row.values.pop("deadline")


def _resolve_unit(row: Row, cols: dict[str, str], resolver: UnitResolver) -> None:
    """The row's unit code → a current unit; legacy codes mapped; province cross-checked."""
    source = next((f for f in ("legacy_unit_code", "unit_code") if f in cols), None)
    province = None
    if "province_code" in cols and not _empty(row.cells.get(cols["province_code"])):
        try:
            province, note = resolver.resolve(row.cells[cols["province_code"]], hint="province")
            if note:
                row.notes.append(note)
        except CellError as exc:
            row.problems.append(("province_code", exc))
            return
    value = row.cells.get(cols[source]) if source else None
    if source is None or _empty(value):
        if source and "unit_code" not in cols:
            return
        if province is not None and row.values.get("group_no") is None:
            row.values["unit_code"] = province.code  # a province's own (NQ57) task
        elif source:
            row.problems.append(
                (
                    source,
                    _reason(
                        "unit code is empty",
                        "mã đơn vị để trống",
                        None,
                        "mã xã (5 chữ số) hoặc mã tỉnh (2 chữ số)",
                        "a commune code (5 digits) or a province code (2 digits)",
                    ),
                )
            )
        return
    prefer = (
        "commune"
        if row.values.get("group_no") is not None or row.values.get("program") == "KH02"
        else None
    )
    programme = row.values.get("_programme")
    nq57 = row.values.get("program") == "NQ57" or (
        isinstance(programme, Programme) and programme.parent == "NQ57"
    )
    if prefer is None and nq57 and province is None:
        prefer = "province"
    hint = header_level(cols[source])
    name = text_value(row.cells.get(cols["unit_name"])) if "unit_name" in cols else None
    try:
        unit, note = resolver.resolve(
            value,
            hint=hint,
            prefer=prefer,
            name=name,
            legacy=True if source == "legacy_unit_code" else None,
        )
    except CellError as exc:
        row.problems.append((source, exc))
        return
    if note:
        row.notes.append(note)
    if province is not None:
        owner = unit.code if unit.level == "province" else unit.parent_code
        if owner != province.code:
            row.problems.append(
                (
                    source,
                    _reason(
                        f"unit {resolver.describe(unit.code)} belongs to province"
                        f" {resolver.describe(owner or '')}, not"
                        f" {resolver.describe(province.code)} as the row says",
                        f"đơn vị {resolver.describe(unit.code)} thuộc tỉnh"
                        f" {resolver.describe(owner or '')}, không phải"
                        f" {resolver.describe(province.code)} như dòng ghi",
                        unit.code,
                        f"mã một xã của tỉnh {resolver.describe(province.code)}",
                        f"the code of a commune of {resolver.describe(province.code)}",
                    ),
                )
            )
            return
    row.values["unit_code"] = unit.code
    row.values["_unit_level"] = unit.level


def _check_programme_province(row: Row, resolver: UnitResolver) -> None:
    """A province's own programme (97-CTr/TU of Cà Mau) holds only that province's tasks."""
    programme, code = row.values.get("_programme"), row.values.get("unit_code")
    if not isinstance(programme, Programme) or not programme.province or not code:
        return
    unit = resolver.units.get(code)
    owner = code if unit is None or unit.level == "province" else unit.parent_code
    if owner != programme.province:
        row.problems.append(
            (
                "program",
                _reason(
                    f"programme {programme.code} is province {programme.province}'s own;"
                    f" unit {code} is not in that province",
                    f"chương trình {programme.code} là của riêng tỉnh {programme.province};"
                    f" đơn vị {code} không thuộc tỉnh đó",
                    programme.aliases[0] if programme.aliases else programme.code,
                    "chương trình của tỉnh mình, hoặc NQ57 / KH02",
                    "the province's own programme, or NQ57 / KH02",
                ),
            )
        )


def _resolve_agency(row: Row, cols: dict[str, str], agencies: set[str]) -> bool:
    """A unit cell holding letters names a ministry or central body (``BKHCN``): True when
    the row was settled here (held by a known agency, or a problem naming the code)."""
    if "unit_code" not in cols:
        return False
    value = text_value(row.cells.get(cols["unit_code"]))
    if value is None or not any(ch.isalpha() for ch in value):
        return False
    code = value.strip().upper()
    if not is_agency_code(code):
        return False
    if code not in agencies:
        row.problems.append(
            (
                "unit_code",
                _reason(
                    f"unknown agency code '{code}'",
                    f"không có bộ, ngành mang mã '{code}'",
                    code,
                    "mã bộ, ngành đã đăng ký (BKHCN, BTC, …)",
                    "a registered agency code (BKHCN, BTC, …)",
                ),
            )
        )
        return True
    row.values["agency_code"] = code
    row.values["_unit_level"] = "agency"
    return True


def _empty(value) -> bool:
    return text_value(value) is None


@dataclass
class Plan:
    """What one valid row does: create, update (which fields), or nothing."""

    action: str  # create | update | none
    task_id: int | None = None
    record: dict = field(default_factory=dict)  # all FIELDS after the row is applied
    old: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)
    moved_from: str | None = None  # the unit a stored task is moved away from


FIELD_VI = {"title": "tên nhiệm vụ", "unit_code": "mã đơn vị", "deadline": "hạn hoàn thành"}


def _reason(en: str, vi: str, value: object = None, expected: str = "", expected_en: str = ""):
    return CellError(
        en, vi=vi, value=value, expected=expected or None, expected_en=expected_en or None
    )


def _moved_text(old: str, new: object, lang: str) -> str:
    if lang == "en":
        return f"the task moves from unit {old} to unit {new} (moving was allowed)"
    return f"nhiệm vụ được chuyển từ đơn vị {old} sang đơn vị {new} (đã cho phép chuyển đơn vị)"


def _plan(row: Row, current: dict | None, move_units: bool = False) -> Plan:
    """Merge the row over the stored task; check the rules that need both."""
    # an empty cell never erases a stored value (a sheet that leaves "Ngày hoàn thành" blank
    # must not reopen a completed task)
    given = {k: v for k, v in row.values.items() if k in FIELDS and v is not None}
    status = row.values.get("status")
    moved_from = None
    if current is None:
        failed = {f for f, _ in row.problems} | ({"unit_code"} if row.problems else set())
        if given.get("agency_code") is not None:
            failed.add("unit_code")  # held by an agency
        for f in REQUIRED_NEW:
            if given.get(f) is None and f not in failed:
                row.problems.append(
                    (
                        f,
                        _reason(
                            f"a new task needs '{f}'",
                            f"nhiệm vụ mới (mã chưa có) cần {FIELD_VI[f]}",
                            None,
                            f"{FIELD_VI[f]} của nhiệm vụ, hoặc mã của một nhiệm vụ đã có",
                            f"the task's {f}, or the id of a stored task",
                        ),
                    )
                )
        level = row.values.get("_unit_level")
        record: dict[str, Any] = {f: None for f in FIELDS}
        record["program"] = "KH02" if level == "commune" and given.get("group_no") else "NQ57"
        record["phase"] = 1 if record["program"] == "KH02" else None
        record.update(given)
    else:
        record = {f: current[f] for f in FIELDS}
        record.update(given)
        for holder in ("unit_code", "agency_code"):
            old_holder = current[holder] or current["unit_code"] or current["agency_code"]
            if holder in given and given[holder] != current[holder] and old_holder:
                if not move_units:
                    row.problems.append(
                        (
                            holder if holder in row.values else "unit_code",
                            _reason(
                                f"task {current['external_id']} belongs to unit {old_holder},"
                                f" the row says {given[holder]}; moving a task to another unit"
                                " needs the explicit option",
                                f"nhiệm vụ {current['external_id']} thuộc đơn vị {old_holder},"
                                f" dòng ghi {given[holder]}; muốn chuyển nhiệm vụ sang đơn vị"
                                " khác phải chọn rõ “cho phép chuyển đơn vị”",
                                given[holder],
                                f"{old_holder}, hoặc chọn cho phép chuyển đơn vị",
                                f"{old_holder}, or allow moving tasks between units",
                            ),
                        )
                    )
                else:
                    moved_from = old_holder
    if "agency_code" in given:  # one holder: a unit or an agency
        record["unit_code"] = None
    elif "unit_code" in given:
        record["agency_code"] = None
    if record.get("deadline") is not None:
        record["year"] = record["deadline"].year
    group = record.get("group_no")
    if record.get("program") == "KH02" and group not in (None, *range(1, KH02_GROUPS + 1)):
        row.problems.append(
            (
                "group_no",
                _reason(
                    f"Plan 02 has task groups 1–{KH02_GROUPS}, not {group}",
                    f"Kế hoạch 02 có các nhóm nhiệm vụ 1–{KH02_GROUPS}, không có nhóm {group}",
                    group,
                    f"số nhóm từ 1 đến {KH02_GROUPS}",
                    f"a group number 1–{KH02_GROUPS}",
                ),
            )
        )
    start, done = record.get("start_date"), record.get("completed_at")
    if start and done and done < start:
        row.problems.append(
            (
                "completed_at",
                _reason(
                    f"completion date {done:%d/%m/%Y} is before the start date {start:%d/%m/%Y}",
                    f"ngày hoàn thành {done:%d/%m/%Y} trước ngày bắt đầu {start:%d/%m/%Y}",
                    f"{done:%d/%m/%Y}",
                    f"một ngày từ {start:%d/%m/%Y} trở đi",
                    f"a date on or after {start:%d/%m/%Y}",
                ),
            )
        )
    if status is True and done is None:
        row.problems.append(
            (
                "status",
                _reason(
                    "status says completed but there is no completion date",
                    "tình trạng ghi đã hoàn thành nhưng không có ngày hoàn thành",
                    None,
                    "ngày hoàn thành (ngày/tháng/năm) ở cột Ngày hoàn thành",
                    "the completion date (dd/mm/yyyy) in the completion-date column",
                ),
            )
        )
    if status is False and "completed_at" in given and done is not None:
        row.notes.append("status says not completed but a completion date is given; the date wins")
    if row.problems:
        return Plan("none")
    if current is None:
        return Plan("create", None, record, {}, {f: record[f] for f in FIELDS})
    old = {f: current[f] for f in FIELDS if current[f] != record[f]}
    new = {f: record[f] for f in old}
    return Plan("update" if old else "none", current["id"], record, old, new, moved_from)


def _json(values: dict) -> str:
    return json.dumps(
        {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()},
        ensure_ascii=False,
    )


def _apply(
    conn: Connection,
    good: list[tuple[Row, Plan]],
    actor: str,
    source: str,
    token_id: int | None = None,
) -> bool:
    """Insert the new tasks, update the changed ones, one history event each."""
    creates = [(row, p) for row, p in good if p.action == "create"]
    updates = [(row, p) for row, p in good if p.action == "update"]
    if not creates and not updates:
        return False
    events: list[tuple[Any, str, str | None, str]] = []
    if creates:
        ids = conn.execute(
            text(
                "insert into task (external_id, program, group_no, phase, year, title, unit_code,"
                " agency_code, lead_agency, start_date, deadline, completed_at, reason, proposal)"
                " select * from unnest("
                " cast(:id as text[]), cast(:program as text[]), cast(:group_no as smallint[]),"
                " cast(:phase as smallint[]), cast(:year as smallint[]), cast(:title as text[]),"
                " cast(:unit as text[]), cast(:agency as text[]), cast(:lead as text[]),"
                " cast(:start as date[]), cast(:deadline as date[]), cast(:done as date[]),"
                " cast(:reason as text[]), cast(:proposal as text[])) returning id, external_id"
            ),
            _columns_of(
                [row.values["external_id"] for row, _ in creates], [p.record for _, p in creates]
            ),
        ).all()
        by_ext = dict((e, i) for i, e in ids)
        events += [
            (by_ext[row.values["external_id"]], "create", None, _json(p.new)) for row, p in creates
        ]
    if updates:
        # one statement for all rows (an executemany of 50,000 updates held the lock for
        # tens of seconds); unnest keeps every value bound
        conn.execute(
            text(
                "update task t set program = v.program, group_no = v.group_no, phase = v.phase,"
                " year = v.year, title = v.title, unit_code = v.unit_code,"
                " agency_code = v.agency_code, lead_agency = v.lead_agency,"
                " start_date = v.start_date, deadline = v.deadline,"
                " completed_at = v.completed_at, reason = v.reason, proposal = v.proposal,"
                " updated_at = now() from unnest("
                " cast(:id as int[]), cast(:program as text[]), cast(:group_no as smallint[]),"
                " cast(:phase as smallint[]), cast(:year as smallint[]), cast(:title as text[]),"
                " cast(:unit as text[]), cast(:agency as text[]), cast(:lead as text[]),"
                " cast(:start as date[]), cast(:deadline as date[]), cast(:done as date[]),"
                " cast(:reason as text[]), cast(:proposal as text[]))"
                " as v(id, program, group_no, phase, year, title, unit_code, agency_code,"
                " lead_agency, start_date, deadline, completed_at, reason, proposal)"
                " where t.id = v.id"
            ),
            _columns_of([p.task_id for _, p in updates], [p.record for _, p in updates]),
        )
        events += [(p.task_id, "update", _json(p.old), _json(p.new)) for _, p in updates]
    conn.execute(
        text(
            "insert into task_event (task_id, actor, token_id, source, action, old, new)"
            " select v.task_id, :actor, cast(:token_id as int), :source, v.action, v.old, v.new"
            " from unnest(cast(:task_id as int[]), cast(:action as text[]),"
            " cast(:old as jsonb[]), cast(:new as jsonb[])) as v(task_id, action, old, new)"
        ),
        {
            "actor": actor,
            "token_id": token_id,
            "source": source,
            "task_id": [e[0] for e in events],
            "action": [e[1] for e in events],
            "old": [e[2] for e in events],
            "new": [e[3] for e in events],
        },
    )
    return True


def _columns_of(ids: list, records: list[dict]) -> dict[str, list]:
    """Records → one array per column, for an ``unnest`` statement."""
    return {
        "id": ids,
        "program": [r["program"] for r in records],
        "group_no": [r["group_no"] for r in records],
        "phase": [r["phase"] for r in records],
        "year": [r["year"] for r in records],
        "title": [r["title"] for r in records],
        "unit": [r["unit_code"] for r in records],
        "agency": [r["agency_code"] for r in records],
        "lead": [r["lead_agency"] for r in records],
        "start": [r["start_date"] for r in records],
        "deadline": [r["deadline"] for r in records],
        "done": [r["completed_at"] for r in records],
        "reason": [r["reason"] for r in records],
        "proposal": [r["proposal"] for r in records],
    }
