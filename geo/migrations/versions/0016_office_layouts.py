"""Office layouts of task sheets: the person in charge, the product, the office's own status
and a completion date that is only a bound

Revision ID: 0016_office_layouts
Revises: 0014_vn2000_tm3_zones
Create Date: 2026-12-06

Why: offices report who is in charge ("Người phụ trách") and what was produced ("Sản
phẩm"), and write their own judgment of a task ("Chậm tiến độ") next to the dates; the
judgment is kept as written (``office_status``) beside the status the dates give. A task
marked done without a completion date is done no later than the sheet's report date: that
day is stored as ``completed_at`` with ``completed_at_bound`` set, so the counts treat it as
done and the panel can say the real day is unknown.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_office_layouts"
down_revision = "0014_vn2000_tm3_zones"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task", sa.Column("person_in_charge", sa.Text(), nullable=True))
    op.add_column("task", sa.Column("product", sa.Text(), nullable=True))
    op.add_column("task", sa.Column("office_status", sa.Text(), nullable=True))
    op.add_column(
        "task",
        sa.Column(
            "completed_at_bound", sa.Boolean(), nullable=False, server_default=sa.text("false")
        ),
    )


def downgrade() -> None:
    for column in ("completed_at_bound", "office_status", "product", "person_in_charge"):
        op.drop_column("task", column)
