"""Named responsibility: a task's deciding authority, units' and agencies' contacts,
agencies reminded like units

Revision ID: 0020_responsibility
Revises: 0019_import_sources
Create Date: 2026-12-07

Why (issue 27): "sáu rõ" asks for a clear person, product and authority per task, and a
notice must reach someone. Now:

- ``task.authority`` (cấp có thẩm quyền quyết định) beside ``person_in_charge`` and
  ``product`` (0007/earlier);
- ``unit_contact``: who takes notices for a province, commune or agency (role, name,
  e-mail) and which of them is the leader in charge of its area (ủy viên ban thường vụ phụ
  trách địa bàn, ``is_leader``), copied on escalations. Personal data: editable (an admin
  replaces a holder's whole list), never joined into public layers or downloads;
- ``reminder.agency_code``: a ministry takes notices exactly as a province or commune does,
  so a notice names exactly one holder (``unit_code`` or ``agency_code``);
- ``reminder_answer``: a unit's answer to a notice through its reply link (per task: done on
  a date, or reason, proposal and expected date), append-only like the notice itself; the
  answer's rows land in ``task_event`` through the import path, attributed to the notice
  (``import_run_id``). A notice with no answer past its reply-by date escalates.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0020_responsibility"
down_revision = "0019_import_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task", sa.Column("authority", sa.Text(), nullable=True))
    op.create_table(
        "unit_contact",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("unit_code", sa.String(5), sa.ForeignKey("admin_unit.code"), nullable=True),
        sa.Column("agency_code", sa.String(16), sa.ForeignKey("agency.code"), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("is_leader", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("position", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(unit_code is null) <> (agency_code is null)", name="unit_contact_holder"
        ),
        sa.CheckConstraint("length(name) between 1 and 200", name="unit_contact_name_len"),
        sa.CheckConstraint(
            "email is null or (length(email) <= 254 and email ~ '^[^@\\s]+@[^@\\s]+$')",
            name="unit_contact_email",
        ),
    )
    op.create_index("unit_contact_unit_idx", "unit_contact", ["unit_code"])
    op.create_index("unit_contact_agency_idx", "unit_contact", ["agency_code"])
    # reminder is append-only for the app role; this DDL runs as the owner
    op.add_column(
        "reminder",
        sa.Column("agency_code", sa.String(16), sa.ForeignKey("agency.code"), nullable=True),
    )
    op.alter_column("reminder", "unit_code", nullable=True)
    op.create_check_constraint(
        "reminder_holder", "reminder", "(unit_code is null) <> (agency_code is null)"
    )
    op.create_index("reminder_agency_idx", "reminder", ["agency_code", "at"])
    op.create_table(
        "reminder_answer",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "reminder_id",
            sa.BigInteger(),
            sa.ForeignKey("reminder.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("answers", JSONB(), nullable=False),
        sa.Column("import_run_id", sa.BigInteger(), sa.ForeignKey("import_run.id"), nullable=True),
        sa.Column("remote_addr", sa.Text(), nullable=True),
    )
    op.create_index("reminder_answer_reminder_idx", "reminder_answer", ["reminder_id"])
    for when, level in (("update or delete", "row"), ("truncate", "statement")):
        suffix = "_truncate" if level == "statement" else ""
        op.execute(
            f"create trigger reminder_answer_append_only{suffix} before {when}"
            f" on reminder_answer for each {level} execute function task_event_append_only()"
        )


def downgrade() -> None:
    op.drop_table("reminder_answer")
    op.drop_index("reminder_agency_idx", table_name="reminder")
    op.drop_constraint("reminder_holder", "reminder")
    op.alter_column("reminder", "unit_code", nullable=False)
    op.drop_column("reminder", "agency_code")
    op.drop_table("unit_contact")
    op.drop_column("task", "authority")
