"""The prod-local acceptance run: bounded load through nginx, a crash of one API process
mid-run, a write on the primary followed until it is served, and proof that reads hit the
replica. Returns the measurements; the test and `python -m deploy.prod_local check` use it.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
import threading
import time
from typing import Any

import httpx
import psycopg

from deploy import load
from deploy.topology import Topology, kill_api

NEW_REPORTING_DATE = dt.date(2025, 11, 14)


def _db_reads(dsn: str) -> dict[str, int]:
    """Scans of the data tables and transactions, as counted by this server itself."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        scans = conn.execute(
            "select coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0)"
            " from pg_stat_user_tables where relname in ('task', 'admin_unit')"
        ).fetchone()[0]
        xacts = conn.execute(
            "select xact_commit + xact_rollback from pg_stat_database"
            " where datname = current_database()"
        ).fetchone()[0]
    return {"table_scans": int(scans), "transactions": int(xacts)}


def paths(t: Topology, distinct_dates: int = 100) -> list[str]:
    """A mix that both hits nginx's cache and reaches the replica (distinct as_of dates)."""
    codes = [f["id"] for f in httpx.get(t.url + "/api/v1/provinces?zoom=5").json()["features"]]
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=3 * i) for i in range(distinct_dates)]
    mix: list[str] = []
    for i, day in enumerate(days):
        mix += [
            "/api/v1/provinces?zoom=5",
            "/api/v1/summary",
            f"/api/v1/provinces/{codes[i % len(codes)]}/communes?zoom=8",
            f"/api/v1/summary?as_of={day.isoformat()}",
            "/readyz",
        ]
    return mix


def follow_write(t: Topology, timeout: float = 10.0) -> dict[str, Any]:
    """Commit a new data version on the primary; time until the replica, nginx's uncached
    /readyz and nginx's cached /api/v1/summary all show it."""
    from geo.db import make_engine
    from geo.ingest.store import bump_version

    engine = make_engine(t.primary.url, pool_size=1)
    probe = psycopg.connect(Topology.dsn(t.replica), autocommit=True)  # open before the write
    try:
        with engine.begin() as conn:
            new = bump_version(conn, NEW_REPORTING_DATE, "prod-local check")
        committed = time.monotonic()
        out = _follow(t, probe, new, committed, timeout)
    finally:
        probe.close()
        engine.dispose()
    return out


class LagSampler(threading.Thread):
    """Samples the primary's own view of its standby (pg_stat_replication) every 0.2 s."""

    SQL = (
        "select coalesce(extract(epoch from max(replay_lag)), 0)::float8,"
        " coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::bigint,"
        " count(*) filter (where state = 'streaming')"
        " from pg_stat_replication"
    )

    def __init__(self, primary_dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = primary_dsn
        self.stop = threading.Event()
        self.samples = 0
        self.max_replay_lag_s = 0.0
        self.max_lag_bytes = 0
        self.not_streaming = 0

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.wait(0.2):
                lag_s, lag_b, streaming = conn.execute(self.SQL).fetchone()
                self.samples += 1
                self.max_replay_lag_s = max(self.max_replay_lag_s, lag_s)
                self.max_lag_bytes = max(self.max_lag_bytes, int(lag_b))
                self.not_streaming += streaming == 0

    def report(self) -> dict[str, Any]:
        self.stop.set()
        self.join(timeout=5)
        return {
            "samples": self.samples,
            "max_replay_lag_s": round(self.max_replay_lag_s, 4),
            "max_lag_bytes": self.max_lag_bytes,
            "samples_not_streaming": self.not_streaming,
        }


def _follow(t: Topology, probe, new: int, committed: float, timeout: float) -> dict[str, Any]:
    """Poll each reader until it shows version ``new``: seconds since the commit, or None."""
    out: dict[str, Any] = {"new_version": new}

    def replica_version() -> int:
        return probe.execute("select version from data_state where id = 1").fetchone()[0]

    def until(label: str, seen) -> None:
        deadline = committed + timeout
        while time.monotonic() < deadline:
            if seen():
                out[label] = round(time.monotonic() - committed, 3)
                return
            time.sleep(0.005)
        out[label] = None

    with httpx.Client(base_url=t.url, timeout=5) as client:
        until("replica_s", lambda: replica_version() == new)
        until("nginx_readyz_s", lambda: client.get("/readyz").json().get("data_version") == new)

        def summary_shows_it() -> bool:
            r = client.get("/api/v1/summary")
            out["summary_as_of"] = r.headers.get("x-data-as-of")
            return r.headers.get("x-data-version") == str(new)

        until("nginx_cached_summary_s", summary_shows_it)
    return out


def retried_requests(t: Topology, dead_port: int) -> dict[str, int]:
    """What nginx did about the killed process: its upstream errors (error.log) and the
    client requests answered by the other process after a retry (access.log). Failures of
    background cache refreshes are handled by serving the stale copy, so the error count is
    the one that always shows the crash."""
    lines = (t.root / "nginx" / "access.log").read_text().splitlines()
    errors = (t.root / "nginx" / "error.log").read_text().splitlines()
    retried = [ln for ln in lines if re.search(r'up="[^"]*,', ln)]
    dead = f"127.0.0.1:{dead_port}"
    return {
        "access_log_lines": len(lines),
        "retried": len(retried),
        "retried_away_from_killed": sum(f"{dead}," in ln for ln in retried),
        "upstream_errors_for_killed": sum(
            f'upstream: "http://{dead}' in ln and "[error]" in ln for ln in errors
        ),
    }


def _load_process(kwargs: dict[str, Any], progress, results) -> None:
    """Child process: run the load, note the replica lag each /readyz reports, send it back."""
    lag = {"max_lag_seconds": 0.0, "max_lag_bytes": 0, "readyz_seen": 0}

    def watch(path: str, r: httpx.Response) -> None:
        if path == "/readyz" and r.status_code == 200:
            rep = r.json().get("replica") or {}
            lag["readyz_seen"] += 1
            lag["max_lag_seconds"] = max(lag["max_lag_seconds"], rep.get("lag_seconds") or 0.0)
            lag["max_lag_bytes"] = max(lag["max_lag_bytes"], rep.get("lag_bytes") or 0)

    result = load.run(**kwargs, on_response=watch, progress=progress)
    results.put({"load": result.summary(), "readyz_lag": lag})


def run_check(
    t: Topology,
    total: int = 1500,
    concurrency: int = 8,
    max_seconds: float = 60.0,
    kill_at: float = 0.3,
    write_at: float = 0.6,
    distinct_dates: int = 100,
) -> dict[str, Any]:
    """Load through nginx; kill API process 1 at ``kill_at`` of the requests; write on the
    primary at ``write_at``; measure. Never raises for a failed expectation: it reports."""
    mix = paths(t, distinct_dates)
    primary, replica = Topology.dsn(t.primary), Topology.dsn(t.replica)
    before = {"primary": _db_reads(primary), "replica": _db_reads(replica)}
    sampler = LagSampler(primary)
    sampler.start()
    # The load runs in its own process so that our probes below are not slowed by its GIL.
    ctx = multiprocessing.get_context("spawn")
    progress, results = ctx.Value("i", 0), ctx.Queue()
    kwargs = {
        "base_url": t.url,
        "paths": mix,
        "total": total,
        "concurrency": concurrency,
        "max_seconds": max_seconds,
    }
    child = ctx.Process(target=_load_process, args=(kwargs, progress, results), daemon=True)
    child.start()
    events: dict[str, Any] = {}
    try:
        while child.is_alive() and progress.value < kill_at * total:
            time.sleep(0.01)
        dead_port = t.api_ports[0]
        events["killed_pid"] = kill_api(t, 0)
        events["killed_after_requests"] = progress.value
        while child.is_alive() and progress.value < write_at * total:
            time.sleep(0.01)
        events["write_after_requests"] = progress.value
        freshness = follow_write(t)
        outcome = results.get(timeout=max_seconds + 60)
        child.join(timeout=30)
    finally:
        if child.is_alive():
            child.kill()
        replication = sampler.report()
    freshness_idle = follow_write(t)
    time.sleep(1.2)  # backends flush their statistics at most once a second
    after = {"primary": _db_reads(primary), "replica": _db_reads(replica)}
    return {
        "load": outcome["load"],
        "events": events,
        "freshness_under_load": freshness,
        "freshness_idle": freshness_idle,
        "replica_lag_seen_by_readyz": outcome["readyz_lag"],
        "replication_seen_by_primary": replication,
        "db_reads_delta": {
            role: {k: after[role][k] - before[role][k] for k in before[role]} for role in before
        },
        "nginx": retried_requests(t, dead_port),
        "killed_process_exit": t.procs["api-1"].returncode,
    }
