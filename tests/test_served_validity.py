"""Every geometry served from the demo data is valid: every unit, every level (band), every
accepted precision (0-15), OGC items in VN-2000, CSV WKT and GPKG downloads.

Why every precision: rounding at serialisation collapsed slivers into invalid rings; output
below the stored 6-decimal grid is snap-rounded with shapely instead (``output_grid``,
``on_grid_geojson``).
The same check runs after messy synthetic imports (test_import_real_failures) and on the
real sample (test_real_sample).
"""

from __future__ import annotations

from tests.served_geometry import assert_served_valid


def test_every_demo_geometry_is_valid_at_every_precision_and_band(engine, db_url):
    checked = assert_served_valid(
        db_url, engine, province="40", precisions=range(16), all_communes=True
    )
    assert checked > 16 * 4 * (34 + 3321)
