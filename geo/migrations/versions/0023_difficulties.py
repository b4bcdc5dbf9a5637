"""The register of difficulties: a category per reason for delay, and what a task waits on

Revision ID: 0023_difficulties
Revises: 0022_answers
Create Date: 2026-12-07

Why (issue 28): the central working group counts difficulties by kind and sees where
they cluster; a local task that waits on a ministry's guidance must say so, and be
reviewed when that guidance comes. One row per task with a stated difficulty:

- ``category``: one of ``geo.difficulties.CODES``; ``suggested`` = true when iocmap's
  keyword rules chose it from the reason's text (a sheet's own column, or an editor,
  sets it with ``suggested`` = false, and a suggestion never replaces that);
- ``waits_on_agency`` / ``waits_on_task_id``: the central body, or the central task, the
  task waits on (a sheet's "chờ / phụ thuộc" column, or "chờ hướng dẫn của Bộ …" in the
  reason); ``waits_on_text`` keeps what the sheet said; ``waits_on_central`` says the task
  waits on the central level at all (also when the reason names no body: "chưa có hướng
  dẫn của bộ, ngành trung ương") — the map's "blocked by central guidance" counts these.

Current state, not history: its changes are ``task_event`` rows like any task change.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_difficulties"
down_revision = "0022_answers"
branch_labels = None
depends_on = None

CODES = (
    "institutions", "finance", "people", "infrastructure", "data", "technology",
    "coordination", "other",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "task_difficulty",
        sa.Column(
            "task_id",
            sa.Integer(),
            sa.ForeignKey("task.id", ondelete="RESTRICT"),
            primary_key=True,
        ),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("suggested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("waits_on_agency", sa.String(16), sa.ForeignKey("agency.code"), nullable=True),
        sa.Column(
            "waits_on_task_id",
            sa.Integer(),
            sa.ForeignKey("task.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column("waits_on_text", sa.Text(), nullable=True),
        sa.Column("waits_on_central", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "category is null or category in (" + ", ".join(f"'{c}'" for c in CODES) + ")",
            name="task_difficulty_category",
        ),
    )
    op.create_index("task_difficulty_category_idx", "task_difficulty", ["category"])
    op.create_index("task_difficulty_waits_idx", "task_difficulty", ["waits_on_task_id"])
    op.create_index("task_difficulty_agency_idx", "task_difficulty", ["waits_on_agency"])


def downgrade() -> None:
    op.drop_table("task_difficulty")
