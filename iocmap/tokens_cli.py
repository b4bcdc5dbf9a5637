"""`iocmap token create|list|revoke`: manage API tokens from the server's shell."""

from __future__ import annotations

import json

import typer

app = typer.Typer(help="API tokens: who may change what", no_args_is_help=True)


def _engine():
    from geo.db import app_database_url, make_engine

    return make_engine(app_database_url())


@app.command("create")
def create(
    name: str = typer.Option(..., help="who holds it, e.g. 'so-khcn-ca-mau'"),
    role: str = typer.Option("editor", help="viewer | editor | admin"),
    scope: str = typer.Option(
        None, help="province:96, commune:31078 or agency:BKHCN (editors need one)"
    ),
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from geo.tokens import TokenError, create_token

    engine = _engine()
    try:
        with engine.begin() as conn:
            token_id, plain = create_token(conn, name, role, scope)
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
