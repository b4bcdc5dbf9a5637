"""initial schema: units, display geometries, tasks + history, indicators, data state

The task status is derived, not stored: ``task_status(deadline, completed_at, as_of)``
is the one rule every query uses (see geo/read/progress.py for the meaning of each value).

Revision ID: 0001
Revises:
Create Date: 2026-11-23 10:52:43.765334
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


TASK_STATUS_FN = """
create or replace function task_status(deadline date, completed_at date, as_of date)
returns text language sql immutable parallel safe as $$
  select case
    when completed_at is not null and completed_at <= as_of then
      case when completed_at <= deadline then 'completed' else 'completed_late' end
    when deadline < as_of then 'overdue'
    else 'on_time'
  end
$$
"""


def upgrade() -> None:
    op.execute("create extension if not exists postgis")
    op.create_table(
        "admin_unit",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("parent_code", sa.String(length=5), nullable=True),
        sa.Column("area_km2", sa.Float(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "label_point",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("geometry_quality", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("level in ('province', 'commune')", name="admin_unit_level"),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["admin_unit.code"], initially="DEFERRED", deferrable=True
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("admin_unit_name_key_idx", "admin_unit", ["name_key"], unique=False)
    op.create_index("admin_unit_parent_idx", "admin_unit", ["parent_code"], unique=False)
    op.create_table(
        "data_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("reporting_date", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name="data_state_single_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "indicator",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "indicator_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["indicator_code"],
            ["indicator.code"],
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["admin_unit.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("indicator_code", "unit_code", "period"),
    )
    op.create_index(
        "indicator_value_period_idx", "indicator_value", ["indicator_code", "period"], unique=False
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("group_no", sa.SmallInteger(), nullable=True),
        sa.Column("phase", sa.SmallInteger(), nullable=True),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("lead_agency", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("completed_at", sa.Date(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "completed_at is null or start_date is null or completed_at >= start_date",
            name="task_completed_after_start",
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["admin_unit.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    op.create_index("task_program_year_idx", "task", ["program", "year"], unique=False)
    op.create_index("task_unit_idx", "task", ["unit_code"], unique=False)
    op.create_table(
        "unit_geometry_level",
        sa.Column("unit_code", sa.String(length=5), nullable=False),
        sa.Column("band", sa.String(length=8), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["unit_code"], ["admin_unit.code"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("unit_code", "band"),
    )
    op.create_table(
        "task_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("old", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("task_event_task_idx", "task_event", ["task_id"], unique=False)
    op.execute(TASK_STATUS_FN)
    op.execute("insert into data_state (id, version) values (1, 0)")


def downgrade() -> None:
    op.execute("drop function if exists task_status(date, date, date)")
    op.drop_index("task_event_task_idx", table_name="task_event")
    op.drop_table("task_event")
    op.drop_table("unit_geometry_level")
    op.drop_index("task_unit_idx", table_name="task")
    op.drop_index("task_program_year_idx", table_name="task")
    op.drop_table("task")
    op.drop_index("indicator_value_period_idx", table_name="indicator_value")
    op.drop_table("indicator_value")
    op.drop_table("indicator")
    op.drop_table("data_state")
    op.drop_index("admin_unit_parent_idx", table_name="admin_unit")
    op.drop_index("admin_unit_name_key_idx", table_name="admin_unit")
    op.drop_table("admin_unit")
