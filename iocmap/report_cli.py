"""`iocmap report`: the steering committee's report as DOCX (and PDF where LibreOffice is
installed); `iocmap report scheduled` writes the last complete quarter's, for a timer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

report_app = typer.Typer(
    help="The committee's report (DOCX, Nghị định 30/2020/NĐ-CP): `iocmap report --period"
    " 2025-Q3 --out DIR`, or `iocmap report scheduled --out var/reports`",
    invoke_without_command=True,
)


def _day(raw: str | None, name: str) -> dt.date | None:
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        typer.echo(f"{name}: ngày không hợp lệ / not a date (YYYY-MM-DD): {raw!r}", err=True)
        raise typer.Exit(2) from None


def write(period: str, as_of: dt.date | None, province: str | None, out: Path,
          pdf: bool) -> list[Path]:  # fmt: skip
    """Write the report's files into ``out`` (with a JSON note of what they are)."""
    from api.settings import Settings
    from geo.db import make_engine
    from geo.errors import BadInput
    from geo.read.report import parse_period
    from maps import report, report_store

    try:
        per = parse_period(period)
    except BadInput as exc:
        typer.echo(f"--period: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = Settings()
    engine = make_engine(settings.app_url(), pool_size=1, max_overflow=0)  # reads: the app role
    try:
        with engine.connect() as conn:
            docx = report.build_docx(conn, per, as_of, province, settings.stale_report_days)
    except BadInput as exc:
        typer.echo(f"--{getattr(exc, 'field', None) or 'period'}: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    day = per.day(as_of)
    pdf_bytes = None
    if pdf and report.soffice():
        pdf_bytes = report.to_pdf(docx)
    elif pdf:
        typer.echo("không có LibreOffice (soffice): chỉ ghi DOCX / no PDF, LibreOffice is"
                   " not installed", err=True)  # fmt: skip
    return report_store.store(out, per.label, day, province, docx, pdf_bytes)


@report_app.callback()
def report(
    ctx: typer.Context,
    period: str = typer.Option(None, "--period", help="2025-Q3 (quarter) or 2025-09 (month)"),
    as_of: str = typer.Option(None, "--as-of", help="figures as of this day (default: period end)"),
    province: str = typer.Option(None, "--province", help="also the province's map"),
    out: Path = typer.Option(Path("."), "--out", help="folder to write into"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="also a PDF (needs LibreOffice)"),
) -> None:
    """Write the report of --period into --out: DOCX, PDF when LibreOffice is installed."""
    if ctx.invoked_subcommand is not None:
        return
    if not period:
        typer.echo("--period: bắt buộc / required (e.g. 2025-Q3)", err=True)
        raise typer.Exit(2)
    for path in write(period, _day(as_of, "--as-of"), province, out, pdf):
        typer.echo(str(path))


def _data_day() -> dt.date:
    """Today, or the data's reporting date when that is earlier: the last quarter the data
    covers entirely is the one worth a report (the demo's data ends on 13 Nov 2025)."""
    from api.settings import Settings
    from geo.db import make_engine
    from geo.read.progress import VN_TZ, data_state

    engine = make_engine(Settings().app_url(), pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            reported = data_state(conn).reporting_date
    finally:
        engine.dispose()
    today = dt.datetime.now(VN_TZ).date()  # the offices' day, not the server's
    return min(today, reported) if reported else today


@report_app.command("scheduled")
def scheduled(
    out: Path = typer.Option(Path("var/reports"), "--out", help="the reports folder"),
    today: str = typer.Option(None, "--today", help="pretend today is this day (tests)"),
    every_days: float = typer.Option(
        0, "--every-days", min=0, help="keep running: again after this many days (0: once)"
    ),
) -> None:
    """The last complete quarter's report (complete by today or by the data's reporting
    date, whichever is earlier), as a timer runs it (files of the same period
    and as-of date are replaced, so a later week's data updates the quarter's report).
    With --every-days the command stays up and runs again after that many days (the
    compose stack and `make prod-local` run it so, weekly); a failed run is logged and
    the next one still comes."""
    import time

    from geo.read.report import last_complete_quarter

    while True:
        day = _day(today, "--today") or _data_day()
        try:
            for path in write(last_complete_quarter(day), None, None, out, True):
                typer.echo(str(path))
        except typer.Exit:
            raise
        except Exception as exc:  # noqa: BLE001 - a loop for a timer: log and go on
            if not every_days:
                raise
            typer.echo(f"report run failed: {type(exc).__name__}: {exc}", err=True)
        if not every_days:
            return
        time.sleep(every_days * 86400)
