"""Engine and session factory: one place that knows how to reach PostGIS.

Why: the CLI, the API lifespan and the tests must all resolve the database the same way:
``IOCMAP_DATABASE_URL`` when set (an existing PostGIS), else the project-local cluster
that ``iocmap db up`` starts (``iocmap/devdb.py``). Only its address is known here: starting
and stopping a cluster is dev/ops work, and ``geo`` imports nothing from ``iocmap``.

Two identities (least privilege, see ``geo/roles.py``): the configured URL is the *owner*
(migrations, the demo loader that replaces everything); the service, the importers and
the token commands connect as the *app role*: ``IOCMAP_APP_DATABASE_URL`` when set, else
the owner's URL with the user swapped for ``IOCMAP_APP_ROLE`` (default ``iocmap_app``,
created by ``iocmap db migrate``; its password from ``IOCMAP_APP_DATABASE_PASSWORD`` or
the file ``IOCMAP_APP_DATABASE_PASSWORD_FILE`` when the server asks for one).
``IOCMAP_APP_ROLE=`` (empty) connects as the owner: only for a server where no second role
can be had, and the audit trail is then not protected.
"""

from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

LOCAL_PORT = 54329  # the project-local cluster's default port (IOCMAP_PG_PORT overrides)
LOCAL_DB = "iocmap"
DEFAULT_APP_ROLE = "iocmap_app"


def local_url(port: int | None = None, database: str = LOCAL_DB) -> str:
    """Where the project-local cluster listens (loopback, trust auth as ``postgres``)."""
    port = port or int(os.environ.get("IOCMAP_PG_PORT", LOCAL_PORT))
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"


def database_url() -> str:
    """The configured URL, or the local cluster's."""
    url = os.environ.get("IOCMAP_DATABASE_URL")
    if url:
        return normalise_url(url)
    return local_url()


def app_role_name(role: str | None = None) -> str:
    """The app role's name: ``role``, else ``IOCMAP_APP_ROLE``, else ``iocmap_app``;
    ``""`` means no separate role (the app connects as the owner)."""
    if role is not None:
        return role
    return os.environ.get("IOCMAP_APP_ROLE", DEFAULT_APP_ROLE)


def app_password() -> str | None:
    """The app role's password: ``IOCMAP_APP_DATABASE_PASSWORD``, else the first line of
    the file ``IOCMAP_APP_DATABASE_PASSWORD_FILE`` names (a Docker secret)."""
    password = os.environ.get("IOCMAP_APP_DATABASE_PASSWORD")
    if password:
        return password
    path = os.environ.get("IOCMAP_APP_DATABASE_PASSWORD_FILE")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return fh.readline().strip() or None
    return None


def app_database_url(
    owner_url: str | None = None,
    explicit: str | None = None,
    role: str | None = None,
    password: str | None = None,
) -> str:
    """Where the app connects: the explicit app URL (``IOCMAP_APP_DATABASE_URL``), else the
    owner's URL as the app role (same host, port and database)."""
    explicit = explicit if explicit is not None else os.environ.get("IOCMAP_APP_DATABASE_URL")
    if explicit:
        return normalise_url(explicit)
    owner = normalise_url(owner_url) if owner_url else database_url()
    name = app_role_name(role)
    if not name:
        return owner
    if password is None:
        password = app_password()
    url = make_url(owner).set(username=name, password=password)
    return url.render_as_string(hide_password=False)


def as_app_role(
    url: str, owner_url: str | None = None, role: str | None = None, password: str | None = None
) -> str:
    """``url`` (e.g. a read replica's) with the owner's user swapped for the app role;
    a URL naming another user is kept as it is (the operator chose it)."""
    url = normalise_url(url)
    owner = make_url(normalise_url(owner_url) if owner_url else database_url())
    name = app_role_name(role)
    parsed = make_url(url)
    if not name or parsed.username != owner.username:
        return url
    if password is None:
        password = app_password()
    return parsed.set(username=name, password=password).render_as_string(hide_password=False)


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str | None = None, **kw) -> Engine:
    """An engine with pre-ping so a restarted database does not break a long-lived pool,
    a short connect timeout and a pool timeout so that a lost database turns into a quick
    error (the API answers 503) instead of requests that hang."""
    kw.setdefault("pool_pre_ping", True)
    kw.setdefault("connect_args", {"connect_timeout": 2})
    if "poolclass" not in kw:
        # sync endpoints run on anyio's 40 worker threads: let each get a connection
        # (10 kept + 30 on demand) rather than fail while others are briefly busy
        kw.setdefault("pool_size", 10)
        kw.setdefault("max_overflow", 30)
        kw.setdefault("pool_timeout", 15)
    engine = create_engine(url or database_url(), **kw)
    event.listen(engine, "begin", _present_token)
    return engine


TOKEN_OPTION = "iocmap_token"


def _present_token(conn) -> None:
    """A transaction of ``engine.execution_options(iocmap_token=secret)`` presents the
    caller's token secret to the database (``iocmap.token``, local to the transaction):
    the history trigger hashes it and stamps rows with that token, so the actor of a
    history row is proven by the secret, not claimed by the app (migration 0011)."""
    secret = conn.get_execution_options().get(TOKEN_OPTION)
    if not secret:
        return
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute("select set_config('iocmap.token', %s, true)", (secret,))
    finally:
        cursor.close()
