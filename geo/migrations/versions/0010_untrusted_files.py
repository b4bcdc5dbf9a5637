"""import_run records refused and interrupted imports too, with the reason

Revision ID: 0010_untrusted_files
Revises: 0009_central_health_targets
Create Date: 2026-12-06

Why: an upload refused before it reached the data (unreadable, over a limit, stopped by
the parsing sandbox) and an upload whose request died (client gone, worker killed) left
no trace: an operator could not tell that a province had tried to report. ``outcome``
gains ``refused`` and ``interrupted``; ``reason`` keeps what the sender was told (or what
stopped the request), bounded by the writer. The table stays append-only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_untrusted_files"
down_revision = "0009_central_health_targets"
branch_labels = None
depends_on = None

OLD = "('imported', 'no_changes', 'dry_run', 'rejected')"
NEW = "('imported', 'no_changes', 'dry_run', 'rejected', 'refused', 'interrupted')"


def upgrade() -> None:
    op.add_column("import_run", sa.Column("reason", sa.Text(), nullable=True))
    op.drop_constraint("import_run_outcome", "import_run", type_="check")
    op.create_check_constraint(
        "import_run_outcome", "import_run", f"outcome is null or outcome in {NEW}"
    )


def downgrade() -> None:
    op.drop_constraint("import_run_outcome", "import_run", type_="check")
    op.create_check_constraint(
        "import_run_outcome", "import_run", f"outcome is null or outcome in {OLD}"
    )
    op.drop_column("import_run", "reason")
