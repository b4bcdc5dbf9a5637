"""Test fixtures: a real PostGIS (the project-local cluster, or one you point us at).

Which database: ``IOCMAP_TEST_DATABASE_URL`` if set; otherwise a database named
``<name>_test`` next to ``IOCMAP_DATABASE_URL`` (created if missing); otherwise
``iocmap_test`` in the project-local cluster. Tests never touch the demo database.
The demo data is loaded once per session (its geometry comes from the cache).
"""

from __future__ import annotations

import os

os.environ.setdefault("IOCMAP_LOG_LEVEL", "WARNING")  # keep access logs out of test output

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.settings import Settings
from geo.db import make_engine, normalise_url

pytest_plugins = ["tests.import_fixtures"]  # scratch databases + file builders for imports

# Tests change data and read it back at once: read the data version on every request
# (production trusts it for 1 s, see api/cache.StateCache; tests/test_api_cache.py covers that).
os.environ.setdefault("IOCMAP_VERSION_TTL", "0")
# Page warming after imports (api/routers/maps.schedule_warm) would build 36 pages in the
# background after every test import; tests/test_pages_warm.py turns it on where tested.
os.environ.setdefault("IOCMAP_WARM_PAGES", "0")


def _test_url() -> str:
    explicit = os.environ.get("IOCMAP_TEST_DATABASE_URL")
    if explicit:
        test_url = make_url(normalise_url(explicit))
    else:
        base = os.environ.get("IOCMAP_DATABASE_URL")
        if base:
            url = make_url(normalise_url(base))
        else:
            from iocmap import devdb as localdb

            url = make_url(localdb.up().url)
        test_url = url.set(database=f"{url.database}_test")
    create_database_if_missing(test_url)
    return test_url.render_as_string(hide_password=False)


def create_database_if_missing(url) -> None:
    """CREATE DATABASE through the server's maintenance database (idempotent)."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("select 1 from pg_database where datname = :n"), {"n": url.database}
        ).first():
            conn.execute(text(f'create database "{url.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def db_url() -> str:
    from geo.migrate import upgrade

    url = _test_url()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Engine:
    from geo.demo.loader import load_demo

    eng = make_engine(db_url)
    load_demo(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def client(engine: Engine, db_url: str) -> TestClient:
    app = create_app(Settings(database_url=db_url))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(engine: Engine, db_url: str) -> str:
    """The real app under uvicorn on a free loopback port (for browsers and GDAL)."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(database_url=db_url))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    import shutil

    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=exe,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()
