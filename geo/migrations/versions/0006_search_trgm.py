"""Trigram search on unit names; import_run records dry runs and outcomes too

Revision ID: 0006_search_trgm
Revises: 0005_app_role
Create Date: 2026-12-01

Why: search and the layers' ``q``/``name`` must find ``ba dinh``, ``cu mgar`` and typos
(``geo/read/search.py``). They match on the compact key ``replace(name_key, ' ', '')``;
a GIN ``gin_trgm_ops`` index on that expression serves both ``like '%…%'`` and
``similarity``/``%``. ``pg_trgm`` is created here: migrations run as the owner role
(a superuser on the local cluster; on a managed server the extension must be allowed
for the owner), never as the app role.

``GET /api/v1/imports`` lists every import, dry runs and rejected ones included, so
``import_run`` gains ``dry_run``, ``outcome`` and ``version_before``. The table is
append-only: old rows are not updated; a NULL ``outcome`` (a row from before this
migration, always a committed import) reads as ``imported`` or ``no_changes`` from its
counts (``geo/read/imports.py``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_search_trgm"
down_revision = "0005_app_role"
branch_labels = None
depends_on = None

OUTCOMES = "('imported', 'no_changes', 'dry_run', 'rejected')"


def upgrade() -> None:
    op.execute("create extension if not exists pg_trgm")
    op.execute(
        "create index admin_unit_compact_key_trgm on admin_unit"
        " using gin ((replace(name_key, ' ', '')) gin_trgm_ops)"
    )
    op.add_column(
        "import_run",
        sa.Column("dry_run", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("import_run", sa.Column("outcome", sa.Text(), nullable=True))
    op.add_column("import_run", sa.Column("version_before", sa.BigInteger(), nullable=True))
    op.create_check_constraint(
        "import_run_outcome", "import_run", f"outcome is null or outcome in {OUTCOMES}"
    )
    op.create_index("import_run_at_idx", "import_run", ["at", "id"])


def downgrade() -> None:
    op.drop_index("import_run_at_idx", table_name="import_run")
    op.drop_constraint("import_run_outcome", "import_run", type_="check")
    op.drop_column("import_run", "version_before")
    op.drop_column("import_run", "outcome")
    op.drop_column("import_run", "dry_run")
    op.execute("drop index if exists admin_unit_compact_key_trgm")
    # pg_trgm stays: another schema object may use it
