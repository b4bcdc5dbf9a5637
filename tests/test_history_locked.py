"""History that cannot be erased or forged, tokens the app role cannot touch, and tokens
that expire and rotate (issue 21, migration 0011).

Every hostile statement runs AS THE APP ROLE (the role the service really connects with)
on a private copy of the demo database; after all of them, the history tables are
byte-for-byte what they were.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from api.app import create_app
from api.settings import Settings
from geo.roles import _libpq
from geo.tokens import create_token
from iocmap.cli import app as cli

HISTORY = ("task_event", "reminder", "import_run", "import_run_unit")


def _versions(conn: psycopg.Connection) -> dict[str, tuple]:
    """Row count and newest row version of each history table (as
    geo.ingest.report.row_versions, on a psycopg connection)."""
    return {
        t: conn.execute(f"select count(*), max(xmin::text::bigint) from {t}").fetchone()
        for t in HISTORY
    }


@pytest.fixture
def seeded(scratch: Engine) -> dict:
    """One reminder and one import run with a unit (the demo has task events), and a
    live and an expired token, made by the owner as ``iocmap token`` does."""
    with scratch.begin() as conn:
        live_id, live = create_token(conn, "ca-mau", "editor", "province:96")
        old_id, old = create_token(conn, "cu", "editor", "province:96")
        conn.execute(
            text("update api_token set expires_at = now() - interval '1 day' where id = :i"),
            {"i": old_id},
        )
        conn.execute(
            text(
                "insert into reminder (actor, unit_code, program, as_of, reply_by, issuer, tasks)"
                " values ('cli:t', '96', 'NQ57', '2025-10-01', '2025-10-08', 'x', '[]')"
            )
        )
        run = conn.execute(
            text(
                "insert into import_run (kind, file, actor, created, updated, unchanged,"
                " rejected) values ('tasks', 'a.xlsx', 'cli:t', 1, 0, 0, 0) returning id"
            )
        ).scalar_one()
        conn.execute(text("insert into import_run_unit values (:r, '96')"), {"r": run})
        task = conn.execute(text("select min(task_id) from task_event")).scalar_one()
    return {"live": live, "live_id": live_id, "expired": old, "task": task, "run": run}


@pytest.fixture
def app_conn(scratch_url: str):
    with psycopg.connect(_libpq(Settings(database_url=scratch_url).app_url())) as conn:
        conn.autocommit = True
        yield conn


def _refused(conn: psycopg.Connection, statement: str) -> None:
    with pytest.raises(psycopg.Error), conn.transaction():
        conn.execute(statement)


def test_no_statement_of_the_app_role_changes_or_removes_history(app_conn, seeded) -> None:
    before = _versions(app_conn)
    assert app_conn.execute("select current_user").fetchone()[0] == "iocmap_app"
    task, run = seeded["task"], seeded["run"]
    attempts = [
        # the parents: the old cascade ran as the owner and passed the trigger
        f"delete from task where id = {task}",
        "delete from task",
        "delete from admin_unit where code = '96'",
        "delete from api_token",
        f"update task set id = -1 where id = {task}",
        "update admin_unit set code = 'zz' where code = '96'",
        "alter table task_event drop constraint task_event_task_id_fkey",
        "set session_replication_role = replica",
        "set role postgres",
        # a trigger of its own that would swallow the refusal
        "create function pg_temp.f() returns trigger language plpgsql as"
        " 'begin return null; end';"
        " create trigger t before delete on task_event for each row"
        " execute function pg_temp.f()",
    ]
    for table in HISTORY:
        attempts += [
            f"update {table} set {'unit_code' if table == 'import_run_unit' else 'actor'} = 'x'",
            f"delete from {table}",
            f"truncate {table}",
            f"truncate {table} cascade",
            f"alter table {table} disable trigger all",
            f"alter table {table} disable trigger user",
            f"alter table {table} owner to iocmap_app",
            f"drop table {table} cascade",
            f"create rule r as on delete to {table} do instead nothing",
            f"create trigger t before insert on {table} for each row execute function"
            f" history_stamp()",
        ]
    attempts.append(f"delete from import_run where id = {run}")
    for statement in attempts:
        _refused(app_conn, statement)
        # the same with the reset hatch opened in the transaction
        with pytest.raises(psycopg.Error), app_conn.transaction():
            app_conn.execute("set local iocmap.allow_history_reset = 'on'")
            app_conn.execute(statement)
    # a SECURITY DEFINER path: the token function does not open the hatch either
    with pytest.raises(psycopg.Error), app_conn.transaction():
        app_conn.execute("set local iocmap.allow_history_reset = 'on'")
        app_conn.execute("select * from iocmap_authenticate('x', true)")
        app_conn.execute(f"delete from task where id = {task}")
    assert _versions(app_conn) == before
    assert app_conn.execute("select count(*) from task where id = %s", (task,)).fetchone()[0]


def test_the_owner_reset_still_works_and_only_history_first(scratch: Engine, seeded) -> None:
    """The demo loader's reset (owner + hatch) still empties everything; without the hatch
    even the owner cannot delete a task with history."""
    with pytest.raises(Exception, match="has history"), scratch.begin() as conn:
        conn.execute(text("delete from task where id = :t"), {"t": seeded["task"]})
    from geo.ingest.store import clear_all

    with scratch.begin() as conn:
        clear_all(conn)
        assert conn.execute(text("select count(*) from task_event")).scalar() == 0


def _insert_event(conn: psycopg.Connection, task: int, token_id: int | None) -> tuple:
    return conn.execute(
        "insert into task_event (task_id, at, actor, source, action, old, new, token_id)"
        " values (%s, '2001-01-01', 'token:someone-else', 'f', 'update', '{}', '{}', %s)"
        " returning at, actor, token_id",
        (task, token_id),
    ).fetchone()


def test_actor_and_time_come_from_the_database(app_conn, seeded) -> None:
    task, live_id = seeded["task"], seeded["live_id"]
    now = app_conn.execute("select now()").fetchone()[0]
    with app_conn.transaction(force_rollback=True):
        at, actor, token_id = _insert_event(app_conn, task, live_id)
    assert at > now - dt.timedelta(minutes=1), "a backdated row gets now()"
    assert (actor, token_id) == ("unverified:token:someone-else", None)
    with app_conn.transaction(force_rollback=True):
        app_conn.execute("select set_config('iocmap.token', %s, true)", (seeded["live"],))
        at, actor, token_id = _insert_event(app_conn, task, None)
    assert (actor, token_id) == ("token:ca-mau", live_id)
    assert at > now - dt.timedelta(minutes=1)
    for secret in (seeded["expired"], "iocm_guessed", ""):
        with app_conn.transaction(force_rollback=True):
            app_conn.execute("select set_config('iocmap.token', %s, true)", (secret,))
            _, actor, token_id = _insert_event(app_conn, task, live_id)
        assert (actor, token_id) == ("unverified:token:someone-else", None)
    with app_conn.transaction(force_rollback=True):
        row = app_conn.execute(
            "insert into reminder (at, actor, token_id, unit_code, program, as_of, reply_by,"
            " issuer, tasks) values ('1999-01-01', 'token:boss', %s, '96', 'NQ57',"
            " '2025-10-01', '2025-10-08', 'x', '[]') returning at, actor, token_id",
            (live_id,),
        ).fetchone()
    assert row[0] > now - dt.timedelta(minutes=1) and row[1:] == ("unverified:token:boss", None)


def test_the_app_role_cannot_touch_tokens(app_conn, seeded) -> None:
    for statement in (
        "update api_token set role = 'admin'",
        "update api_token set expires_at = 'infinity', revoked_at = null",
        "insert into api_token (name, token_hash, token_prefix, role, expires_at)"
        " values ('x', 'h', 'p', 'admin', 'infinity')",
        "delete from api_token",
        "select token_hash from api_token",
        "truncate api_token cascade",
    ):
        _refused(app_conn, statement)
    assert (
        app_conn.execute("select count(*) from api_token where role = 'admin'").fetchone()[0] == 0
    )
    # the one way in: a secret, checked by the database
    row = app_conn.execute(
        "select name, role, expired from iocmap_authenticate(%s, true)", (seeded["live"],)
    ).fetchone()
    assert row == ("ca-mau", "editor", False)


def _client(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url)))


def test_an_expired_token_is_a_clear_401(scratch_url, seeded) -> None:
    with _client(scratch_url) as api:
        r = api.post(
            "/api/v1/imports/tasks",
            files={"file": ("a.csv", b"x", "text/csv")},
            headers={"Authorization": f"Bearer {seeded['expired']}"},
        )
    assert r.status_code == 401
    assert r.json()["detail"].startswith("Mã truy cập (token) 'cu' đã hết hạn")
    assert "expired" in r.json()["detail"]


def test_token_rotate_replaces_the_secret(scratch_url, monkeypatch) -> None:
    monkeypatch.setenv("IOCMAP_DATABASE_URL", scratch_url)
    runner = CliRunner()
    made = runner.invoke(
        cli, ["token", "create", "--name", "so-khcn", "--scope", "province:96", "--days", "30"]
    )
    assert made.exit_code == 0, made.output
    first = made.output.strip().splitlines()[-1]
    rotated = runner.invoke(cli, ["token", "rotate", "so-khcn"])
    assert rotated.exit_code == 0, rotated.output
    second = rotated.output.strip().splitlines()[-1]
    assert second.startswith("iocm_") and second != first
    graced = runner.invoke(cli, ["token", "rotate", "so-khcn", "--grace-minutes", "5"])
    third = graced.output.strip().splitlines()[-1]
    with _client(scratch_url) as api:

        def status(token: str) -> int:
            return api.get(
                "/api/v1/imports", headers={"Authorization": f"Bearer {token}"}
            ).status_code

        assert status(first) == 401  # revoked at the first rotation
        assert status(second) == 200  # within its grace
        assert status(third) == 200
    missing = runner.invoke(cli, ["token", "rotate", "nobody"])
    assert missing.exit_code == 2 and "0 live tokens" in missing.output
