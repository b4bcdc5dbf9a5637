"""Reasons for delay and proposed solutions on tasks

Revision ID: 0007_task_reasons
Revises: 0005_app_role
Create Date: 2026-12-01

Why: the steering committees ask that "the reasons for slow tasks be stated clearly and
solutions proposed". ``reason`` (nguyên nhân chậm / khó khăn, vướng mắc) and ``proposal``
(giải pháp, kiến nghị) are plain columns of ``task``, imported from the task sheets; every
change is written to ``task_event`` like the other fields, so the history keeps them. The
app role's grants are table-wide (``geo/roles.py``), so new columns need no grant, and the
append-only triggers on ``task_event`` are untouched. (Another branch adds a 0006; the
chain is re-linked at merge.)
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_task_reasons"
down_revision = "0006_search_trgm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task", sa.Column("reason", sa.Text(), nullable=True))
    op.add_column("task", sa.Column("proposal", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("task", "proposal")
    op.drop_column("task", "reason")
