"""`iocmap forecast backtest`: how well the deadline forecast did on past history."""

from __future__ import annotations

import datetime as dt

import typer

forecast_app = typer.Typer(help="Deadline forecasts: the backtest", no_args_is_help=True)


def _day(raw: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        typer.echo(f"{name}: ngày không hợp lệ / not a date (YYYY-MM-DD): {raw!r}", err=True)
        raise typer.Exit(2) from None


@forecast_app.command("backtest")
def backtest(
    at: str = typer.Option(..., "--at", help="forecast from the history as it stood on this day"),
    check: str = typer.Option(..., "--check", help="compare with what happened by this day"),
) -> None:
    """Forecast every province, commune and agency on --at against the deadline --check,
    then print per class precision/recall and the completion % error against the naive
    baseline (the value on --at carried forward). See geo/read/backtest.py for the rules."""
    from geo.db import make_engine
    from geo.read.backtest import backtest as run
    from geo.read.backtest import table

    day_at, day_check = _day(at, "--at"), _day(check, "--check")
    if day_check <= day_at:
        typer.echo("--check: phải sau --at / must be after --at", err=True)
        raise typer.Exit(2)
    engine = make_engine()
    try:
        with engine.connect() as conn:
            results = run(conn, day_at, day_check)
    finally:
        engine.dispose()
    typer.echo(table(results, day_at, day_check))
