"""`iocmap remind`: reminder notices to slow units, written as DOCX + printable HTML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer


def remind(
    program: str = typer.Option("NQ57", help="NQ57 (provinces) | KH02 (communes)"),
    overdue: bool = typer.Option(False, "--overdue", help="units with overdue tasks"),
    below: float | None = typer.Option(None, help="units below this completion %"),
    province: str | None = typer.Option(None, help="only this province (and its communes)"),
    as_of: str | None = typer.Option(None, help="YYYY-MM-DD; default: the reporting date"),
    reply_by: str | None = typer.Option(None, help="YYYY-MM-DD; default: as-of + 7 days"),
    issuer: str | None = typer.Option(None, help="issuing body (default: the steering committee)"),
    out: Path = typer.Option(Path("reminders"), help="folder the notices are written to"),
    actor: str | None = typer.Option(None, help="who issues (default: cli:<user>)"),
) -> None:
    """Issue one notice per selected unit; each is recorded in the audit trail, and a task
    reminded again is marked "nhắc lần 2, 3 …"."""
    from geo.db import app_database_url, make_engine
    from geo.errors import IocmapError
    from geo.ingest.report import default_actor
    from geo.remind.issue import RemindRequest, issue
    from geo.remind.notice import DEFAULT_ISSUER, to_docx, to_html

    try:
        req = RemindRequest(
            program=program,
            overdue=overdue,
            below=below,
            province=province,
            as_of=dt.date.fromisoformat(as_of) if as_of else None,
            reply_by=dt.date.fromisoformat(reply_by) if reply_by else None,
            issuer=issuer or DEFAULT_ISSUER,
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    engine = make_engine(app_database_url())
    try:
        notices = issue(engine, req, actor or default_actor())
    except IocmapError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    for n in notices:
        (out / f"{n.file_stem()}.docx").write_bytes(to_docx(n))
        (out / f"{n.file_stem()}.html").write_text(to_html(n), encoding="utf-8")
        repeats = sum(1 for t in n.tasks if t["round"] > 1)
        typer.echo(
            f"{n.unit_code} {n.recipient}: {len(n.tasks)} overdue tasks"
            f"{f', {repeats} reminded again' if repeats else ''} → {n.file_stem()}.docx"
        )
    typer.echo(f"{len(notices)} notices written to {out}")
