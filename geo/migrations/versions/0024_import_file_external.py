"""Kept files stored uncompressed, so a slice is read without the rest

Revision ID: 0024_import_file_external
Revises: 0023_difficulties
Create Date: 2026-12-07

Why (issue 28): ``GET /api/v1/imports/{id}/file`` streams a kept file in chunks
(``substring`` of the ``bytes`` column); with PostgreSQL's default storage (compressed)
each chunk decompresses the value from its start. Uploads are mostly ZIP, XLSX or GeoPackage
already compressed, so ``EXTERNAL`` (out of line, uncompressed) costs little room. Only
rows written after this change are stored that way; older ones read the same, slower.
"""

from alembic import op

revision = "0024_import_file_external"
down_revision = "0023_difficulties"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("alter table import_file alter column bytes set storage external")


def downgrade() -> None:
    op.execute("alter table import_file alter column bytes set storage extended")
