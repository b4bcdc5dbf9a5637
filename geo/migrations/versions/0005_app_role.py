"""Audit trail closed to the app role: the reset hatch is the owner's alone

Revision ID: 0005_app_role
Revises: 0002_auth
Create Date: 2026-12-01

Why: the app used to connect as the superuser, and the trigger's escape hatch
(``set local iocmap.allow_history_reset = 'on'``, which any session may set) let anyone
who reached SQL delete history. Now the app connects as a role without UPDATE, DELETE or
TRUNCATE on history tables (``geo/roles.py`` grants), and the trigger itself honours the
hatch only for a session whose user owns the table (the demo loader, run as the owner).
TRUNCATE, which fires no row trigger, is refused by a statement trigger under the same rule.
The function keeps its name so that other history tables can reuse it; it names the table.
"""

from alembic import op

revision = "0005_app_role"
down_revision = "0004_import_actor"
branch_labels = None
depends_on = None

APPEND_ONLY_FN = """
create or replace function task_event_append_only() returns trigger
language plpgsql as $$
begin
  if tg_op in ('DELETE', 'TRUNCATE')
     and coalesce(current_setting('iocmap.allow_history_reset', true), '') = 'on'
     and pg_has_role(current_user,
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

OLD_FN = """
create or replace function task_event_append_only() returns trigger
language plpgsql as $$
begin
  if tg_op = 'DELETE'
     and coalesce(current_setting('iocmap.allow_history_reset', true), '') = 'on' then
    return old;
  end if;
  raise exception 'task_event is append-only (% refused)', tg_op
    using errcode = 'insufficient_privilege';
end
$$
"""


def upgrade() -> None:
    op.execute(APPEND_ONLY_FN)
    op.execute("drop trigger if exists task_event_append_only_truncate on task_event")
    op.execute(
        "create trigger task_event_append_only_truncate before truncate on task_event"
        " for each statement execute function task_event_append_only()"
    )


def downgrade() -> None:
    op.execute("drop trigger if exists task_event_append_only_truncate on task_event")
    op.execute(OLD_FN)
