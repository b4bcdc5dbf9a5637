"""The app's database role: least privilege, and an audit trail it cannot rewrite.

Why: the service, the importers and the token commands used to connect as the superuser
that owns the schema, so anything that reached SQL through them could delete history,
disable triggers or switch ``session_replication_role``. Now the owner (the configured
URL's user) only migrates and resets demo data, and the app connects as a role that owns
nothing, may not create roles, databases or objects, and holds exactly these grants:

- data tables: SELECT, INSERT, UPDATE, DELETE (imports upsert units, tasks, indicators);
- ``api_token``: SELECT of every column but ``token_hash``, nothing else; a secret is
  checked by ``iocmap_authenticate`` (EXECUTE granted), tokens are made by the owner;
- history tables (``task_event`` and any table guarded by an ``*append_only`` trigger):
  SELECT and INSERT only: no UPDATE, DELETE or TRUNCATE;
- ``alembic_version``: SELECT; sequences: USAGE, SELECT; the database: CONNECT, TEMPORARY
  (imports stage into temp tables).

Granted again after every ``iocmap db migrate`` (``geo.migrate.upgrade``), so the tables a
later migration adds are covered without default privileges. One role serves every
database of a cluster (roles are cluster-wide, and databases copied from a template keep
their grants); name and password come from ``geo.db.app_database_url``.
"""

from __future__ import annotations

import contextlib
import time

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from geo.errors import IocmapError

HISTORY_TABLES = ("task_event",)  # append-only whatever triggers exist
READ_ONLY_TABLES = ("alembic_version",)
# tokens are the owner's (``iocmap token …``); the app reads them without their hashes and
# checks a secret through ``iocmap_authenticate`` (migration 0011)
TOKEN_TABLE = "api_token"
TOKEN_COLUMNS = (
    "id, name, token_prefix, role, scope_level, scope_code, created_at, revoked_at,"
    " last_used_at, expires_at"
)


class RoleError(IocmapError):
    """The app role cannot be set up as asked; the message says what to do."""


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq URI for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_app_role(owner_url: str, app_url: str) -> str | None:
    """Create the app role if missing and grant it what it needs in this database.

    Returns the role's name, or None when the app connects as the owner (nothing to do).
    Raises RoleError when the role would not be least-privileged or cannot be created.
    """
    owner = make_url(owner_url)
    app = make_url(app_url)
    if app.username == owner.username or not app.username:
        return None
    with psycopg.connect(_libpq(owner_url), autocommit=True, connect_timeout=5) as conn:
        _ensure_role(conn, app.username, app.password)
        for attempt in range(5):
            try:
                with conn.transaction():
                    _grant(conn, app.username)
                break
            except (psycopg.errors.InternalError, psycopg.errors.SerializationFailure):
                # "tuple concurrently updated": two migrations granting at once
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
    return app.username


def _ensure_role(conn: psycopg.Connection, name: str, password: str | None) -> None:
    """The role exists, can log in, and has no privilege beyond its grants."""
    row = conn.execute(
        "select rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls"
        " from pg_roles where rolname = %s",
        (name,),
    ).fetchone()
    ident = sql.Identifier(name)
    if row is None:
        me = conn.execute(
            "select rolsuper or rolcreaterole from pg_roles where rolname = current_user"
        ).fetchone()
        if not (me and me[0]):
            raise RoleError(
                f"app role '{name}' does not exist and the owner may not create roles: create"
                f" it (LOGIN, no other attribute) and set IOCMAP_APP_DATABASE_URL, or grant"
                f" the owner CREATEROLE"
            )
        stmt = sql.SQL(
            "create role {} login nosuperuser nocreatedb nocreaterole noinherit"
            " noreplication nobypassrls"
        ).format(ident)
        if password:
            stmt = stmt + sql.SQL(" password {}").format(sql.Literal(password))
        # another database's migration on this cluster may create it meanwhile
        with contextlib.suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            conn.execute(stmt)
        return
    if any(row):
        raise RoleError(
            f"app role '{name}' has superuser, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS:"
            f" the app must connect as an unprivileged role (ALTER ROLE {name} NOSUPERUSER"
            f" NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS)"
        )
    member = conn.execute("select pg_has_role(%s, current_user, 'MEMBER')", (name,)).fetchone()
    if member and member[0]:
        raise RoleError(f"app role '{name}' is a member of the owner role: revoke that membership")
    if password:
        conn.execute(sql.SQL("alter role {} password {}").format(ident, sql.Literal(password)))


def append_only_tables(conn: psycopg.Connection) -> list[str]:
    """History tables: the known ones and every table an ``*append_only`` trigger guards."""
    rows = conn.execute(
        "select distinct c.relname from pg_trigger t"
        " join pg_class c on c.oid = t.tgrelid join pg_proc p on p.oid = t.tgfoid"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and not t.tgisinternal"
        " and (t.tgname like '%%append_only%%' or p.proname like '%%append_only%%')"
    ).fetchall()
    return sorted({r[0] for r in rows} | set(HISTORY_TABLES))


def _grant(conn: psycopg.Connection, name: str) -> None:
    """Reset the role's privileges in this database to exactly the documented set."""
    role = sql.Identifier(name)
    row = conn.execute("select current_database()").fetchone()
    assert row is not None  # current_database() always answers
    db = row[0]
    for statement in (
        sql.SQL("grant connect, temporary on database {} to {}").format(sql.Identifier(db), role),
        sql.SQL("grant usage on schema public to {}").format(role),
        sql.SQL("revoke create on schema public from {}").format(role),
    ):
        # an owner of the tables that does not own the database or the schema may not;
        # PUBLIC's defaults (CONNECT, TEMPORARY, USAGE) then apply
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(statement)
    # tables and views of our schema, not those of extensions (spatial_ref_sys)
    tables = conn.execute(
        "select c.relname, c.relkind from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm')"
        " and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass"
        "   and d.objid = c.oid and d.deptype = 'e')"
    ).fetchall()
    history = set(append_only_tables(conn))
    for table, kind in tables:
        ident = sql.Identifier(table)
        conn.execute(sql.SQL("revoke all on table {} from {}").format(ident, role))
        if table == TOKEN_TABLE:
            conn.execute(
                sql.SQL("grant select ({}) on table {} to {}").format(
                    sql.SQL(TOKEN_COLUMNS), ident, role
                )
            )
            continue
        if table in history:
            privileges = "select, insert"
        elif table in READ_ONLY_TABLES or kind in ("v", "m"):
            privileges = "select"
        else:
            privileges = "select, insert, update, delete"
        conn.execute(sql.SQL("grant {} on table {} to {}").format(sql.SQL(privileges), ident, role))
    conn.execute(
        sql.SQL("grant usage, select on all sequences in schema public to {}").format(role)
    )
    fn = conn.execute("select to_regprocedure('iocmap_authenticate(text, boolean)')").fetchone()
    if fn and fn[0]:
        conn.execute(
            sql.SQL("grant execute on function iocmap_authenticate(text, boolean) to {}").format(
                role
            )
        )
