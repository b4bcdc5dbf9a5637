"""VN-2000 TM-3 zones of the provinces' central meridians (EPSG 9205–9218) in spatial_ref_sys

Revision ID: 0014_vn2000_tm3_zones
Revises: 0013_notice_numbers
Create Date: 2026-12-06

Why: provincial GIS offices work in VN-2000 / TM-3 with their province's central meridian
(103°00′ … 108°30′); EPSG publishes these as 9205–9218, but PostGIS 3.3's spatial_ref_sys
stops at the four older zones (5896–5899), so ``ST_Transform`` could not reach them. The
rows are written from pyproj's EPSG definitions with ``auth_name = 'EPSG'``, so PostGIS
asks PROJ for ``EPSG:92xx`` exactly as pyproj does. An owner that may not write
spatial_ref_sys (a managed server that ships them already) skips rows that exist.
"""

import warnings

from alembic import op
from sqlalchemy import text

revision = "0014_vn2000_tm3_zones"
down_revision = "0013_notice_numbers"
branch_labels = None
depends_on = None

ZONES = range(9205, 9219)


def upgrade() -> None:
    from pyproj import CRS

    conn = op.get_bind()
    have = {
        r[0]
        for r in conn.execute(
            text("select srid from spatial_ref_sys where srid between 9205 and 9218")
        )
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyproj: "you will likely lose … a PROJ string"
        rows = [
            {
                "srid": c,
                "wkt": CRS.from_epsg(c).to_wkt("WKT1_GDAL"),
                "p4": CRS.from_epsg(c).to_proj4(),
            }
            for c in ZONES
            if c not in have
        ]
    for row in rows:
        conn.execute(
            text(
                "insert into spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)"
                " values (:srid, 'EPSG', :srid, :wkt, :p4) on conflict (srid) do nothing"
            ),
            row,
        )


def downgrade() -> None:
    pass  # the rows are EPSG's own definitions; other data may use them
