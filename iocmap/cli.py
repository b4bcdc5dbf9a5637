"""The ``iocmap`` command: thin wrappers over geo/, api/ and maps/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from iocmap.contacts_cli import app as contacts_app
from iocmap.forecast_cli import forecast_app
from iocmap.imports_cli import import_app
from iocmap.maps_cli import maps_app
from iocmap.remind_cli import app as remind_app
from iocmap.report_cli import report_app
from iocmap.tokens_cli import app as tokens_app
from iocmap.worker_cli import worker

app = typer.Typer(
    help="iocmap — Resolution 57 monitoring map service",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The database: local cluster and migrations", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(maps_app, name="maps")
app.add_typer(tokens_app, name="token")
app.add_typer(remind_app, name="remind")
app.add_typer(forecast_app, name="forecast")
app.add_typer(report_app, name="report")
app.command("worker")(worker)
app.add_typer(contacts_app, name="contacts")


def _external_db() -> bool:
    return bool(os.environ.get("IOCMAP_DATABASE_URL"))


@db_app.command("up")
def db_up() -> None:
    """Start the project-local PostGIS (var/pg) unless IOCMAP_DATABASE_URL is set."""
    if _external_db():
        typer.echo("IOCMAP_DATABASE_URL is set: using that database, no local cluster started")
        return
    from iocmap import devdb as localdb

    c = localdb.up()
    typer.echo(f"local PostGIS running on 127.0.0.1:{c.port} (data in {c.datadir})")


@db_app.command("down")
def db_down() -> None:
    """Stop the project-local cluster (data is kept; `db up` starts it again)."""
    from iocmap import devdb as localdb

    stopped = localdb.stop(localdb.cluster())
    typer.echo("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Where the local cluster lives and whether it runs."""
    from iocmap import devdb as localdb

    info = localdb.status()
    if _external_db():
        info["note"] = "IOCMAP_DATABASE_URL is set; the service uses that database"
    typer.echo(json.dumps(info, indent=2))


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply Alembic migrations as the owner (idempotent) and grant the app role
    (IOCMAP_APP_ROLE, default iocmap_app; created when missing) its privileges."""
    from geo.db import database_url
    from geo.migrate import upgrade
    from geo.roles import RoleError

    try:
        role = upgrade(database_url())
    except RoleError as exc:
        typer.echo(f"iocmap db migrate: {exc.message}", err=True)
        raise typer.Exit(1) from None
    who = f"; the app connects as '{role}'" if role else "; the app connects as the owner"
    typer.echo(f"schema up to date{who}")


@app.command()
def demo(
    rebuild: bool = typer.Option(False, help="regenerate geometry, ignore the cache"),
    force: bool = typer.Option(False, "--force", help="replace imported data as well"),
    boundaries: Path | None = typer.Option(
        None,
        "--boundaries",
        exists=True,
        file_okay=False,
        help="folder of real boundary files: the demo figures are drawn on these shapes",
    ),
) -> None:
    """Load the generated demo data set (replaces all data in the database).

    A database holding imported data (official boundaries, sheets) is left alone unless
    --force: the command says so and exits 0, so `make demo` serves what is there."""
    from sqlalchemy.exc import DBAPIError

    from geo.db import make_engine
    from geo.demo.loader import SOURCE, load_demo, load_demo_on_boundaries
    from geo.errors import IocmapError
    from geo.read.provenance import imported_data

    engine = make_engine()  # the owner: only it may reset the audit trail
    try:
        try:
            with engine.connect() as conn:
                found = imported_data(conn, SOURCE)
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            typer.echo(f"iocmap demo: cannot read the database ({reason}); run `iocmap db migrate`")
            raise typer.Exit(1) from None
        if found and not force:
            typer.echo(
                f"iocmap demo: kept the data in this database ({', '.join(found)});"
                " --force replaces it with the demo set"
            )
            return
        try:
            if boundaries is None:
                counts = load_demo(engine, use_cache=not rebuild)
            else:
                counts = load_demo_on_boundaries(
                    engine, boundaries, use_cache=not rebuild, echo=typer.echo
                )
        except IocmapError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"demo data loaded: {counts}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = typer.Option(
        None,
        min=1,
        max=64,
        help="uvicorn worker processes (default: from IOCMAP_DB_CONCURRENCY, see README)",
    ),
    loop: str = typer.Option(
        "asyncio",
        help="event loop: asyncio (default: serves ready connections in turn, so /healthz "
        "is not starved by a crowd) or uvloop (more req/s, less fair under a burst)",
    ),
) -> None:
    """Serve the API and the maps (Ctrl-C stops cleanly)."""
    import uvicorn

    from api.settings import Settings
    from api.slow_clients import TimedHttpToolsProtocol

    settings = Settings(workers=workers) if workers else Settings()
    count = settings.worker_count()
    # every worker must know the count to take its share of IOCMAP_DB_CONCURRENCY
    os.environ["IOCMAP_WORKERS"] = str(count)
    # a worker over its memory share may exit to be replaced: only under a supervisor (this
    # process), and each worker goes when it does, even killed outright (api/app.py)
    os.environ["IOCMAP_SUPERVISED"] = str(os.getpid()) if count > 1 else "0"
    # fewer malloc arenas: the build lane's threads otherwise each keep a heap of their own
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    typer.echo(
        f"{count} worker(s), each: {settings.db_slots()} database slots, "
        f"pool {settings.pool_kwargs()['pool_size']}+{settings.pool_kwargs()['max_overflow']}"
    )
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=count,
        # uvicorn's httptools protocol + a request-head deadline and a body idle timeout
        http=TimedHttpToolsProtocol,
        loop=loop,
        log_level="info",
        # the app writes its own JSON access line per request (api/observability.py,
        # path without the query string); uvicorn's would repeat it, with ?token= in it
        access_log=False,
        backlog=4096,
        # uvicorn's supervisor kills a worker that misses a 5 s ping; a worker importing
        # the app on a busy box, or holding the GIL through a burst, is not dead
        timeout_worker_healthcheck=30,
    )


if __name__ == "__main__":
    app()
