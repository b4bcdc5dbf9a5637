"""Central level (agencies), per-unit reporting record, targets and Plan 02 phase-2 greening

Revision ID: 0008_central_health_targets
Revises: 0005_app_role
Create Date: 2026-12-01

Why a sibling table and not non-territorial ``admin_unit`` rows: every reader of
``admin_unit`` assumes a geometry and a 2/5-digit code; agencies have neither. So
``agency`` holds ministries and central bodies (letter codes, see ``geo/agencies.py``)
and a task is held by exactly one of a unit or an agency (``task_holder``). Tokens may be
scoped to an agency. ``import_run_unit`` records which units (or agencies) each committed
import named — the "last report" of data health reads it; it is append-only like
``import_run``. ``target`` holds a unit's published targets; ``indicator.programme`` and
``indicator.green_at`` mark the Plan 02 phase-2 indicators and the value that turns one
green.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_central_health_targets"
down_revision = "0008_reminders"
branch_labels = None
depends_on = None

APPEND_ONLY_FN = """
create or replace function import_run_unit_append_only() returns trigger
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


def upgrade() -> None:
    op.create_table(
        "agency",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("sort_order", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("code ~ '^[A-Z]{2,16}$'", name="agency_code_letters"),
    )
    op.add_column(
        "task", sa.Column("agency_code", sa.String(16), sa.ForeignKey("agency.code"), nullable=True)
    )
    op.alter_column("task", "unit_code", existing_type=sa.String(5), nullable=True)
    op.create_check_constraint(
        "task_holder", "task", "(unit_code is null) <> (agency_code is null)"
    )
    op.create_index("task_agency_idx", "task", ["agency_code"])
    op.drop_constraint("api_token_scope_level", "api_token", type_="check")
    op.create_check_constraint(
        "api_token_scope_level",
        "api_token",
        "scope_level is null or scope_level in ('province', 'commune', 'agency')",
    )
    op.alter_column("api_token", "scope_code", existing_type=sa.String(5), type_=sa.String(16))
    op.drop_constraint("import_run_kind", "import_run", type_="check")
    op.create_check_constraint(
        "import_run_kind",
        "import_run",
        "kind in ('boundaries', 'tasks', 'indicators', 'targets')",
    )
    op.create_table(
        "import_run_unit",
        sa.Column(
            "import_run_id",
            sa.BigInteger(),
            sa.ForeignKey("import_run.id"),
            primary_key=True,
        ),
        sa.Column("unit_code", sa.String(16), primary_key=True),
    )
    op.create_index("import_run_unit_code_idx", "import_run_unit", ["unit_code"])
    op.execute(APPEND_ONLY_FN)
    op.execute(
        "create trigger import_run_unit_append_only before update or delete on import_run_unit"
        " for each row execute function import_run_unit_append_only()"
    )
    op.create_table(
        "target",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_code", sa.String(5), sa.ForeignKey("admin_unit.code"), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind in ('rank_max', 'value_min', 'completion_min', 'all_green')", name="target_kind"
        ),
        sa.CheckConstraint("(kind = 'all_green') = (threshold is null)", name="target_threshold"),
        sa.UniqueConstraint("unit_code", "subject", "kind"),
    )
    op.add_column("indicator", sa.Column("programme", sa.Text(), nullable=True))
    op.add_column("indicator", sa.Column("green_at", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("indicator", "green_at")
    op.drop_column("indicator", "programme")
    op.drop_table("target")
    op.execute("drop trigger if exists import_run_unit_append_only on import_run_unit")
    op.drop_index("import_run_unit_code_idx", table_name="import_run_unit")
    op.drop_table("import_run_unit")
    op.execute("drop function if exists import_run_unit_append_only()")
    op.drop_constraint("import_run_kind", "import_run", type_="check")
    op.create_check_constraint(
        "import_run_kind", "import_run", "kind in ('boundaries', 'tasks', 'indicators')"
    )
    op.execute(
        "update api_token set scope_level = null, scope_code = null where scope_level = 'agency'"
    )
    op.alter_column("api_token", "scope_code", existing_type=sa.String(16), type_=sa.String(5))
    op.drop_constraint("api_token_scope_level", "api_token", type_="check")
    op.create_check_constraint(
        "api_token_scope_level",
        "api_token",
        "scope_level is null or scope_level in ('province', 'commune')",
    )
    op.drop_index("task_agency_idx", table_name="task")
    op.drop_constraint("task_holder", "task", type_="check")
    op.execute("set local iocmap.allow_history_reset = 'on'")
    op.execute(
        "delete from task_event where task_id in"
        " (select id from task where agency_code is not null)"
    )
    op.execute("delete from task where agency_code is not null")
    op.alter_column("task", "unit_code", existing_type=sa.String(5), nullable=False)
    op.drop_column("task", "agency_code")
    op.drop_table("agency")
