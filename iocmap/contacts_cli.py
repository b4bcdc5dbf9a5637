"""`iocmap contacts import FILE`: the contacts of provinces, communes and ministries for
notices, from a sheet (one row per person; each holder's list is replaced by its rows).
Prints counts only: contacts are personal data and stay out of terminals' scrollback."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Contacts for notices (danh bạ nhận phiếu nhắc).")


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="CSV or XLSX: Mã đơn vị, Vai trò, Họ và tên, …"),
    actor: str | None = typer.Option(None, help="who imports (default: cli:<user>)"),
) -> None:
    """Replace the contacts of every unit or ministry the sheet names (all or nothing)."""
    from api.settings import Settings
    from geo.contacts import import_contacts
    from geo.db import app_database_url, make_engine
    from geo.errors import IocmapError
    from geo.ingest.report import default_actor

    Settings().configure_readers()  # the sandbox's limits for the untrusted file
    engine = make_engine(app_database_url())
    try:
        result = import_contacts(engine, file, actor or default_actor())
    except IocmapError as exc:
        typer.echo(f"lỗi: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    for e in result["errors"]:
        typer.echo(f"lỗi: {result['file']}, dòng {e['row']}, cột '{e['field']}': {e['reason']}",
                   err=True)  # fmt: skip
    if not result["ok"]:
        typer.echo("không ghi gì (nothing imported)", err=True)
        raise typer.Exit(2)
    typer.echo(
        f"Đã cập nhật danh bạ của {result['holders']} đơn vị: {result['contacts']} người"
        f" ({result['holders']} holders, {result['contacts']} contacts)"
    )
