"""Read scaling: GETs go to IOCMAP_READ_DATABASE_URL, writes to the primary, /readyz tells.

A real streaming replica is exercised by tests/test_prod_local.py; here the "replica" is a
second database with a different data version, so which one answered is visible.
"""

from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.replica import lsn_to_int
from api.settings import Settings
from tests.conftest import create_database_if_missing

READ_VERSION = 4242


@pytest.fixture(scope="module")
def read_db(db_url: str) -> str:
    """A scratch database standing in for the replica: migrated, empty, version 4242."""
    from geo.migrate import upgrade

    url = make_url(db_url)
    url = url.set(database=f"{url.database}_scratch_readdb")
    create_database_if_missing(url)
    rendered = url.render_as_string(hide_password=False)
    upgrade(rendered)
    eng = create_engine(rendered)
    with eng.begin() as conn:
        conn.execute(text("update data_state set version = :v where id = 1"), {"v": READ_VERSION})
    eng.dispose()
    return rendered


@pytest.fixture(scope="module")
def split_client(engine, db_url: str, read_db: str) -> TestClient:
    app = create_app(Settings(database_url=db_url, read_database_url=read_db))
    with TestClient(app) as c:
        yield c


def _primary_version(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("select version from data_state where id = 1")).scalar_one()


def test_without_read_url_everything_uses_the_primary(client, engine):
    ready = client.get("/readyz").json()
    assert "replica" not in ready and ready["data_version"] == _primary_version(engine)
    state = client.app.state
    assert state.read_engine is state.write_engine is state.engine
    r = client.get("/api/v1/summary", params={"as_of": "2025-06-03"})
    assert r.status_code == 200
    assert r.headers["x-served-by-db"] == "primary"


def test_get_requests_read_the_read_database(split_client, engine):
    r = split_client.get("/api/v1/provinces", params={"as_of": "2025-06-04"})
    assert r.status_code == 200
    assert r.headers["x-served-by-db"] == "replica"
    # The read database is empty at version 4242: that is what a GET sees, not the demo data.
    assert r.headers["x-data-version"] == str(READ_VERSION)
    assert r.json()["features"] == []
    assert _primary_version(engine) != READ_VERSION


def test_writes_go_to_the_primary(split_client):
    state = split_client.app.state
    assert state.read_engine is not state.write_engine
    # imports (the only writers) take api.auth.write_engine: the primary
    from api.auth import write_engine as _engine

    probe = type("R", (), {"app": split_client.app})()
    assert _engine(probe) is state.write_engine is state.engine
    assert state.write_engine.url.database != state.read_engine.url.database


def test_readyz_reports_the_replica_and_flags_a_non_standby(split_client, engine):
    r = split_client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["data_version"] == READ_VERSION  # what GET traffic is served from
    rep = body["replica"]
    assert rep["primary_data_version"] == _primary_version(engine)
    assert rep["in_recovery"] is False
    assert rep["lag_bytes"] == 0 and rep["lag_seconds"] == 0.0
    assert body["status"] == "degraded"
    assert any("not a standby" in p for p in rep["problems"])


def test_readyz_is_503_when_the_replica_is_unreachable(engine, db_url):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    app = create_app(
        Settings(database_url=db_url, read_database_url=f"postgresql://postgres@127.0.0.1:{port}/x")
    )
    with TestClient(app) as c:
        r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["status"] == "unavailable"
        assert c.get("/healthz").status_code == 200


def test_empty_read_url_means_no_replica(engine, db_url):
    """Compose passes IOCMAP_READ_DATABASE_URL="" when no replica is configured."""
    app = create_app(Settings(database_url=db_url, read_database_url=""))
    with TestClient(app) as c:
        assert "replica" not in c.get("/readyz").json()
        assert c.app.state.read_engine is c.app.state.engine


def test_lsn_arithmetic():
    assert lsn_to_int("0/0") == 0
    assert lsn_to_int("1/0") - lsn_to_int("0/FFFFFFFF") == 1
    assert lsn_to_int("16/B374D848") == (0x16 << 32) + 0xB374D848
