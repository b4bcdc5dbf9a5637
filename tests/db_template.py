"""The test template database: the migrated schema and the demo data, built once.

Why: loading the demo took ~17 s of every test session before its first assertion. The
template is built when its key (the migrations and the demo generator's sources, see
``template_key``) differs from the one recorded on it, under an advisory lock so parallel
workers build it once; sessions and tests then copy it with ``CREATE DATABASE … TEMPLATE``
(about a second).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError, ProgrammingError

from geo.db import make_engine

LOCK = 5_702_0023  # pg advisory lock (on the maintenance database) while building


def template_key() -> str:
    """Changes when the schema or the demo data would: then the template is rebuilt."""
    from geo.demo import loader as demo
    from geo.migrate import MIGRATIONS

    digest = hashlib.sha1(demo._cache_path().name.encode())
    for f in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(f.read_bytes())
    geo_dir = Path(demo.__file__).parents[1]
    for name in sorted(geo_dir.glob("demo/*.py")) + [geo_dir / "ingest/store.py"]:
        digest.update(name.read_bytes())
    digest.update((geo_dir / "roles.py").read_bytes())
    return digest.hexdigest()[:16]


def _admin(url: URL):
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def ensure_template(base: URL) -> str:
    """The template's name (``<base>_tpl``), built if missing or out of date."""
    from geo.demo.loader import load_demo
    from geo.migrate import upgrade

    name = f"{base.database}_tpl"
    key = template_key()
    admin = _admin(base)
    try:
        with admin.connect() as conn:
            conn.execute(text("select pg_advisory_lock(:k)"), {"k": LOCK})
            try:
                comment = conn.execute(
                    text(
                        "select shobj_description(oid, 'pg_database') from pg_database"
                        " where datname = :n"
                    ),
                    {"n": name},
                ).scalar()
                if comment != key:
                    conn.execute(text(f'drop database if exists "{name}" with (force)'))
                    conn.execute(text(f'create database "{name}"'))
                    target = base.set(database=name).render_as_string(hide_password=False)
                    upgrade(target)
                    engine = make_engine(target)
                    load_demo(engine)
                    engine.dispose()
                    conn.execute(text(f"comment on database \"{name}\" is '{key}'"))
            finally:
                conn.execute(text("select pg_advisory_unlock(:k)"), {"k": LOCK})
    finally:
        admin.dispose()
    return name


# How copies are made: PostgreSQL 15's default (WAL_LOG) reads the template block by block
# and writes all of it to the WAL; FILE_COPY copies its files. Measured here on the 78 MB
# template: create + drop 265 → 100 ms of server CPU, 300 → 130 ms of wall (about 200
# copies per `make test`). Not durable until the next checkpoint — as the test cluster is
# not (iocmap/devdb.py NON_DURABLE).
COPY_STRATEGY = "file_copy"


def create_copy(conn, name: str, template: str) -> None:
    """``CREATE DATABASE name TEMPLATE template``, by file copy where the server has the
    choice (15 and later)."""
    version = int(conn.execute(text("show server_version_num")).scalar())
    how = f" strategy {COPY_STRATEGY}" if version >= 150000 else ""
    conn.execute(text(f'create database "{name}" template "{template}"{how}'))


def clone(template: str, url: URL) -> None:
    """Replace ``url``'s database with a fresh copy of ``template``."""
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{url.database}" with (force)'))
            for attempt in range(20):  # another worker may be copying the template right now
                try:
                    create_copy(conn, url.database, template)
                    break
                except (OperationalError, ProgrammingError):
                    if attempt == 19:
                        raise
                    time.sleep(0.25)
    finally:
        admin.dispose()


def drop(url: URL) -> None:
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{url.database}" with (force)'))
    finally:
        admin.dispose()
