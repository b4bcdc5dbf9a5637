"""Reminder notices as official letters: issuers, numbers per issuer and year, withdrawals

Revision ID: 0013_notice_numbers
Revises: 0012_programmes_aliases
Create Date: 2026-12-06

Why: a notice is a công văn đôn đốc (Nghị định 30/2020/NĐ-CP): it carries a number that runs
per issuing body per calendar year, with no gap and no repeat even when two offices issue at
once. ``notice_number`` holds the last number per (issuer, year); taking the next one is one
``insert … on conflict do update … returning`` whose row lock lasts until the notice row is
committed, so a rolled-back issue gives its number back and concurrent issues queue.
``notice_issuer`` holds what the letter's header and signature block say per issuer (when a
row is missing the defaults of ``geo/remind/issuers.py`` apply). A notice issued by mistake
is withdrawn by an appended ``reminder_withdrawal`` row (who, when, why), never deleted;
``reminder`` gains the number, the issuer and why each unit was selected.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013_notice_numbers"
down_revision = "0012_programmes_aliases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_issuer",
        sa.Column("code", sa.Text(), primary_key=True),  # a province code, or "TW"
        sa.Column("parent", sa.Text(), nullable=True),  # parent body, upper case
        sa.Column("name", sa.Text(), nullable=False),  # issuing body, upper case
        sa.Column("abbrev", sa.Text(), nullable=False),  # "UBND-KGVX" in "Số: 125/UBND-KGVX"
        sa.Column("place", sa.Text(), nullable=False),  # "Hà Nội" in the place-and-date line
        sa.Column("authority", sa.Text(), nullable=False),  # "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH"
        sa.Column("signer_title", sa.Text(), nullable=False),  # "PHÓ CHỦ TỊCH"
        sa.Column("signer_name", sa.Text(), nullable=False, server_default=""),
        sa.Column("archive", sa.Text(), nullable=False, server_default="VT"),  # "Lưu: VT, …"
    )
    op.create_table(
        "notice_number",
        sa.Column("issuer_code", sa.Text(), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    op.add_column("reminder", sa.Column("issuer_code", sa.Text(), nullable=True))
    op.add_column("reminder", sa.Column("number_year", sa.Integer(), nullable=True))
    op.add_column("reminder", sa.Column("number", sa.Integer(), nullable=True))
    op.add_column("reminder", sa.Column("doc_number", sa.Text(), nullable=True))
    op.add_column("reminder", sa.Column("reasons", JSONB(), nullable=True))
    op.create_index(
        "reminder_number_uq",
        "reminder",
        ["issuer_code", "number_year", "number"],
        unique=True,
        postgresql_where=sa.text("number is not null"),
    )
    op.create_table(
        "reminder_withdrawal",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "reminder_id",
            sa.BigInteger(),
            sa.ForeignKey("reminder.id", ondelete="RESTRICT"),
            nullable=False,
            unique=True,
        ),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("api_token.id"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    for when, level in (("update or delete", "row"), ("truncate", "statement")):
        suffix = "_truncate" if level == "statement" else ""
        op.execute(
            f"create trigger reminder_withdrawal_append_only{suffix} before {when}"
            f" on reminder_withdrawal for each {level} execute function task_event_append_only()"
        )
    # who withdrew it and when are the database's to say (0011: the token the app presents)
    op.execute(
        "create trigger reminder_withdrawal_stamp before insert on reminder_withdrawal"
        " for each row execute function history_stamp()"
    )


def downgrade() -> None:
    op.drop_table("reminder_withdrawal")
    op.drop_index("reminder_number_uq", table_name="reminder")
    for col in ("reasons", "doc_number", "number", "number_year", "issuer_code"):
        op.drop_column("reminder", col)
    op.drop_table("notice_number")
    op.drop_table("notice_issuer")
