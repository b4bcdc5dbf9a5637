"""Meetings: the presenter's current choice, shared by every API process (issue 24)

Revision ID: 0018_meetings
Revises: 0017_national_indicators
Create Date: 2026-12-07

Why a table: screens following a meeting may be connected to any uvicorn worker or API
process; each process reads the rows of the meetings its screens follow (api/meetings.py).
``secret_sha256`` is the digest of the presenter's secret (the first to choose claims the
key); ``seq`` grows with each choice so a process sends only what changed.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018_meetings"
down_revision = "0017_national_indicators"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("secret_sha256", sa.LargeBinary(), nullable=False),
        sa.Column("state", postgresql.JSONB(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.CheckConstraint("length(key) BETWEEN 4 AND 64", name="meeting_key_length"),
    )
    op.create_index("meeting_updated_at", "meeting", ["updated_at"])


def downgrade() -> None:
    op.drop_table("meeting")
