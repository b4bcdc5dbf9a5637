"""Who ran every import: one append-only row per committed import of any kind

Revision ID: 0004_import_actor
Revises: 0002_auth
Create Date: 2026-12-01

Why: task changes carry their actor in task_event, but indicator and boundary imports
changed data with no trace of who sent the file. ``import_run`` records every committed
import (kind, file, actor, token, counts, resulting data version) inside the import's own
transaction, so a run that rolls back leaves no row. ``actor`` is NULL only for a caller
that did not say who it acts for. Append-only like task_event (same trigger idea).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_import_actor"
down_revision = "0003_boundary_attrs"
branch_labels = None
depends_on = None

APPEND_ONLY_FN = """
create or replace function import_run_append_only() returns trigger
language plpgsql as $$
begin
  raise exception 'import_run is append-only (% refused)', tg_op
    using errcode = 'insufficient_privilege';
end
$$
"""


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("api_token.id"), nullable=True),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("kind in ('boundaries', 'tasks', 'indicators')", name="import_run_kind"),
    )
    op.create_index("import_run_kind_at_idx", "import_run", ["kind", "at"])
    op.execute(APPEND_ONLY_FN)
    op.execute(
        "create trigger import_run_append_only before update or delete on import_run"
        " for each row execute function import_run_append_only()"
    )


def downgrade() -> None:
    op.execute("drop trigger if exists import_run_append_only on import_run")
    op.execute("drop function if exists import_run_append_only()")
    op.drop_index("import_run_kind_at_idx", table_name="import_run")
    op.drop_table("import_run")
