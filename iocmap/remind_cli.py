"""`iocmap remind`: preview reminder notices to slow units, then issue them (`--issue`),
written as DOCX + printable HTML; `iocmap remind withdraw ID --reason …`; `iocmap remind
issuer CODE …` sets what an issuing body's letters print (signer, number abbreviation…)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

app = typer.Typer(help="Reminder notices (công văn đôn đốc): preview, issue, withdraw.")


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        typer.echo(f"lỗi: {name} phải có dạng YYYY-MM-DD (got {value!r})", err=True)
        raise typer.Exit(2) from exc


@app.callback(invoke_without_command=True)
def remind(
    ctx: typer.Context,
    program: str = typer.Option("NQ57", help="NQ57 (provinces) | KH02 (communes)"),
    overdue: bool = typer.Option(False, "--overdue", help="units with overdue tasks"),
    below: float | None = typer.Option(None, help="units below this completion %"),
    combine: str = typer.Option("any", help="any | all of the criteria given"),
    province: str | None = typer.Option(None, help="only this province (and its communes)"),
    agency: str | None = typer.Option(None, help="a ministry (BKHCN), for its own tasks"),
    as_of: str | None = typer.Option(None, help="YYYY-MM-DD; default: the reporting date"),
    reply_by: str | None = typer.Option(
        None, help="YYYY-MM-DD; default: 7 days after the later of as-of and today"
    ),
    issuer: str | None = typer.Option(None, help="issuing body's name (default: its profile)"),
    force: bool = typer.Option(False, "--force", help="remind recently reminded units too"),
    min_days: int = typer.Option(3, help="skip units reminded fewer days ago than this"),
    do_issue: bool = typer.Option(False, "--issue", help="issue (record and write) the notices"),
    out: Path = typer.Option(Path("reminders"), help="folder the issued notices go to"),
    actor: str | None = typer.Option(None, help="who issues (default: cli:<user>)"),
) -> None:
    """Preview the notices the criteria select (nothing recorded); with --issue, record them
    with their numbers and write each as DOCX + HTML. Only the criteria given count."""
    if ctx.invoked_subcommand is not None:
        return
    from api.settings import Settings
    from geo.db import app_database_url, make_engine
    from geo.errors import IocmapError
    from geo.ingest.report import default_actor
    from geo.remind.issue import RemindRequest, issue, preview
    from geo.remind.notice import to_docx, to_html

    Settings().configure_reply_links()  # issued notices print their reply link
    req = RemindRequest(
        program=program,
        overdue=overdue,
        below=below,
        province=province,
        agency=agency,
        as_of=_date(as_of, "--as-of"),
        reply_by=_date(reply_by, "--reply-by"),
        issuer=issuer,
        combine=combine,
        force=force,
        min_days=min_days,
    )
    engine = make_engine(app_database_url())
    try:
        if do_issue:
            from api.settings import Settings

            channels = Settings().delivery_channels
            notices = issue(engine, req, actor or default_actor(), channels=channels)
            skipped: list[dict] = []
        else:
            with engine.connect() as conn:
                seen = preview(conn, req)
            notices, skipped = seen.notices, seen.skipped
    except IocmapError as exc:
        typer.echo(f"lỗi: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    for n in notices:
        why = ", ".join(
            f"{r['tasks']} quá hạn"
            if r["kind"] == "overdue"
            else f"{r['completion_pct']} % < {r['threshold']:g} %"
            for r in n.reasons
        )
        number = f"Số {n.doc_number} " if n.number else ""
        typer.echo(
            f"{number}{n.unit_code} {n.recipient}: {len(n.tasks)} nhiệm vụ ({why}), lần {n.round}"
        )
    for s in skipped:
        typer.echo(f"bỏ qua {s['unit_code']} {s['unit_name']}: {s['message']}")
    if not do_issue:
        typer.echo(
            f"Xem trước: {len(notices)} phiếu, {len(skipped)} bỏ qua; chưa ghi gì."
            " Thêm --issue để phát hành (preview only; add --issue to issue)."
        )
        return
    out.mkdir(parents=True, exist_ok=True)
    for n in notices:
        (out / f"{n.file_stem()}.docx").write_bytes(to_docx(n))
        (out / f"{n.file_stem()}.html").write_text(to_html(n), encoding="utf-8")
    typer.echo(f"Đã phát hành {len(notices)} phiếu vào {out} ({len(notices)} notices issued)")


@app.command("withdraw")
def withdraw_cmd(
    reminder_id: int = typer.Argument(..., help="the notice's id (from the list)"),
    reason: str = typer.Option(..., help="why it is withdrawn"),
    actor: str | None = typer.Option(None, help="who withdraws (default: cli:<user>)"),
) -> None:
    """Withdraw a notice issued by mistake (an appended record; the notice stays listed)."""
    from geo.db import app_database_url, make_engine
    from geo.errors import IocmapError
    from geo.ingest.report import default_actor
    from geo.remind.issue import withdraw

    engine = make_engine(app_database_url())
    try:
        record = withdraw(engine, reminder_id, reason, actor or default_actor())
    except IocmapError as exc:
        typer.echo(f"lỗi: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    typer.echo(f"Đã thu hồi phiếu {reminder_id} ({record.get('doc_number') or 'không số'})")


@app.command("issuer")
def issuer_cmd(
    code: str = typer.Argument(..., help="a province code, or TW (the central level)"),
    parent: str | None = typer.Option(None, help="parent body (upper case line above)"),
    name: str | None = typer.Option(None, help="issuing body"),
    abbrev: str | None = typer.Option(None, help='number suffix, e.g. "UBND-KGVX"'),
    place: str | None = typer.Option(None, help='place in the date line, e.g. "Nghệ An"'),
    authority: str | None = typer.Option(None, help='e.g. "TM. ỦY BAN NHÂN DÂN\\nKT. CHỦ TỊCH"'),
    signer_title: str | None = typer.Option(None, help='e.g. "PHÓ CHỦ TỊCH"'),
    signer_name: str | None = typer.Option(None, help="who signs"),
    archive: str | None = typer.Option(None, help='"VT, KGVX" in "Lưu: VT, KGVX"'),
) -> None:
    """Show (no option) or set what an issuer's letters print."""
    from dataclasses import asdict

    from geo.db import app_database_url, make_engine
    from geo.errors import IocmapError
    from geo.remind.issuers import issuer_for, save_issuer

    changes = {
        "parent": parent,
        "name": name,
        "abbrev": abbrev,
        "place": place,
        "authority": authority.replace("\\n", "\n") if authority else None,
        "signer_title": signer_title,
        "signer_name": signer_name,
        "archive": archive,
    }
    engine = make_engine(app_database_url())
    try:
        with engine.begin() as conn:
            if any(v is not None for v in changes.values()):
                profile = save_issuer(conn, code, **changes)
            else:
                profile = issuer_for(conn, code)
    except IocmapError as exc:
        typer.echo(f"lỗi: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    for key, value in asdict(profile).items():
        typer.echo(f"{key}: {value}")
