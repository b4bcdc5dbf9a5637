"""National indicators: values that belong to no province (laws and decrees issued, the
digital economy's share of GDP)

Revision ID: 0017_national_indicators
Revises: 0016_office_layouts
Create Date: 2026-12-06

Why: the steering committee's reports quote figures of the whole country (17 laws, 56
decrees, 60 circulars and 704 local documents issued in the first nine months of 2025);
they are indicators of the level ``national``, stored like every indicator value but with
no unit (``unit_code`` null), one value per indicator and period.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_national_indicators"
down_revision = "0016_office_layouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("indicator_value", "unit_code", existing_type=sa.String(5), nullable=True)
    op.create_index(
        "indicator_value_national_uq",
        "indicator_value",
        ["indicator_code", "period"],
        unique=True,
        postgresql_where=sa.text("unit_code is null"),
    )


def downgrade() -> None:
    op.drop_index("indicator_value_national_uq", table_name="indicator_value")
    op.execute("delete from indicator_value where unit_code is null")
    op.alter_column("indicator_value", "unit_code", existing_type=sa.String(5), nullable=False)
