"""Faults: when PostGIS goes away the API says so quickly, and recovers by itself."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from iocmap import devdb as localdb

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def own_cluster():
    """A throwaway cluster of our own: stopping the shared one would break other tests."""
    import shutil

    root = REPO / "var" / "faults"
    shutil.rmtree(root, ignore_errors=True)
    c = localdb.Cluster(datadir=root / "data", port=_free_port(), database="faults")
    localdb.init(c)
    localdb.start(c)
    localdb.ensure_database(c)
    from geo.migrate import upgrade

    upgrade(c.url)
    yield c
    localdb.stop(c)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def server(own_cluster):
    import threading

    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    port = _free_port()
    app = create_app(Settings(database_url=own_cluster.url))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_database_stopped_gives_quick_503_then_recovers(own_cluster, server):
    with httpx.Client(base_url=server, timeout=10) as http:
        assert http.get("/api/v1/summary").status_code == 200
        assert http.get("/readyz").status_code == 200

        localdb.stop(own_cluster)
        for path in ("/api/v1/summary", "/api/v1/provinces", "/readyz"):
            t0 = time.monotonic()
            r = http.get(path)
            elapsed = time.monotonic() - t0
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert r.headers["retry-after"]
            assert elapsed < 1.0, f"{path} took {elapsed:.2f}s"
        assert http.get("/healthz").status_code == 200  # the process itself is fine

        localdb.start(own_cluster)
        deadline = time.monotonic() + 10
        while http.get("/api/v1/summary").status_code != 200:
            assert time.monotonic() < deadline, "did not recover without a restart"
            time.sleep(0.2)
        assert http.get("/readyz").json()["status"] == "ok"
