"""Test fixtures: a real PostGIS (the project-local cluster, or one you point us at).

Which database: ``IOCMAP_TEST_DATABASE_URL`` if set; otherwise a database named
``<name>_test`` next to ``IOCMAP_DATABASE_URL`` (created if missing); otherwise
``iocmap_test`` in the project-local cluster. Tests never touch the demo database.
Every session gets a fresh copy of a template database holding the schema and the demo data
(``tests/db_template.py``); the template is built only when the migrations or the demo
generator change. Under pytest-xdist each worker has its own copy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

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
# Page warming after imports (api/page_warm.schedule_warm) would build 36 pages in the
# background after every test import; tests/test_pages_warm.py turns it on where tested.
os.environ.setdefault("IOCMAP_WARM_PAGES", "0")
# The in-process test servers share their process with pytest, Playwright and every fixture:
# its RSS is not a worker's, so the memory watch (api/memory.py, tested on its own) would shed
# the cache and collect garbage for memory the server does not hold. The watch is tested on
# its own (tests/test_memory_budget.py) and measured on a real server by bench/memory_load.py.
os.environ.setdefault("IOCMAP_MEMORY_BUDGET_MB", "100000")


def _base_test_url():
    """The test database's URL before any per-worker suffix (see the module docstring)."""
    explicit = os.environ.get("IOCMAP_TEST_DATABASE_URL")
    if explicit:
        return make_url(normalise_url(explicit))
    base = os.environ.get("IOCMAP_DATABASE_URL")
    if base:
        url = make_url(normalise_url(base))
    else:
        from iocmap import devdb as localdb

        url = make_url(localdb.up().url)
    return url.set(database=f"{url.database}_test")


def create_database_if_missing(url) -> None:
    """CREATE DATABASE through the server's maintenance database (idempotent)."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("select 1 from pg_database where datname = :n"), {"n": url.database}
        ).first():
            conn.execute(text(f'create database "{url.database}"'))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def reply_links() -> None:
    """A key for the notices' reply links in tests that issue notices without an app (an
    app configures its own at start-up, ``Settings.configure_reply_links``)."""
    from geo.remind import reply

    reply.configure("tests-reply-key-" + "k" * 32, "http://127.0.0.1:8000", 30, None)


@pytest.fixture(scope="session")
def db_url() -> str:
    """This session's (and this xdist worker's) test database: a fresh copy of the template
    that holds the migrated schema and the demo data (built once per migration set and demo
    generator, ``tests/test_db_template.py``), so no session loads the demo itself."""
    from tests.db_template import clone, ensure_template

    base = _base_test_url()
    template = ensure_template(base)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = base.set(database=f"{base.database}_{worker}") if worker else base
    clone(template, url)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Engine:
    eng = make_engine(db_url)
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


def browser_executable() -> str:
    """Debian's Chromium headless shell when installed (``chromium-headless-shell``, built
    from the same Chromium source and version as ``chromium``, and what Playwright drives in
    headless mode by default), else ``chromium`` itself. Why: the full browser's headless
    mode cost three times the CPU per page (measured: six page loads 13 → 4.4 CPU-s), and
    the browser tests were the largest share of `make test`'s CPU."""
    import shutil

    return (
        shutil.which("chromium-headless-shell") or shutil.which("chromium") or "/usr/bin/chromium"
    )


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    exe = browser_executable()
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


# --- kinds, set when collected ------------------------------------------------------------
# Why automatic: `make test-fast` leaves the slow kinds out and `make test` runs the `quiet`
# ones alone after the rest has run in parallel; a new test gets its kind from what it uses.
SERVER_MODULES = {  # real servers or processes of their own (out of `make test-fast`)
    "test_import_kill",
    "test_deploy",
    "test_upload_attempts",
    "test_deliveries",  # SMTP and HTTP receivers on loopback, worker processes, a minute's outage
    "test_wall_room",  # its own server on a private database; screenshots of every view
}
# What they measure is time or memory under a load they make themselves (200 clients and
# /healthz under 1 s, a 408 at 10 s, a child's peak, a wall's refresh in seconds): beside
# three other workers' tests the numbers would be the machine's, so these run one at a time
# on a quiet machine. Why not every server test: the rest wait (on a mail outage, a
# browser's screenshots) more than they compute, and waiting is best done in parallel.
QUIET_MODULES = {
    "test_crowds",
    "test_faults",
    "test_prod_local",
    "test_untrusted_server",
    "test_download_memory",
    "test_slow_clients",
    "test_wall",  # refresh timing and server restarts, measured in seconds
    "test_replica",  # a "replica" on the same cluster reports lag 0 only while no one writes
}
HEAVY_MODULES = {  # long but measuring nothing: beside the others in `make test`, not in -fast
    "test_schemathesis",  # property-based walk of every operation against a live server
    "test_deploy",  # compose and nginx configuration checked by their own validators
}
REAL_SAMPLE_MODULES = {"test_real_sample", "test_import_real_failures"}

# Long tests, by measurement: a test whose body took LONG_SECONDS or more in the recorded run
# (tests/durations.json, refreshed by `make test-durations`) is `heavy` too — whole-dataset
# checks, subprocess tools, imports byte-compared before and after. Why measured, not listed:
# the fast loop stays fast as tests grow without anyone keeping a list; a new test counts as
# fast until the next recording. Only the body (``call``) counts: the first test of a worker
# pays the session's set-up, which says nothing about the test.
DURATIONS = Path(__file__).with_name("durations.json")
LONG_SECONDS = 2.0


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--store-durations",
        action="store_true",
        help="write each test's body time to tests/durations.json (what `heavy` reads)",
    )


def _recorded() -> dict[str, float]:
    try:
        return json.loads(DURATIONS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


_measured: dict[str, float] = {}


def pytest_runtest_logreport(report) -> None:
    if report.when == "call":
        _measured[report.nodeid] = round(report.duration, 2)


def pytest_sessionfinish(session, exitstatus) -> None:
    config = session.config
    if not config.getoption("--store-durations") or hasattr(config, "workerinput"):
        return
    kept = {k: v for k, v in sorted(_measured.items()) if v >= 0.5}
    DURATIONS.write_text(json.dumps(kept, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")


def _longest_files_first(items, recorded: dict[str, float]) -> None:
    """Order the modules by their recorded time, longest first, each module's tests kept
    together and in order. Why: ``--dist loadfile`` hands modules out in collection order;
    alphabetically the longest (``test_real_sample``) came last and ran alone at the end of
    the parallel phase. Longest-first is the classic makespan rule (LPT)."""
    total: dict[str, float] = {}
    for item in items:
        total[item.nodeid.split("::")[0]] = total.get(item.nodeid.split("::")[0], 0.0) + (
            recorded.get(item.nodeid, 0.0)
        )
    first_seen = {f: i for i, f in enumerate(dict.fromkeys(i.nodeid.split("::")[0] for i in items))}
    items.sort(
        key=lambda it: (-total[it.nodeid.split("::")[0]], first_seen[it.nodeid.split("::")[0]])
    )


def pytest_collection_modifyitems(config, items) -> None:
    recorded = _recorded()
    _longest_files_first(items, recorded)
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        names = set(getattr(item, "fixturenames", ()))
        if "browser" in names:
            item.add_marker(pytest.mark.browser)
        if module in SERVER_MODULES or module in QUIET_MODULES:
            item.add_marker(pytest.mark.server)
        if module in QUIET_MODULES:
            item.add_marker(pytest.mark.quiet)
        if module in HEAVY_MODULES or recorded.get(item.nodeid, 0.0) >= LONG_SECONDS:
            item.add_marker(pytest.mark.heavy)
        if module in REAL_SAMPLE_MODULES or "real_sample" in module:
            item.add_marker(pytest.mark.real_sample)
