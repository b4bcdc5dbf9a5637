"""Every geometry served from the demo data is valid: every unit, every level (band), every
precision served differently, OGC items in VN-2000, CSV WKT and GPKG downloads.

Why every precision below the stored 6-decimal grid (0-5): rounding at serialisation
collapsed slivers into invalid rings; such output is snap-rounded with shapely instead
(``output_grid``, ``on_grid_geojson``), each precision to its own grid. At 6 and past it
(7-15) the stored coordinates print as they are (``features.output_grid`` returns None for
all of them): 6 and 15 stand for that branch.
The same check runs after messy synthetic imports (test_import_real_failures) and on the
real sample (test_real_sample).
"""

from __future__ import annotations

from tests.served_geometry import assert_served_valid

PRECISIONS = (0, 1, 2, 3, 4, 5, 6, 15)


def test_every_demo_geometry_is_valid_at_every_precision_and_band(engine, db_url):
    checked = assert_served_valid(
        db_url, engine, province="40", precisions=PRECISIONS, all_communes=True
    )
    assert checked > len(PRECISIONS) * 4 * (34 + 3321)
