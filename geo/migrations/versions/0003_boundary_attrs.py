"""Boundary attributes from the file: population/area with their source, unknown columns,
the province-outline choice and who imported

Revision ID: 0003_boundary_attrs
Revises: 0002_auth
Create Date: 2026-12-01

Why: a real boundary file carries population (``dan_so``) and area (``dien_tich_km2``);
they are stored with where each value came from (``file`` | ``official`` list), and the
file's other columns are kept verbatim in ``source_attributes`` so nothing the office sent
is lost. Existing geometry is snap-rounded to the 6-decimal grid stored from now on.
``outline_kept`` marks a province whose geometry is the province file's own
outline (``--province-outline``) instead of the union of its communes; ``imported_by`` is
the actor of the last boundary import that wrote the unit.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_boundary_attrs"
down_revision = "0002_auth"
branch_labels = None
depends_on = None


# Snap-rounding for output at fewer decimals (or in another CRS). GEOS 3.11's
# ST_ReducePrecision can raise a TopologyException on real shapes; a response must never
# fail for it, so each failure falls back to a repaired snap, then to the repair alone.
REDUCE_FN = """
create or replace function reduce_precision_safe(g geometry, grid float8) returns geometry
language plpgsql immutable parallel safe as $$
begin
  return ST_Multi(ST_CollectionExtract(ST_ReducePrecision(g, grid), 3));
exception when others then
  begin
    return ST_Multi(ST_CollectionExtract(
      ST_ReducePrecision(ST_MakeValid(ST_SnapToGrid(g, grid)), grid), 3));
  exception when others then
    return ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SnapToGrid(g, grid)), 3));
  end;
end
$$
"""


def upgrade() -> None:
    op.execute(REDUCE_FN)
    op.add_column("admin_unit", sa.Column("area_source", sa.Text(), nullable=True))
    op.add_column("admin_unit", sa.Column("population_source", sa.Text(), nullable=True))
    op.add_column("admin_unit", sa.Column("source_attributes", JSONB(), nullable=True))
    op.add_column(
        "admin_unit",
        sa.Column("outline_kept", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("admin_unit", sa.Column("imported_by", sa.Text(), nullable=True))
    op.execute("update admin_unit set area_source = 'official' where area_km2 is not null")
    # Stored geometry lies on the 6-decimal grid from now on (served at 6 decimals exactly,
    # never rounded at serialisation): snap-round what an earlier version stored.
    for table in ("admin_unit", "unit_geometry_level"):
        op.execute(
            f"update {table} set geom = reduce_precision_safe(geom, 1e-6)"  # noqa: S608
            " where not ST_IsEmpty(geom)"
        )


def downgrade() -> None:
    op.execute("drop function if exists reduce_precision_safe(geometry, float8)")
    for col in ("imported_by", "outline_kept", "source_attributes", "population_source",
                "area_source"):  # fmt: skip
        op.drop_column("admin_unit", col)
