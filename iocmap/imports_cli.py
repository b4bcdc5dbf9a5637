"""``iocmap import boundaries|tasks|indicators|targets``: run an import, show progress and
the report.

Thin on purpose: the work is in geo/ingest/ (boundaries.py, and the sheet skeleton
``sheet_import.py`` that tasks.py and indicators.py plug into); this module turns flags into
the same ``ImportOptions`` the HTTP router builds, draws a progress bar and prints the
report as tables (``--json`` prints the same report the HTTP API returns). Exit code 1 when
the import is rejected or the file cannot be used, 0 otherwise.

Why one module (over 400 lines): the four import commands share their flags, the progress
bar and the report tables; a command each would repeat them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from geo.errors import IocmapError
from geo.ingest.report import DEFAULT_LOCK_WAIT_S, ImportReport, Problem, default_actor
from geo.ingest.sheets import CellError, parse_date

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from geo.ingest.sheet_import import ImportOptions

import_app = typer.Typer(
    help="Import official boundaries, task sheets and indicator sheets (atomic, idempotent)",
    no_args_is_help=True,
)
SHOWN = 50  # problems listed per table; --json gives all

DryRun = typer.Option(False, "--dry-run", help="check and report, change nothing")
SkipInvalid = typer.Option(
    False, "--skip-invalid", help="import the good rows/features; write the rest to a rejects file"
)
AsJson = typer.Option(False, "--json", help="print the report as JSON (as the API returns it)")
Sheet = typer.Option(None, "--sheet", help="XLSX sheet name (default: the first)")
Encoding = typer.Option(None, "--encoding", help="force a text encoding: utf-8, cp1258, tcvn3, vni")
Debug = typer.Option(False, "--debug", help="show the traceback of an unexpected error")
Legacy = typer.Option(
    False, "--legacy-codes", help="unit codes are pre-July-2025 codes: map them to the new units"
)
LockWait = typer.Option(
    DEFAULT_LOCK_WAIT_S,
    "--lock-wait",
    min=0.0,
    help="seconds to wait for another import of the same kind before giving up",
)


def _readers_configured() -> dict[str, int]:
    """The file readers' limits from ``Settings`` (the same as the server's): the sandbox
    and boundary limits set for this process; the XLSX counts returned for ``SheetLimits``."""
    from api.settings import Settings

    settings = Settings()
    settings.configure_readers()
    return settings.sheet_counts()


@contextmanager
def _recorded(engine: Engine, kind: str, path: Path, fields: dict) -> Iterator[None]:
    """A file refused before it reached the data leaves its ``import_run`` row (outcome
    ``refused``, with the reason), as the API's uploads do."""
    from geo.ingest import attempts
    from geo.safe_text import file_label

    try:
        yield
    except IocmapError as exc:
        actor = str(fields.get("actor") or default_actor())
        dry_run = bool(fields.get("dry_run"))
        attempt = attempts.Attempt(kind, file_label(path.name), actor, None, dry_run)
        attempt.file_sha256 = fields.get("file_sha256")
        attempts.record_attempt(engine, attempt, "refused", exc.message)
        raise


def _keep(engine: Engine, path: Path) -> str | None:
    """Keep the file's original bytes (``import_file``), as the API keeps uploads; bounded
    by ``IOCMAP_IMPORT_MAX_BYTES``."""
    from api.settings import Settings
    from geo.ingest import files

    return files.store_paths(engine, files.parts_of(path), int(Settings().import_max_bytes))


def _run(build: Callable[[Callable], ImportReport], as_json: bool, debug: bool = False) -> None:
    """Run an import with a progress bar, print the report, exit non-zero when rejected.

    Whatever goes wrong is one clear line and exit code 1 (2 for an unexpected error);
    ``--debug`` shows the traceback instead."""
    console = Console(stderr=as_json)
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("reading", total=None)

            def progress(step: str, done: int, total: int) -> None:
                bar.update(task, description=step, completed=done, total=total or None)

            report = build(progress)
    except IocmapError as exc:
        if as_json:
            typer.echo(json.dumps({"detail": exc.message, "errors": []}, ensure_ascii=False))
        else:
            console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    except Exception as exc:
        if debug:
            raise
        message = f"unexpected error: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        if as_json:
            typer.echo(json.dumps({"detail": message, "errors": []}, ensure_ascii=False))
        else:
            console.print(f"[red]error:[/red] {message} (--debug shows the traceback)")
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print_report(report, console)
    raise typer.Exit(0 if report.ok else 1)


def print_report(report: ImportReport, console: Console) -> None:
    """The summary table, then errors, rejected rows, warnings and notes."""
    title = f"{report.kind}: {report.file}" + (" (dry run)" if report.dry_run else "")
    summary = Table(title=title, show_header=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    rows = [
        ("read", report.read),
        ("repaired", report.repaired),
        ("rejected", report.rejected_count),
        ("created", report.created),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
        ("missing from file (kept)", len(report.missing)),
        ("errors", len(report.errors)),
        ("warnings", len(report.warnings)),
        ("data version", "-" if report.version is None else report.version),
        ("seconds", f"{report.seconds:.1f}"),
        *((f"  {phase}", f"{secs:.1f}") for phase, secs in report.phases.items()),
    ]
    for label, value in rows:
        if report.kind != "boundaries" and label == "repaired":
            continue
        summary.add_row(label, str(value))
    console.print(summary)
    if report.columns:
        console.print(_columns_table(report))
    for heading, problems, style in (
        ("Errors (nothing was imported)", report.errors, "red"),
        ("Rejected", report.rejected, "yellow"),
        ("Warnings", report.warnings, "cyan"),
    ):
        if problems:
            console.print(_problem_table(heading, problems, style))
    if report.matches:
        console.print(_matches_table(report))
    for note in report.notes[:SHOWN]:
        console.print(f"[dim]· {note}[/dim]")
    if len(report.notes) > SHOWN:
        console.print(f"[dim]· … {len(report.notes) - SHOWN} more notes (--json)[/dim]")
    if report.rejects_file:
        console.print(f"rejected rows written to [bold]{report.rejects_file}[/bold]")
    colour = "red" if report.status == "rejected" else "green"
    console.print(f"[{colour}]{report.summary()}[/{colour}]")


def _problem_table(heading: str, problems: list[Problem], style: str) -> Table:
    t = Table(title=heading, title_style=style, show_lines=False)
    for col in ("row", "column", "code", "value", "reason", "expected"):
        t.add_column(col, overflow="fold")
    for p in problems[:SHOWN]:
        row = "" if p.row is None else str(p.row)
        t.add_row(row, p.field or "", p.code or "", p.value or "", p.reason, p.expected or "")
    if len(problems) > SHOWN:
        t.add_row("…", "", "", "", f"{len(problems) - SHOWN} more (--json lists all)", "")
    return t


def _columns_table(report: ImportReport) -> Table:
    """Each header: used for which field, or ignored (with the field it looks like)."""
    t = Table(title="Columns", show_lines=False)
    for col in ("column", "status", "field"):
        t.add_column(col, overflow="fold")
    for c in report.columns:
        if c["status"] == "used":
            how = " (mapped)" if c.get("by") == "mapping" else ""
            t.add_row(c["header"], "used", f"{c['field']}{how}")
        else:
            likely = f"looks like {c['likely']}" if c.get("likely") else ""
            state = "ignored (confirmed)" if c.get("confirmed") else "ignored"
            style = "[yellow]" if c.get("warn") else ""
            t.add_row(c["header"], f"{style}{state}", likely)
    return t


def _matches_table(report: ImportReport) -> Table:
    """How the rows found their tasks: counts per kind, then the rows that did not match
    by code (at most ``SHOWN``)."""
    counts: dict[str, int] = {}
    for m in report.matches:
        counts[m["match"]] = counts.get(m["match"], 0) + 1
    title = "Matches: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    t = Table(title=title, show_lines=False)
    for col in ("row", "code", "match", "stored task", "suggestion"):
        t.add_column(col, overflow="fold")
    shown = [m for m in report.matches if m["match"] != "code"]
    for m in shown[:SHOWN]:
        t.add_row(
            str(m["row"]), m["code"] or "", m["label"], m["task"] or "", m["suggestion"] or ""
        )
    if len(shown) > SHOWN:
        t.add_row("…", "", f"{len(shown) - SHOWN} more (--json lists all)", "", "")
    return t


@import_app.command("boundaries")
def boundaries(
    path: Path = typer.Argument(..., exists=True, help="GeoJSON, Shapefile (.shp/.zip), GPKG, FGB"),
    level: str = typer.Option(..., "--level", help="province | commune"),
    code_field: str = typer.Option(None, "--code-field", help="field holding the unit code"),
    name_field: str = typer.Option(None, "--name-field", help="field holding the unit name"),
    parent_field: str = typer.Option(
        None, "--parent-field", help="field holding the province code"
    ),
    crs: str = typer.Option(
        None, "--crs", help="EPSG code or vn2000:tm3:<meridian> when the file has no/wrong CRS"
    ),
    layer: str = typer.Option(None, "--layer", help="layer of a multi-layer file (GeoPackage)"),
    encoding: str = Encoding,
    overlap_tolerance: float = typer.Option(
        1000.0, "--overlap-tolerance", help="m² of overlap/outside-province area to report"
    ),
    gap_width: float = typer.Option(
        100.0, "--gap-width", help="gaps between neighbours narrower than this (m) are closed"
    ),
    allow_new_units: bool = typer.Option(
        False, "--allow-new-units", help="accept codes that are not in the official list"
    ),
    province_outline: bool = typer.Option(
        False,
        "--province-outline",
        help="keep the province file's own outline instead of the union of its communes",
    ),
    strict_borders: bool = typer.Option(
        False,
        "--strict-borders",
        help="refuse a commune file that overlaps stored official neighbours by more than"
        " --overlap-tolerance (default: the overlap is left to them and warned)",
    ),
    dry_run: bool = DryRun,
    skip_invalid: bool = SkipInvalid,
    lock_wait: float = LockWait,
    as_json: bool = AsJson,
    debug: bool = Debug,
) -> None:
    """Replace unit geometry with an official boundary file (upsert by code, nothing deleted)."""
    from api.settings import Settings
    from geo.db import app_database_url, make_engine
    from geo.ingest.boundaries import BoundaryOptions, import_boundaries

    _readers_configured()

    def build(progress):
        engine = make_engine(app_database_url())
        try:
            sha = _keep(engine, path)
            with _recorded(engine, "boundaries", path, {"dry_run": dry_run, "file_sha256": sha}):
                options = BoundaryOptions(
                    code_field=code_field, name_field=name_field, parent_field=parent_field,
                    crs=crs, layer=layer, encoding=encoding, dry_run=dry_run,
                    skip_invalid=skip_invalid, overlap_tolerance_m2=overlap_tolerance,
                    gap_max_width_m=gap_width, allow_new_units=allow_new_units,
                    province_outline=province_outline, strict_borders=strict_borders,
                    actor=default_actor(),
                    progress=progress, raise_unexpected=debug, lock_timeout_s=lock_wait,
                    processes=Settings().import_processes, file_sha256=sha,
                )  # fmt: skip
                return import_boundaries(engine, path, level, options)
        finally:
            engine.dispose()

    _run(build, as_json, debug)


def _run_sheet(
    importer: Callable[[Engine, Path, ImportOptions], ImportReport],
    path: Path,
    as_json: bool,
    **fields: object,
) -> None:
    """Run a sheet import (tasks, indicators) with ``ImportOptions`` made from the flags."""
    from geo.db import app_database_url, make_engine
    from geo.ingest.sheet_import import ImportOptions
    from geo.ingest.sheets import SheetLimits

    limits = SheetLimits(**_readers_configured())

    def build(progress: Callable[[str, int, int], None]) -> ImportReport:
        engine = make_engine(app_database_url())
        try:
            fields["file_sha256"] = _keep(engine, path)
            options = ImportOptions(progress=progress, limits=limits, **fields)  # type: ignore[arg-type]
            with _recorded(engine, importer.__name__.removeprefix("import_"), path, fields):
                return importer(engine, path, options)
        finally:
            engine.dispose()

    _run(build, as_json)


def parse_columns(pairs: list[str] | None) -> dict[str, str] | None:
    """``["Ngày phải xong=deadline", "Ghi chú="]`` → the header mapping ("" = ignore)."""
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        header, sep, fld = pair.rpartition("=")
        if not sep or not header.strip():
            raise typer.BadParameter(f"'{pair}' is not HEADER=FIELD", param_hint="--column")
        out[header.strip()] = fld.strip()
    return out


@import_app.command("tasks")
def tasks(
    path: Path = typer.Argument(..., exists=True, help="CSV or XLSX task sheet"),
    actor: str = typer.Option(
        None, "--actor", help="who to record in the history (default: cli:<login>)"
    ),
    sheet: str = Sheet,
    encoding: str = Encoding,
    legacy_codes: bool = Legacy,
    column: list[str] = typer.Option(
        None,
        "--column",
        help='map a header to a field: "Ngày phải xong=deadline"; "Ghi chú=" confirms'
        " it is ignored (repeat for several)",
    ),
    move_units: bool = typer.Option(
        False, "--move-units", help="a row may move a stored task to another unit"
    ),
    lang: str = typer.Option("vi", "--lang", help="language of the reasons: vi | en"),
    report_date: str | None = typer.Option(
        None,
        "--report-date",
        help="the day the sheet reports on (dd/mm/yyyy or yyyy-mm-dd) when its title block"
        " does not say it; a row done without a date is done by that day",
    ),
    dry_run: bool = DryRun,
    skip_invalid: bool = SkipInvalid,
    lock_wait: float = LockWait,
    as_json: bool = AsJson,
) -> None:
    """Upsert tasks: by their id, an office's saved code, or (Plan 02) commune + group;
    every change goes to the task history."""
    from geo.ingest.tasks import import_tasks

    _run_sheet(
        import_tasks, path, as_json, actor=actor, sheet_name=sheet, encoding=encoding,
        legacy_codes=legacy_codes, dry_run=dry_run, skip_invalid=skip_invalid,
        lock_timeout_s=lock_wait, columns=parse_columns(column), move_units=move_units,
        lang="en" if lang == "en" else "vi", report_date=_report_date(report_date),
    )  # fmt: skip


def _report_date(value: str | None) -> dt.date | None:
    """``--report-date`` → a date; a bad one is a usage error naming the option."""
    if value is None:
        return None
    try:
        return parse_date(value)
    except CellError as exc:
        raise typer.BadParameter(f"{exc.vi or exc} — {exc}", param_hint="--report-date") from None


@import_app.command("indicators")
def indicators(
    path: Path = typer.Argument(
        ..., exists=True, help="CSV or XLSX indicator sheet (long or wide)"
    ),
    period: str = typer.Option(None, "--period", help="period for a sheet without one (2025-Q3)"),
    actor: str = typer.Option(None, "--actor", help="who to record (default: cli:<login>)"),
    sheet: str = Sheet,
    encoding: str = Encoding,
    legacy_codes: bool = Legacy,
    dry_run: bool = DryRun,
    skip_invalid: bool = SkipInvalid,
    lock_wait: float = LockWait,
    as_json: bool = AsJson,
) -> None:
    """Upsert indicator values per unit and period; ranks computed when the sheet has none."""
    from geo.ingest.indicators import import_indicators

    _run_sheet(
        import_indicators, path, as_json, period=period, actor=actor, sheet_name=sheet,
        encoding=encoding, legacy_codes=legacy_codes, dry_run=dry_run,
        skip_invalid=skip_invalid, lock_timeout_s=lock_wait,
    )  # fmt: skip


@import_app.command("targets")
def targets(
    path: Path = typer.Argument(
        ..., exists=True, help="CSV or XLSX target sheet (unit, subject, kind, threshold, due)"
    ),
    actor: str = typer.Option(None, "--actor", help="who to record (default: cli:<login>)"),
    sheet: str = Sheet,
    encoding: str = Encoding,
    dry_run: bool = DryRun,
    skip_invalid: bool = SkipInvalid,
    lock_wait: float = LockWait,
    as_json: bool = AsJson,
) -> None:
    """Upsert units' targets by (unit, subject, kind)."""
    from geo.ingest.targets import import_targets

    _run_sheet(
        import_targets, path, as_json, actor=actor, sheet_name=sheet, encoding=encoding,
        dry_run=dry_run, skip_invalid=skip_invalid, lock_timeout_s=lock_wait,
    )  # fmt: skip


@import_app.command("programmes")
def programmes(
    path: Path = typer.Argument(
        ..., exists=True, help="CSV or XLSX: Mã, Tên, Tên khác (;-separated), Thuộc, Giai đoạn"
    ),
    dry_run: bool = DryRun,
) -> None:
    """Add or replace programme registry entries by code (a provincial action programme:
    Thuộc = NQ57; a phase of Plan 02: Thuộc = KH02 and Giai đoạn = n)."""
    from geo.db import app_database_url, make_engine
    from geo.ingest import store
    from geo.ingest.programmes import import_programmes

    console = Console()
    engine = make_engine(app_database_url())
    try:
        with engine.connect() as conn, conn.begin() as trans:
            n = import_programmes(conn, path)
            if dry_run:
                trans.rollback()
            else:
                store.bump_version(conn, None, f"programmes: {path.name}")
    except IocmapError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(f"{'would add or replace' if dry_run else 'added or replaced'} {n} programme(s)")


@import_app.command("prune-files")
def prune_files(
    keep_days: int | None = typer.Option(
        None, min=0, help="keep files this many days (default IOCMAP_IMPORT_FILES_KEEP_DAYS)"
    ),
) -> None:
    """Delete the kept original files of imports older than the retention (as the owner:
    the app role may not delete them). The import log keeps their name and SHA-256."""
    from api.settings import Settings
    from geo.db import database_url, make_engine
    from geo.ingest import files

    days = Settings().import_files_keep_days if keep_days is None else keep_days
    engine = make_engine(database_url())
    try:
        n, size = files.prune(engine, days)
    finally:
        engine.dispose()
    if not days:
        Console().print("retention 0: every file is kept")
        return
    Console().print(f"removed {n} file(s), {size:,} bytes, older than {days} days")
