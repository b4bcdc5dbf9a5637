"""``iocmap demo --boundaries DIR``: the demo figures drawn on imported boundary files."""

from __future__ import annotations

import geopandas as gpd
import shapely
from typer.testing import CliRunner

from iocmap.cli import app as cli
from tests.import_fixtures import demo_communes, rows, scalar, write_layer


def test_demo_on_a_folder_of_boundary_files(scratch_url, scratch, tmp_path):
    src = demo_communes("96")
    moved = shapely.affinity.translate  # a visibly different shape: shifted by ≈ 10 m
    geoms = [moved(g, 1e-4, 0) for g in src.geometry]
    folder = tmp_path / "ranh_gioi"
    write_layer(
        gpd.GeoDataFrame({"ma_xa": src.code, "dan_so": 1000}, geometry=geoms, crs=4326),
        folder / "xa_ca_mau.geojson",
    )
    union = shapely.union_all(geoms)
    write_layer(
        gpd.GeoDataFrame({"ma_tinh": ["96"], "dan_so": [1988464]}, geometry=[union], crs=4326),
        folder / "tinh_ca_mau.geojson",
    )
    res = CliRunner().invoke(
        cli, ["demo", "--boundaries", str(folder)], env={"IOCMAP_DATABASE_URL": scratch_url}
    )
    assert res.exit_code == 0, res.output
    assert "xa_ca_mau.geojson (communes)" in res.output
    assert "tinh_ca_mau.geojson (provinces)" in res.output
    # the figures are the demo's, the shapes are the files'
    assert scalar(scratch, "select count(*) from task") > 50_000
    quality = dict(
        rows(
            scratch,
            "select geometry_quality, count(*) from admin_unit where level = 'commune' group by 1",
        )
    )
    assert quality["official"] == len(src) and quality["approximate"] == 3321 - len(src)
    pop, area = rows(scratch, "select population, ST_Area(geom) from admin_unit where code = '96'")[
        0
    ]
    assert pop == 1988464 and abs(area - union.area) / union.area < 1e-4


def test_demo_boundaries_folder_without_files_is_one_clear_line(scratch_url, tmp_path):
    res = CliRunner().invoke(
        cli, ["demo", "--boundaries", str(tmp_path)], env={"IOCMAP_DATABASE_URL": scratch_url}
    )
    assert res.exit_code == 1 and "no boundary file" in res.output
    assert "Traceback" not in res.output


def test_each_file_level_is_read_from_its_fields(tmp_path):
    """`demo --boundaries DIR` reads a file's level from its fields, not from its name."""
    import geopandas as gpd
    from shapely.geometry import box

    from geo.demo.loader import boundary_files

    def write(file: str, **cols) -> None:
        gpd.GeoDataFrame(cols, geometry=[box(105, 20, 106, 21)], crs=4326).to_file(
            tmp_path / file, driver="GeoJSON"
        )

    write("tinh_but_communes.geojson", ma_xa=["00004"], ten_xa=["Ba Đình"], ma_tinh=["01"])
    write("layer1.geojson", ma_tinh=["01"], ten_tinh=["Hà Nội"])
    write("layer2.geojson", ma_dvhc=["31078"], ten=["Xã X"])
    write("layer3.geojson", code=["96"], name=["Cà Mau"])
    found = boundary_files(tmp_path)
    names = {level: sorted(p.name for p in paths) for level, paths in found.items()}
    assert names == {
        "commune": ["layer2.geojson", "tinh_but_communes.geojson"],
        "province": ["layer1.geojson", "layer3.geojson"],
    }
