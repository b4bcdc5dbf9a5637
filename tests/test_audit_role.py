"""The app's database role (issue 12): least privilege, and an audit trail it cannot rewrite.

Every statement runs as the role the service really connects with (``api.settings``'s
``app_url``, created by ``geo.migrate.upgrade``) on the real test database; each bypass
the adversarial pass found must fail, and ordinary writes (INSERT of an event, an update
of a task) must still work, so the role is not simply locked out.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from api.settings import Settings
from geo.roles import _libpq, append_only_tables, ensure_app_role


@pytest.fixture(scope="module")
def app_url(engine: Engine, db_url: str) -> str:
    """The URL the API uses for the test database (the demo data is loaded)."""
    return Settings(database_url=db_url).app_url()


@pytest.fixture
def app_conn(app_url: str):
    """A psycopg connection as the app role; every test's changes are rolled back."""
    with psycopg.connect(_libpq(app_url)) as conn:
        yield conn
        conn.rollback()


def refused(conn: psycopg.Connection, statement: str) -> psycopg.Error:
    """Run ``statement`` in a savepoint and return the error it must raise."""
    with pytest.raises(psycopg.Error) as err, conn.transaction():
        conn.execute(statement)
    return err.value


def test_app_role_is_not_the_owner_and_owns_nothing(app_conn, db_url: str) -> None:
    user, superuser = app_conn.execute(
        "select current_user, rolsuper or rolcreaterole or rolcreatedb or rolbypassrls"
        " or rolreplication from pg_roles where rolname = current_user"
    ).fetchone()
    assert user != make_url(db_url).username
    assert superuser is False
    owned = app_conn.execute(
        "select count(*) from pg_class where relowner = (select oid from pg_roles"
        " where rolname = current_user) and relpersistence <> 't'"
    ).fetchone()[0]
    assert owned == 0
    assert isinstance(
        refused(app_conn, "create table public.trust_probe (a int)"),
        psycopg.errors.InsufficientPrivilege,
    )


def test_history_is_append_only_for_the_app_role(app_conn) -> None:
    first = app_conn.execute("select min(id) from task_event").fetchone()[0]
    assert first is not None, "the demo data has history"
    for statement in (
        f"update task_event set actor = 'forged' where id = {first}",
        f"delete from task_event where id = {first}",
        "truncate task_event",
    ):
        err = refused(app_conn, statement)
        assert isinstance(err, psycopg.errors.InsufficientPrivilege), statement


def test_every_bypass_of_the_audit_trail_fails(app_conn) -> None:
    first = app_conn.execute("select min(id) from task_event").fetchone()[0]
    # the old escape hatch: any session could set the GUC, then DELETE passed the trigger
    with pytest.raises(psycopg.errors.InsufficientPrivilege), app_conn.transaction():
        app_conn.execute("set local iocmap.allow_history_reset = 'on'")
        app_conn.execute(f"delete from task_event where id = {first}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), app_conn.transaction():
        app_conn.execute("set local iocmap.allow_history_reset = 'on'")
        app_conn.execute("truncate task_event")
    assert isinstance(
        refused(app_conn, "set session_replication_role = replica"),
        psycopg.errors.InsufficientPrivilege,
    )
    for statement in (
        "alter table task_event disable trigger all",
        "alter table task_event disable trigger task_event_append_only",
        "drop trigger task_event_append_only on task_event",
        "alter table task_event owner to current_user",
    ):
        assert isinstance(refused(app_conn, statement), psycopg.errors.InsufficientPrivilege)
    assert app_conn.execute("select count(*) from task_event where id = %s", (first,)).fetchone()


def test_the_app_role_still_does_its_work(app_conn) -> None:
    """Imports insert events and update tasks: the grants allow exactly that."""
    task = app_conn.execute("select id from task order by id limit 1").fetchone()[0]
    with app_conn.transaction(force_rollback=True):
        app_conn.execute("update task set lead_agency = 'probe' where id = %s", (task,))
        app_conn.execute(
            "insert into task_event (task_id, at, actor, source, action, old, new)"
            " values (%s, now(), 'test', 'probe', 'update', '{}', '{}')",
            (task,),
        )
        app_conn.execute("create temp table staging (a int) on commit drop")


def test_trigger_refuses_a_granted_delete_unless_owner(engine: Engine, app_url: str) -> None:
    """Defence in depth: even if someone grants DELETE, the hatch is the owner's alone."""
    role = make_url(app_url).username
    with engine.begin() as conn:
        conn.execute(text(f'grant delete on task_event to "{role}"'))
    try:
        with psycopg.connect(_libpq(app_url)) as conn:
            first = conn.execute("select min(id) from task_event").fetchone()[0]
            conn.execute("set local iocmap.allow_history_reset = 'on'")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(f"delete from task_event where id = {first}")
            conn.rollback()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'revoke delete on task_event from "{role}"'))
    # the owner (the demo loader) still may, inside its transaction
    with engine.connect() as conn, conn.begin() as tx:
        conn.execute(text("set local iocmap.allow_history_reset = 'on'"))
        assert (
            conn.execute(
                text("delete from task_event where id in (select min(id) from task_event)")
            ).rowcount
            == 1
        )
        tx.rollback()


def test_a_new_history_table_gets_insert_and_select_only(
    engine: Engine, db_url: str, app_url: str
) -> None:
    """A later migration's append-only table is covered by the grants of ``db migrate``."""
    role = make_url(app_url).username
    with engine.begin() as conn:
        conn.execute(text("drop table if exists trust_probe_history"))
        conn.execute(text("create table trust_probe_history (id serial primary key, note text)"))
        conn.execute(
            text(
                "create trigger trust_probe_history_append_only before update or delete"
                " on trust_probe_history for each row execute function task_event_append_only()"
            )
        )
    try:
        ensure_app_role(db_url, app_url)
        with engine.connect() as conn:
            privileges = {
                p: conn.execute(
                    text("select has_table_privilege(:r, 'trust_probe_history', :p)"),
                    {"r": role, "p": p},
                ).scalar()
                for p in ("select", "insert", "update", "delete", "truncate")
            }
            with psycopg.connect(_libpq(db_url)) as raw:
                assert "trust_probe_history" in append_only_tables(raw)
        assert privileges == {
            "select": True, "insert": True, "update": False, "delete": False, "truncate": False,
        }  # fmt: skip
    finally:
        with engine.begin() as conn:
            conn.execute(text("drop table trust_probe_history"))


def test_the_service_connects_as_the_app_role(client) -> None:
    engine = client.app.state.engine
    with engine.connect() as conn:
        user = conn.execute(text("select current_user")).scalar()
    assert user == "iocmap_app"
    assert client.get("/api/v1/summary").status_code == 200


def test_demo_keeps_imported_data(scratch: Engine, scratch_url: str, monkeypatch) -> None:
    """`iocmap demo` on a database with imported boundaries says so in one line, exits 0
    (make demo goes on to serve) and changes nothing; the demo database itself is not
    mistaken for imported data."""
    from geo.demo.loader import SOURCE
    from geo.ingest.report import row_versions
    from geo.read.provenance import imported_data
    from iocmap.cli import app

    with scratch.connect() as conn:
        assert imported_data(conn, SOURCE) == []
    with scratch.begin() as conn:
        conn.execute(
            text(
                "update admin_unit set geometry_quality = 'official', source = 'xa.geojson'"
                " where parent_code = '40'"
            )
        )
        before = row_versions(conn)
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "130 imported commune boundaries" in lines[0]
    assert "--force" in lines[0]
    with scratch.connect() as conn:
        assert row_versions(conn) == before
