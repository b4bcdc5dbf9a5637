"""`iocmap token create|list|revoke|rotate`: manage API tokens from the server's shell.

Why as the owner: the app role may not write ``api_token`` (migration 0011), so a
compromised service cannot mint or promote tokens; whoever holds the owner's URL (the
server's shell) manages them."""

from __future__ import annotations

import json

import typer

app = typer.Typer(help="API tokens: who may change what", no_args_is_help=True)


def _engine():
    from geo.db import database_url, make_engine

    return make_engine(database_url())


def _lifetime(days: float | None) -> float:
    """``--days``, else the configured default (``IOCMAP_TOKEN_LIFETIME_DAYS``)."""
    if days is not None:
        return days
    from api.settings import Settings

    return Settings().token_lifetime_days


@app.command("create")
def create(
    name: str = typer.Option(..., help="who holds it, e.g. 'so-khcn-ca-mau'"),
    role: str = typer.Option("editor", help="viewer | editor | admin"),
    scope: str = typer.Option(
        None, help="province:96, commune:31078 or agency:BKHCN (editors need one)"
    ),
    days: float = typer.Option(None, help="lifetime in days (default IOCMAP_TOKEN_LIFETIME_DAYS)"),
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from geo.tokens import TokenError, create_token

    engine = _engine()
    try:
        with engine.begin() as conn:
            token_id, plain = create_token(conn, name, role, scope, _lifetime(days))
    except TokenError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    typer.echo(f"token id {token_id} ({role}, scope {scope or 'national'}); shown only now:")
    typer.echo(plain)


@app.command("list")
def list_() -> None:
    """List tokens (prefixes only, never secrets)."""
    from geo.tokens import list_tokens

    engine = _engine()
    with engine.connect() as conn:
        rows = list_tokens(conn)
    engine.dispose()
    typer.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=2))


@app.command("revoke")
def revoke(token_id: int) -> None:
    """Revoke a token (kept for the audit trail)."""
    from geo.tokens import revoke_token

    engine = _engine()
    with engine.begin() as conn:
        done = revoke_token(conn, token_id)
    engine.dispose()
    if not done:
        typer.echo(f"no live token with id {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked token {token_id}")


@app.command("rotate")
def rotate(
    name: str,
    grace_minutes: float = typer.Option(
        0, help="minutes the old secret keeps working (0 = revoked now; at most 1440)"
    ),
    days: float = typer.Option(None, help="lifetime in days (default IOCMAP_TOKEN_LIFETIME_DAYS)"),
) -> None:
    """A new secret for the live token NAME (same role and scope); the old one is revoked,
    or expires after --grace-minutes."""
    from geo.tokens import TokenError, rotate_token

    engine = _engine()
    try:
        with engine.begin() as conn:
            new_id, plain, old_id = rotate_token(conn, name, grace_minutes, _lifetime(days))
    except TokenError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    ends = f"expires in {grace_minutes:g} min" if grace_minutes else "is revoked"
    typer.echo(f"token id {new_id} replaces {old_id} (which {ends}); shown only now:")
    typer.echo(plain)
