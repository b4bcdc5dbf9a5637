"""Read scaling: GET traffic on a PostgreSQL streaming replica, writes on the primary.

Why: the data changes only on import, reads are the load. A streaming replica (PostgreSQL's
own physical replication, ``pg_basebackup -R``) takes the reads; SQLAlchemy keeps one pool
per URL. Without ``IOCMAP_READ_DATABASE_URL`` both names point at the same engine, so
nothing changes for a single-database deployment.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, text

from api.settings import Settings
from geo.db import make_engine

# On the standby: where replay stands, and how old the last replayed commit is (0 when all
# that was received is replayed, so an idle primary does not look like a lagging replica).
# pg_last_wal_replay_lsn() is null on a primary: use its current position there.
_REPLICA_SQL = text(
    "select pg_is_in_recovery() as in_recovery,"
    " (case when pg_is_in_recovery() then pg_last_wal_replay_lsn()"
    "       else pg_current_wal_lsn() end)::text as replay_lsn,"
    " case when not pg_is_in_recovery()"
    "      or pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0.0"
    "      else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8"
    " end as lag_seconds"
)


def attach(app: FastAPI, settings: Settings) -> None:
    """Put ``write_engine`` (the primary) and ``read_engine`` (replica or primary) on app.state.

    The read engine uses REPEATABLE READ so that one request reads the data version and the
    data from the same snapshot while the replica replays an import underneath it.
    """
    app.state.write_engine = app.state.engine
    read_url = settings.app_read_url()
    if read_url:
        app.state.read_engine = make_engine(
            read_url,
            **settings.pool_kwargs(),
            isolation_level="REPEATABLE READ",
        )
        app.state.db_read_role = "replica"
    else:
        app.state.read_engine = app.state.engine
        app.state.db_read_role = "primary"


def detach(app: FastAPI) -> None:
    """Dispose the replica's pool (the primary's is disposed by the app)."""
    read = getattr(app.state, "read_engine", None)
    if read is not None and read is not app.state.engine:
        read.dispose()


def lsn_to_int(lsn: str) -> int:
    """'16/B374D848' → byte position, so two LSNs can be subtracted."""
    hi, lo = lsn.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def replica_status(write_engine: Engine, read_engine: Engine, max_lag: float) -> dict[str, Any]:
    """Replica health for /readyz: replay lag in bytes and seconds, and both data versions.

    Raises when the replica cannot be reached (GET traffic would fail: not ready).
    The primary being unreachable only degrades the answer: reads still work.
    """
    with read_engine.connect() as conn:
        row = conn.execute(_REPLICA_SQL).one()
        read_version = conn.execute(text("select version from data_state where id = 1")).scalar()
    out: dict[str, Any] = {
        "in_recovery": row.in_recovery,
        "lag_seconds": round(max(row.lag_seconds or 0.0, 0.0), 3),
        "lag_bytes": None,
        "data_version": read_version,
        "primary_data_version": None,
        "max_lag_seconds": max_lag,
    }
    problems = []
    try:
        with write_engine.connect() as conn:
            prow = conn.execute(
                text(
                    "select pg_current_wal_lsn()::text as lsn,"
                    " (select version from data_state where id = 1) as version"
                )
            ).one()
        out["primary_data_version"] = prow.version
        if row.replay_lsn:
            out["lag_bytes"] = max(lsn_to_int(prow.lsn) - lsn_to_int(row.replay_lsn), 0)
    except Exception as exc:  # noqa: BLE001 - any failure of the primary is reported
        problems.append(f"primary unavailable: {type(exc).__name__}")
    if not row.in_recovery:
        problems.append("read database is not a standby (pg_is_in_recovery() is false)")
    if out["lag_seconds"] > max_lag:
        problems.append(f"replica lag {out['lag_seconds']} s exceeds {max_lag} s")
    out["problems"] = problems
    return out
