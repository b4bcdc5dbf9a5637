"""``iocmap maps build``: standalone HTML maps (see ``maps/build.py``)."""

from __future__ import annotations

from pathlib import Path

import typer

maps_app = typer.Typer(help="Map pages: standalone exports", no_args_is_help=True)


@maps_app.command("build")
def build(
    out: Path = typer.Option(..., "--out", help="folder to write (created if missing)"),
    province: list[str] = typer.Option(
        None, "--province", help="2-digit province code (repeatable); default: all 34"
    ),
    lang: str = typer.Option("vi", help="vi or en"),
    details: bool = typer.Option(
        False, help="embed every commune's task list too (slower, larger files)"
    ),
) -> None:
    """Write index.html (provinces), p/{code}.html (communes) and static/ into OUT."""
    from api.app import create_app
    from api.settings import Settings
    from maps.build import build_site

    if lang not in ("vi", "en"):
        raise typer.BadParameter("lang must be vi or en", param_hint="--lang")
    bad = [p for p in province or [] if not (len(p) == 2 and p.isdigit())]
    if bad:
        raise typer.BadParameter(
            f"not a 2-digit province code: {', '.join(bad)}", param_hint="--province"
        )
    from maps.inprocess import APIError

    app = create_app(Settings())
    try:
        files = build_site(app, out, list(province or []) or None, lang, details)
    except LookupError as exc:
        raise typer.BadParameter(str(exc), param_hint="--province") from exc
    except APIError as exc:  # the API refused a request of the build: say which one
        typer.echo(f"maps build: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"wrote {len(files)} pages and static/ into {out} (open {out / 'index.html'})")
