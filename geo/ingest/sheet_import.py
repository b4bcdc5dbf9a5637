"""The one sheet-import skeleton: read → map columns → parse and resolve → check → write.

Why one skeleton: task sheets and indicator sheets differ only in their columns, how a row
becomes values, what makes two rows duplicates and how values are written. Everything else
— the bounded reader, the resolver, the per-kind lock, the scope check, the report, the
rejects file, the hook points and the version bump — is written once, here, so a fix to
one (a limit, a lock wait, an actor) holds for every kind. A kind plugs in as a
``SheetSpec`` (see ``geo.ingest.tasks.TaskSheet``, ``geo.ingest.indicators.IndicatorSheet``).

Order, and why:
1. read and parse *outside* the lock (the reader is bounded; parsing a large sheet took
   seconds under the lock and made other imports wait);
2. under the lock: checks that need stored rows, then the scope check (a scoped editor
   hears a short 403 before any validation report about other units' rows), then the
   problems go to the report; with errors nothing is written;
3. stage (count) → ``fail_point("staged")`` → write → ``fail_point("swapped")`` → bump the
   data version when something changed; commit (with the ``import_run`` row) or, for a
   dry run, roll back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from sqlalchemy import Connection, Engine

from geo.errors import Forbidden
from geo.ingest import store
from geo.ingest.report import (
    DEFAULT_LOCK_WAIT_S,
    ImportHook,
    ImportReport,
    Kind,
    Progress,
    default_actor,
    fail_point,
    finish,
    import_transaction,
    localise,
)
from geo.ingest.resolve import UnitResolver
from geo.ingest.sheets import CellError, Sheet, SheetLimits, read_sheet, write_rejects
from geo.safe_text import file_label

# authorize(conn, unit codes the sheet would change): raises (Forbidden) to refuse.
Authorize = Callable[[Connection, set[str]], None]


@dataclass(frozen=True)
class Scope:
    """A writer's scope: ``denied(conn, units)`` lists the units it may not change; ``who``
    names the writer in messages. Rows naming a denied unit are row errors like any other
    (one report with every problem); a sheet none of whose units is allowed is refused
    (``Forbidden``, a short 403: the token is the wrong one)."""

    denied: Callable[[Connection, set[str]], list[str]]
    who: str


@dataclass(frozen=True)
class ImportOptions:
    """How to run one sheet import: built from the CLI's flags or the API's query, the same
    fields either way. ``hook`` is for tests (a callable, or the point name to fail at)."""

    dry_run: bool = False
    skip_invalid: bool = False
    legacy_codes: bool = False
    sheet_name: str | None = None
    encoding: str | None = None
    period: str | None = None  # indicator sheets without a period column
    display_name: str | None = None  # the name the user knows (an upload's file name)
    write_rejects_file: bool = True
    actor: str | None = None  # default: cli:<login>
    token_id: int | None = None
    lock_timeout_s: float | None = DEFAULT_LOCK_WAIT_S
    limits: SheetLimits = field(default_factory=SheetLimits)
    authorize: Authorize | None = None
    scope: Scope | None = None
    progress: Progress | None = None
    hook: ImportHook | str | None = None
    lang: str = "vi"  # reasons in Vietnamese; "en" for English
    # the file's header → our field ("" = ignore it): the clerk's decisions on /upload, the
    # API's ``columns=``, the CLI's ``--column``
    columns: Mapping[str, str] | None = None
    move_units: bool = False  # a row may move a stored task to another unit
    # task sheets: the day the sheet reports on, when its title block does not say it
    # ("Số liệu đến ngày …"); a row done without a date is done no later than that day
    report_date: dt.date | None = None
    file_sha256: str | None = None  # the kept original (``geo.ingest.files``)


@dataclass
class SheetItem:
    """What one row gives the importer (a task, or one indicator value of a row); a row with
    any problem is not written."""

    row_no: int
    # (field or column, reason: text or a CellError carrying both languages and the value)
    problems: list[tuple[str, object]] = field(default_factory=list)

    @property
    def code(self) -> str | None:
        """What the report shows next to the row (a task id, a unit code)."""
        return None


class SheetSpec:
    """One kind of sheet. An instance lives for one import, so it may keep state between
    the steps (the stored rows it read, what it staged)."""

    kind: ClassVar[Kind]
    aliases: ClassVar[Mapping[str, Sequence[str]]]

    @property
    def known_headers(self) -> list[str]:
        return [h for hs in self.aliases.values() for h in hs]

    def columns(self, sheet: Sheet, report: ImportReport, options: ImportOptions) -> dict:
        """Our field → the file's header; raises ``BadInput`` when the sheet is unusable."""
        raise NotImplementedError

    def load(self, conn: Connection, resolver: UnitResolver, options: ImportOptions) -> None:
        """Read what parsing needs from the database (outside the lock). Default: nothing."""

    def parse(self, sheet: Sheet, report: ImportReport) -> list[SheetItem]:
        """Rows → items, each cell parsed and each unit code resolved, problems attached."""
        raise NotImplementedError

    def duplicate_key(self, item: SheetItem) -> Hashable | None:
        """Two items with the same key are both refused (None: never a duplicate)."""
        return None

    def duplicate_problem(self, item: SheetItem, key: Hashable, rows: str) -> tuple[str, object]:
        raise NotImplementedError

    def check(self, conn: Connection, items: list[SheetItem]) -> None:
        """Checks that need the stored rows (under the lock). Default: none."""

    def units_touched(self, items: list[SheetItem]) -> set[str]:
        """Every unit the import would change (for the scope check)."""
        return set()

    def units_of(self, item: SheetItem) -> set[str]:
        """The units one item would change (the scope check's row errors)."""
        return self.units_touched([item])

    def stage(self, conn: Connection, good: list[SheetItem], report: ImportReport) -> None:
        """Decide what to write and set the report's counts (nothing written yet)."""
        raise NotImplementedError

    def write(self, conn: Connection, report: ImportReport) -> bool:
        """Write what ``stage`` decided; True when the data changed."""
        raise NotImplementedError


def run_sheet_import(
    engine: Engine, path: str | Path, spec: SheetSpec, options: ImportOptions
) -> ImportReport:
    """Import one sheet with ``spec`` (see the module docstring for the steps)."""
    path = Path(path)
    name = file_label(options.display_name or path.name)
    actor = options.actor or default_actor()
    report = ImportReport(kind=spec.kind, file=name, dry_run=options.dry_run, lang=options.lang)
    report.file_sha256 = options.file_sha256
    progress = options.progress or (lambda step, done, total: None)
    sheet = read_sheet(
        path, spec.known_headers, options.sheet_name, options.encoding, name, options.limits
    )
    report.notes.extend(sheet.notes)
    cols = spec.columns(sheet, report, options)
    report.read = len(sheet.rows)
    progress("parse", 0, report.read)
    with engine.connect() as conn:
        legacy = options.legacy_codes or "legacy_unit_code" in cols
        resolver = UnitResolver.load(conn, legacy=legacy)
        spec.load(conn, resolver, options)
    items = spec.parse(sheet, report)
    flag_duplicates(spec, items)

    with import_transaction(
        engine, spec.kind, report, options.lock_timeout_s, actor=actor, token_id=options.token_id
    ) as conn:
        progress("check", 1, 3)
        spec.check(conn, items)
        if options.authorize is not None:
            options.authorize(conn, spec.units_touched(items))
        if options.scope is not None:
            scope_problems(conn, spec, items, options.scope)
        bad_rows = _report_problems(report, items, cols, options)
        if report.errors:
            return finish(report)
        if bad_rows and options.skip_invalid and options.write_rejects_file and not options.dry_run:
            report.rejects_file = str(
                _write_rejects(path, sheet, items, cols, bad_rows, options.lang)
            )
        good = [it for it in items if it.row_no not in bad_rows]
        progress("write", 2, 3)
        spec.stage(conn, good, report)
        report.units_reported = sorted(spec.units_touched(good))
        fail_point("staged", options.hook)
        changed = spec.write(conn, report)
        fail_point("swapped", options.hook)
        if changed:
            report.version = store.bump_version(conn, None, f"{spec.kind}: {name}")
    return finish(report)


def scope_problems(conn: Connection, spec: SheetSpec, items: list[SheetItem], scope: Scope) -> None:
    """Rows that change a unit outside ``scope`` get a problem naming the unit; nothing
    in scope at all is a ``Forbidden`` (see ``Scope``)."""
    touched = spec.units_touched(items)
    denied = set(scope.denied(conn, touched))
    if not denied:
        return
    if denied >= touched:
        shown = ", ".join(sorted(denied)[:10]) + (" …" if len(denied) > 10 else "")
        raise Forbidden(
            f"token {scope.who} không được thay đổi nhiệm vụ của các đơn vị {shown}; không có"
            f" gì được ghi (token {scope.who} may not change tasks of units {shown};"
            " nothing was imported)"
        )
    for item in items:
        outside = sorted(spec.units_of(item) & denied)
        if outside:
            units = ", ".join(outside)
            item.problems.append(
                (
                    "unit_code",
                    CellError(
                        f"unit {units} is outside the token's scope ({scope.who})",
                        vi=f"đơn vị {units} nằm ngoài phạm vi của token ({scope.who})",
                        value=units,
                        expected=f"một đơn vị trong phạm vi {scope.who}",
                        expected_en=f"a unit within {scope.who}",
                    ),
                )
            )


def flag_duplicates(spec: SheetSpec, items: Iterable[SheetItem]) -> None:
    """Every item sharing its key with another gets a problem naming all their rows."""
    seen: dict[Hashable, list[SheetItem]] = {}
    for item in items:
        key = spec.duplicate_key(item)
        if key is not None:
            seen.setdefault(key, []).append(item)
    for key, same in seen.items():
        if len(same) > 1:
            rows = ", ".join(str(it.row_no) for it in same)
            for it in same:
                it.problems.append(spec.duplicate_problem(it, key, rows))


def _report_problems(
    report: ImportReport, items: list[SheetItem], cols: Mapping[str, str], options: ImportOptions
) -> set[int]:
    """Each problem → an error (nothing imported) or, with ``skip_invalid``, a rejected row;
    the rows that carry any. Every problem of every row is listed (one report with every
    problem), in ``options.lang``, with the cell's value and what would be accepted."""
    add = report.reject if options.skip_invalid else report.error
    bad: set[int] = set()
    for item in items:
        cells = getattr(item, "cells", None) or {}
        for fld, reason in item.problems:
            column = cols.get(fld, fld)
            text_, value, expected = localise(reason, options.lang)
            if value is None and column in cells:
                value = _shown_value(cells[column])
            add(
                text_, row=item.row_no, field=column, code=item.code, value=value,
                expected=expected,
            )  # fmt: skip
            bad.add(item.row_no)
    return bad


def _shown_value(cell: object) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, dt.datetime | dt.date):
        return f"{cell:%d/%m/%Y}"
    return str(cell)[:200]


def _write_rejects(
    path: Path,
    sheet: Sheet,
    items: list[SheetItem],
    cols: Mapping[str, str],
    bad: set[int],
    lang: str = "vi",
) -> Path:
    """The refused rows, with their reasons, next to the input (``<name>.rejects.csv``)."""
    reasons: dict[int, list[str]] = {}
    for item in items:
        for fld, reason in item.problems:
            text_ = f"{cols.get(fld, fld)}: {localise(reason, lang)[0]}"
            if text_ not in reasons.setdefault(item.row_no, []):
                reasons[item.row_no].append(text_)
    cells = dict(sheet.rows)
    out = path.with_name(f"{path.stem}.rejects.csv")
    rows = ((n, cells[n], "; ".join(reasons[n])) for n in sorted(bad))
    return write_rejects(out, sheet.headers, rows)
