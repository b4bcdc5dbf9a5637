"""API tokens (hashed, scoped) and an append-only task history

Revision ID: 0002_auth
Revises: 0001
Create Date: 2026-11-23

Why a trigger: "history is append-only" must hold for every client of the database,
not only for our code. Updating an event is always refused; deleting is refused unless
the transaction says `set local iocmap.allow_history_reset = 'on'` (only the demo loader,
which replaces the whole data set, does).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_auth"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY_FN = """
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
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False, unique=True),
        sa.Column("token_prefix", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("scope_level", sa.Text(), nullable=True),
        sa.Column("scope_code", sa.String(5), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role in ('viewer', 'editor', 'admin')", name="api_token_role"),
        sa.CheckConstraint(
            "scope_level is null or scope_level in ('province', 'commune')",
            name="api_token_scope_level",
        ),
    )
    op.add_column(
        "task_event",
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("api_token.id"), nullable=True),
    )
    op.execute(APPEND_ONLY_FN)
    op.execute(
        "create trigger task_event_append_only before update or delete on task_event"
        " for each row execute function task_event_append_only()"
    )


def downgrade() -> None:
    op.execute("drop trigger if exists task_event_append_only on task_event")
    op.execute("drop function if exists task_event_append_only()")
    op.drop_column("task_event", "token_id")
    op.drop_table("api_token")
