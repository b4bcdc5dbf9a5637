"""History that cannot be erased or forged; tokens that expire and are checked by the database

Revision ID: 0011_history_locked
Revises: 0010_untrusted_files
Create Date: 2026-12-06

Why (issue 21): as the app role, ``set iocmap.allow_history_reset`` then ``DELETE FROM
task`` erased the task's history: ``task_event.task_id`` was ``ON DELETE CASCADE``, the
cascade runs as the table owner, and the trigger asked ``current_user`` (the owner,
inside the cascade) whether the hatch was allowed. Now:

- ``task_event.task_id`` is ``ON DELETE RESTRICT``: a task with history cannot be deleted
  by anyone until its history is (and only the owner's demo reset may delete history);
- the append-only triggers ask ``session_user`` (who logged in), which neither a cascade,
  a ``SECURITY DEFINER`` function nor ``SET ROLE`` changes; ``import_run`` and
  ``import_run_unit`` refuse ``TRUNCATE`` by trigger too;
- history rows (``task_event``, ``reminder``, ``import_run``) are stamped by the database:
  ``at`` is ``now()`` and ``actor``/``token_id`` come from the token whose *secret* the
  transaction presents in ``iocmap.token`` (hashed and looked up by a ``SECURITY
  DEFINER`` trigger function; a live, unexpired token only). Without one, the app role's
  rows get no token and any actor but a ``cli:`` login is marked ``unverified:``. Only the
  owner (demo loader) keeps the values it sends;
- ``api_token`` gets ``expires_at``; the app role no longer reads ``token_hash`` nor
  writes the table (``geo/roles.py``): it checks a secret through
  ``iocmap_authenticate`` (``SECURITY DEFINER``), and tokens are made, rotated and
  revoked by the owner (``iocmap token …``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_history_locked"
down_revision = "0010_untrusted_files"
branch_labels = None
depends_on = None

OWNER_ONLY_HATCH = """
create or replace function {name}() returns trigger
language plpgsql as $$
begin
  if tg_op in ('DELETE', 'TRUNCATE')
     and coalesce(current_setting('iocmap.allow_history_reset', true), '') = 'on'
     and pg_has_role(session_user,
                     (select relowner from pg_class where oid = tg_relid), 'USAGE') then
    if tg_level = 'ROW' then
      return old;
    end if;
    return null;
  end if;
  raise exception '% is append-only (% refused)', tg_table_name, tg_op
    using errcode = 'insufficient_privilege';
end
$$
"""

OLD_HATCH = OWNER_ONLY_HATCH.replace("session_user,", "current_user,")

STAMP_FN = """
create or replace function history_stamp() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  secret text := nullif(current_setting('iocmap.token', true), '');
  t_id integer;
  t_name text;
begin
  if pg_has_role(session_user, (select relowner from pg_class where oid = tg_relid), 'USAGE')
  then
    return new;  -- the owner (demo loader, migrations) states its own actor and time
  end if;
  new.at := now();
  new.token_id := null;
  if secret is not null then
    select id, name into t_id, t_name from api_token
     where token_hash = encode(sha256(convert_to(secret, 'UTF8')), 'hex')
       and revoked_at is null
       and expires_at > now();
  end if;
  if t_id is not null then
    new.actor := 'token:' || t_name;
    new.token_id := t_id;
  elsif new.actor is null or new.actor not like 'cli:%' then
    new.actor := 'unverified:' || coalesce(new.actor, session_user::text);
  end if;
  return new;
end
$$
"""

AUTH_FN = """
create or replace function iocmap_authenticate(secret text, touch boolean)
returns table (id integer, name text, role text, scope_level text, scope_code text,
               expires_at timestamptz, expired boolean)
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if touch then
    update api_token t set last_used_at = now()
     where t.token_hash = encode(sha256(convert_to(secret, 'UTF8')), 'hex')
       and t.revoked_at is null
       and t.expires_at > now();
  end if;
  return query
    select t.id, t.name, t.role, t.scope_level, t.scope_code::text, t.expires_at,
           t.expires_at <= now()
      from api_token t
     where t.token_hash = encode(sha256(convert_to(secret, 'UTF8')), 'hex')
       and t.revoked_at is null;
end
$$
"""

KEEP_TASK_FN = """
create or replace function task_keep_history() returns trigger
language plpgsql as $$
begin
  if exists (select 1 from task_event where task_id = old.id) then
    raise exception 'task % has history (task_event) and cannot be deleted', old.external_id
      using errcode = 'insufficient_privilege',
            hint = 'record its completion or closing date instead';
  end if;
  return old;
end
$$
"""

HISTORY = ("task_event", "reminder", "import_run")


def upgrade() -> None:
    op.drop_constraint("task_event_task_id_fkey", "task_event", type_="foreignkey")
    op.create_foreign_key(
        "task_event_task_id_fkey", "task_event", "task", ["task_id"], ["id"], ondelete="RESTRICT"
    )
    op.execute(OWNER_ONLY_HATCH.format(name="task_event_append_only"))
    op.execute(OWNER_ONLY_HATCH.format(name="import_run_unit_append_only"))
    for table, fn in (
        ("import_run", "import_run_append_only"),
        ("import_run_unit", "import_run_unit_append_only"),
    ):
        op.execute(
            f"create trigger {table}_append_only_truncate before truncate on {table}"
            f" for each statement execute function {fn}()"
        )
    op.execute(KEEP_TASK_FN)
    op.execute(
        "create trigger task_keep_history before delete on task"
        " for each row execute function task_keep_history()"
    )
    op.add_column("api_token", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    # tokens made before expiry existed get a year from now, not an abrupt lock-out
    op.execute("update api_token set expires_at = now() + interval '365 days'")
    op.alter_column("api_token", "expires_at", nullable=False)
    op.execute(STAMP_FN)
    for table in HISTORY:
        op.execute(
            f"create trigger {table}_stamp before insert on {table}"
            f" for each row execute function history_stamp()"
        )
    op.execute(AUTH_FN)
    op.execute("revoke all on function iocmap_authenticate(text, boolean) from public")
    op.execute("revoke all on function history_stamp() from public")


def downgrade() -> None:
    op.execute("drop function if exists iocmap_authenticate(text, boolean)")
    for table in HISTORY:
        op.execute(f"drop trigger if exists {table}_stamp on {table}")
    op.execute("drop function if exists history_stamp()")
    op.drop_column("api_token", "expires_at")
    op.execute("drop trigger if exists task_keep_history on task")
    op.execute("drop function if exists task_keep_history()")
    for table in ("import_run", "import_run_unit"):
        op.execute(f"drop trigger if exists {table}_append_only_truncate on {table}")
    op.execute(OLD_HATCH.format(name="import_run_unit_append_only"))
    op.execute(OLD_HATCH.format(name="task_event_append_only"))
    op.drop_constraint("task_event_task_id_fkey", "task_event", type_="foreignkey")
    op.create_foreign_key(
        "task_event_task_id_fkey", "task_event", "task", ["task_id"], ["id"], ondelete="CASCADE"
    )
