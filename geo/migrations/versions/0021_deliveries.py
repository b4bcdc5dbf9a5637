"""Notices delivered (e-mail, webhook) through a queue in PostgreSQL; silence escalates

Revision ID: 0021_deliveries
Revises: 0020_responsibility
Create Date: 2026-12-07

Why (issue 27, items 3 and 5): a notice must reach its holder without anyone printing it,
and a mail server that is down must delay deliveries, never lose them or slow the server.

- ``delivery``: one row per notice and channel (``email``: one message to all the holder's
  contacts; ``webhook``: one JSON POST), queued in the same transaction that records the
  notice; ``iocmap worker`` claims rows with ``FOR UPDATE SKIP LOCKED`` and marks them
  ``sent`` in the claiming transaction. ``failed`` = an attempt failed, retried at
  ``next_attempt_at``; ``dead`` = the attempts ran out (an admin retries it);
- ``reminder.escalated`` / ``reminder.leader``: a notice issued automatically because the
  holder stayed silent past its reply-by date, and the leader in charge copied on it (the
  name printed in its "Nơi nhận", so the notice renders again as it was issued);
- ``escalation_run``: one row per day the escalation ran (a second worker, or a restart the
  same day, does not run it again).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0021_deliveries"
down_revision = "0020_responsibility"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "reminder_id",
            sa.BigInteger(),
            sa.ForeignKey("reminder.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="queued", nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recipients", JSONB(), nullable=True),
        sa.CheckConstraint("channel in ('email', 'webhook')", name="delivery_channel"),
        sa.CheckConstraint(
            "status in ('queued', 'sent', 'failed', 'dead')", name="delivery_status"
        ),
        sa.UniqueConstraint("reminder_id", "channel", name="delivery_once"),
    )
    op.create_index(
        "delivery_due_idx",
        "delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text("status in ('queued', 'failed')"),
    )
    op.create_index("delivery_status_idx", "delivery", ["status", "id"])
    # reminder is append-only for the app role; this DDL runs as the owner
    op.add_column(
        "reminder",
        sa.Column("escalated", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("reminder", sa.Column("leader", sa.Text(), nullable=True))
    op.create_table(
        "escalation_run",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("escalated", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("escalation_run")
    op.drop_column("reminder", "leader")
    op.drop_column("reminder", "escalated")
    op.drop_table("delivery")
