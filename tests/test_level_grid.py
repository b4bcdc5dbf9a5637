"""Display levels (``zoom=``: z6/z9/z12) are cleaned like the stored geometry: on the
6-decimal grid, no ring that collapses when printed at 6 decimals, no sliver hole.

Why: issue 25 found Bắc Ninh served at ``zoom=9`` with a hole ``[A,B,B,A]`` ("Too few
points": a 9e-6 m² sliver of the stored z9 level, valid in PostGIS until printed at 6
decimals) and a 0.24 m² hole between two communes kept at every level. At 6 decimals and
more a level prints as stored (``geo.read.features.output_grid``), so the level itself
must be clean.
"""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy import Engine, text

from geo.ingest.coverage import area_m2
from geo.ingest.topology import coverage_levels, dissolved_levels
from geo.levels import DEFAULT_LEVELS

# a triangle whose corners round to two points at 6 decimals: the ring [A,B,B,A]
COLLAPSING = [(105.0050001, 21.005), (105.0050011, 21.005), (105.0050006, 21.0050003)]
# a 0.24 m² sliver (0.2 m × 1.1 m) on the grid
SLIVER = [(105.003, 21.003), (105.003002, 21.003), (105.003002, 21.00301), (105.003, 21.00301)]


def served_invalid(engine: Engine, geoms) -> list[int]:
    """Indices of ``geoms`` invalid once printed as the API prints a stored level at
    precision 6 (``ST_AsGeoJSON(geom, 6)``), judged by PostGIS and by shapely."""
    wkb = [shapely.to_wkb(g, hex=True, include_srid=False) for g in geoms]
    with engine.connect() as conn:
        texts = (
            conn.execute(
                text(
                    "select ST_AsGeoJSON(ST_GeomFromWKB(decode(w, 'hex'), 4326), 6)"
                    " from unnest(cast(:w as text[])) with ordinality t(w, i) order by i"
                ),
                {"w": wkb},
            )
            .scalars()
            .all()
        )
        bad_pg = (
            conn.execute(
                text(
                    "select i - 1 from unnest(cast(:g as text[])) with ordinality t(g, i)"
                    " where not ST_IsValid(ST_GeomFromGeoJSON(g))"
                ),
                {"g": texts},
            )
            .scalars()
            .all()
        )
    bad = {i for i, t in enumerate(texts) if not shapely.from_geojson(t).is_valid}
    return sorted(bad | set(bad_pg))


def test_levels_have_no_collapsing_ring_nor_sliver_hole(engine: Engine) -> None:
    a = shapely.Polygon(
        [(105.0, 21.0), (105.01, 21.0), (105.01, 21.01), (105.0, 21.01)], [COLLAPSING, SLIVER]
    )
    b = shapely.box(105.01, 21.0, 105.02, 21.01)
    levels = coverage_levels([a, b], DEFAULT_LEVELS)
    provinces = dissolved_levels(levels, ["01", "01"])
    for band in DEFAULT_LEVELS:
        geoms = [*levels[band], provinces[band]["01"]]
        assert not served_invalid(engine, geoms), f"{band}: invalid at 6 decimals"
        for g in geoms:
            assert shapely.is_valid(g)
            xy = shapely.get_coordinates(g) * 1e6
            assert np.abs(xy - np.round(xy)).max() < 1e-6, f"{band}: off the 6-decimal grid"
            holes = [shapely.Polygon(r) for p in g.geoms for r in p.interiors]
            assert not holes or area_m2(np.array(holes, dtype=object)).min() >= 1.0, band
        # the two communes still share their border exactly
        assert shapely.coverage_is_valid(np.array(levels[band], dtype=object))
