"""`make prod-local` for real: nginx → 2 uvicorn processes → PostGIS primary + streaming
replica (pg_basebackup -R), all on loopback under var/prod/test-*, torn down even on failure.

One bounded run (about a minute on 2 cores): load through nginx, SIGKILL of one API process
mid-run, a write on the primary followed until nginx serves it, proof that the reads were
the replica's. Numbers are printed (pytest -s) for the record; bench-grade speed is not asserted.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
from pathlib import Path

import httpx
import pytest

from deploy import topology
from iocmap import devdb as localdb

pytestmark = [pytest.mark.prod_local, pytest.mark.slow]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def topo():
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx not installed: run `make system` (Debian package nginx)")
    shared = localdb.cluster()
    shared_was_up = localdb.is_running(shared)
    t = topology.new(f"test-{os.getpid()}-{secrets.token_hex(3)}")
    try:
        topology.up(t, say=print)
        yield t
    finally:
        topology.down(t)
    # Never the shared cluster: still as it was.
    assert localdb.is_running(shared) == shared_was_up


def test_readyz_through_nginx_reports_the_streaming_replica(topo):
    r = httpx.get(topo.url + "/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok", body
    rep = body["replica"]
    assert rep["in_recovery"] is True and rep["problems"] == []
    assert rep["data_version"] == rep["primary_data_version"] == body["data_version"]
    assert isinstance(rep["lag_bytes"], int) and rep["lag_seconds"] < 1


def test_nginx_caches_geojson_and_answers_if_none_match_itself(topo):
    path = topo.url + "/api/v1/provinces?zoom=6"
    first = httpx.get(path)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/geo+json")
    assert first.headers["x-served-by-db"] == "replica"
    assert len(first.json()["features"]) == 34
    again = httpx.get(path)
    assert again.headers["x-cache-status"] in ("HIT", "REVALIDATED", "STALE", "UPDATING")
    assert again.headers["etag"] == first.headers["etag"]
    cond = httpx.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert cond.status_code == 304
    # Writes and pages are never cached; a token bypasses the cache.
    assert "x-cache-status" not in httpx.get(topo.url + "/readyz").headers
    bypass = httpx.get(path, headers={"Authorization": "Bearer nothing"})
    assert bypass.headers.get("x-cache-status") == "BYPASS"


def test_load_crash_write_and_teardown(topo):
    from deploy.check import run_check

    report = run_check(topo, total=1000, concurrency=6, distinct_dates=40, max_seconds=90)
    print(json.dumps(report, indent=1))
    load = report["load"]

    # Bounded load completed, nothing failed although API process 1 was SIGKILLed mid-run.
    assert load["requests"] == 1000, load
    assert load["failed"] == 0, load["failures"]
    assert report["killed_process_exit"] == -9
    assert 0 < report["events"]["killed_after_requests"] < 1000
    # nginx met the dead process (connection reset/refused) and handled it: a retry on the
    # other process, or the stale copy for a background cache refresh.
    assert report["nginx"]["upstream_errors_for_killed"] >= 1, report["nginx"]
    assert not _listening(topo.api_ports[0])

    # Reads were the replica's: data tables scanned there, never on the primary.
    assert "primary" not in load["served_by_db"] and load["served_by_db"].get("replica", 0) > 0
    delta = report["db_reads_delta"]
    assert delta["replica"]["table_scans"] > 0
    assert delta["primary"]["table_scans"] == 0, delta
    assert load["nginx_cache"].get("HIT", 0) > 0  # and nginx absorbed repeated GETs

    # Writes reach the replica within a second (measured quiet, after the load) and nginx
    # serves them right after; under load they still arrive within a few seconds.
    idle, busy = report["freshness_idle"], report["freshness_under_load"]
    assert idle["replica_s"] is not None and idle["replica_s"] < 1.0, idle
    assert idle["nginx_readyz_s"] is not None and idle["nginx_readyz_s"] < 1.0, idle
    assert idle["nginx_cached_summary_s"] is not None and idle["nginx_cached_summary_s"] < 4, idle
    assert busy["replica_s"] is not None and busy["replica_s"] < 3.0, busy
    assert busy["nginx_cached_summary_s"] is not None, busy
    assert busy["summary_as_of"] == "2025-11-14"  # the write changed what users see
    assert report["replication_seen_by_primary"]["samples_not_streaming"] == 0

    # Teardown: every process and port gone, the directory removed.
    pids = [p.pid for p in topo.procs.values()]
    down_s = topology.down(topo)
    print(f"teardown {down_s} s; bring-up timings {topo.timings}")
    for port in [topo.nginx_port, *topo.api_ports, topo.primary.port, topo.replica.port]:
        assert not _listening(port), port
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists()
            or b"zombie" in Path(f"/proc/{pid}/status").read_bytes().lower()
        )
    assert not topo.root.exists()


def test_a_crashed_run_is_cleaned_up_by_the_next(tmp_path):
    """A state file whose owner died: clean_stale stops what it names and removes it."""
    name = f"test-stale-{secrets.token_hex(3)}"
    root = topology.PROD_ROOT / name
    root.mkdir(parents=True)
    (root / "state.json").write_text(
        json.dumps(
            {
                "owner_pid": 2**22 + 12345,  # above pid_max: certainly not alive
                "nginx_port": 1,
                "api_ports": [],
                "clusters": [str(root / "primary" / "data")],
                "cluster_ports": [1],
                "pids": {},
            }
        )
    )
    assert root in topology.clean_stale()
    assert not root.exists()
