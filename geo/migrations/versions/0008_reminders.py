"""Reminder notices (phiếu nhắc việc / văn bản đôn đốc): one append-only row per notice

Revision ID: 0008_reminders
Revises: 0007_task_reasons
Create Date: 2026-12-01

Why: "issue and manage reminder notices to units that are still slow" needs an audit
trail — who reminded which unit, when, about which tasks, with which reply-by date — and
the round of each task (nhắc lần 2, 3 …) must come from that trail, so it may not be
edited. ``tasks`` holds, per task, its id, external id, deadline, days overdue, reason and
round as stated in the notice. Guarded by the same trigger function as ``task_event``
(0005: refuses UPDATE, DELETE, TRUNCATE except the owner's whole-data reset), so the app
role gets SELECT, INSERT only (``geo/roles.py`` finds ``*append_only`` triggers).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008_reminders"
down_revision = "0007_task_reasons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminder",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("api_token.id"), nullable=True),
        sa.Column("unit_code", sa.String(5), sa.ForeignKey("admin_unit.code"), nullable=False),
        sa.Column("program", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("reply_by", sa.Date(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("tasks", JSONB(), nullable=False),
    )
    op.create_index("reminder_unit_idx", "reminder", ["unit_code", "at"])
    for when, level in (("update or delete", "row"), ("truncate", "statement")):
        suffix = "_truncate" if level == "statement" else ""
        op.execute(
            f"create trigger reminder_append_only{suffix} before {when} on reminder"
            f" for each {level} execute function task_event_append_only()"
        )


def downgrade() -> None:
    op.drop_table("reminder")
