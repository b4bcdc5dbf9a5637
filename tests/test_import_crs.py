"""VN-2000 → WGS 84 pinned to EPSG:6960, checked against an independent computation."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Transformer

from geo.crs import in_vietnam, parse_crs, towgs84_6960, vn2000_tm3, wgs84_transformer
from geo.errors import BadInput
from tests.vn2000_reference import metres, tm_forward, wgs84_to_tm3, wgs84_to_vn2000

# Known WGS 84 points: Ninh Kiều wharf (Cần Thơ, inside PROJ's Mekong-delta extent for
# EPSG:5194), a point in Cà Mau, Hoàn Kiếm lake (Hà Nội).
CAN_THO = (105.7880, 10.0342)
POINTS = np.array([CAN_THO, (105.1500, 9.1770), (105.8522, 21.0287)])


def test_pinned_epsg5897_matches_the_independent_chain_to_a_millimetre():
    e, n = wgs84_to_tm3(POINTS[:, 0], POINTS[:, 1], 105.0)
    transformer, notes = wgs84_transformer(parse_crs("EPSG:5897"))
    lon, lat = transformer.transform(e, n)
    assert metres(POINTS[:, 0], POINTS[:, 1], lon, lat).max() < 0.005
    assert any("EPSG:6960" in note for note in notes)


def test_proj_left_alone_switches_datum_in_the_mekong_delta():
    """Why we pin: the default operation differs by ≈0.8 m at Cần Thơ (EPSG:5194 there)."""
    e, n = wgs84_to_tm3(*CAN_THO, 105.0)
    default = Transformer.from_crs(5897, 4326, always_xy=True)
    off = metres(*CAN_THO, *default.transform(e, n)).max()
    assert 0.6 < off < 1.0


def test_shorthand_tm3_equals_epsg_5897_and_its_towgs84_flips_the_rotations():
    crs = parse_crs("vn2000:tm3:105")
    assert "+lon_0=105" in crs.to_proj4() and "+k=0.9999" in crs.to_proj4()
    assert "+x_0=500000" in crs.to_proj4()
    t_short, _ = wgs84_transformer(crs)
    t_epsg, _ = wgs84_transformer(CRS.from_epsg(5897))
    e, n = wgs84_to_tm3(POINTS[:, 0], POINTS[:, 1], 105.0)
    a, b = t_short.transform(e, n), t_epsg.transform(e, n)
    assert metres(*a, *b).max() < 0.001
    tx, ty, tz, rx, ry, rz, ds = towgs84_6960()
    assert (rx, ry, rz) == (0.00928836, -0.01975479, 0.00427372)  # published: −, +, −
    assert (tx, ds) == (-191.90441429, 0.252906278)


def test_published_signs_in_a_towgs84_are_caught_and_corrected():
    tx, ty, tz, rx, ry, rz, ds = towgs84_6960()
    as_published = f"{tx},{ty},{tz},{-rx},{-ry},{-rz},{ds}"
    raw = CRS.from_proj4(
        "+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84"
        f" +towgs84={as_published} +units=m +no_defs"
    )
    e, n = wgs84_to_tm3(*CAN_THO, 105.0)
    naive = Transformer.from_crs(raw, 4326, always_xy=True).transform(e, n)
    assert metres(*CAN_THO, *naive).max() > 0.4  # what copying the signs costs
    fixed, notes = wgs84_transformer(raw)
    assert metres(*CAN_THO, *fixed.transform(e, n)).max() < 0.005
    assert any("position vector" in note for note in notes)


@pytest.mark.parametrize("code", [5896, 5897, 5898, 5899, 9205, 9210, 9218, 3405, 3406, 4756])
def test_every_vn2000_crs_is_pinned(code):
    _, notes = wgs84_transformer(CRS.from_epsg(code))
    assert notes == ["VN-2000 → WGS 84 pinned to EPSG:6960"]


def test_esri_prj_of_vn2000_is_recognised_and_pinned():
    esri = CRS.from_wkt(CRS.from_epsg(9210).to_wkt("WKT1_ESRI"))
    transformer, notes = wgs84_transformer(esri)
    e, n = wgs84_to_tm3(*CAN_THO, 105.75)
    assert metres(*CAN_THO, *transformer.transform(e, n)).max() < 0.005
    assert notes == ["VN-2000 → WGS 84 pinned to EPSG:6960"]


def test_tm3_meridians_other_than_whole_degrees():
    crs = vn2000_tm3(107.75)  # = EPSG:5899
    e, n = tm_forward(*wgs84_to_vn2000(107.9, 11.5), 107.75)
    lon, lat = wgs84_transformer(crs)[0].transform(e, n)
    assert metres(107.9, 11.5, lon, lat).max() < 0.005


@pytest.mark.parametrize("text", ["vn2000:tm3", "vn2000:utm:50", "EPSG:999999", "nonsense"])
def test_bad_crs_text_is_a_clear_error(text):
    with pytest.raises(BadInput) as err:
        parse_crs(text)
    assert "vn2000:tm3" in err.value.message or "EPSG" in err.value.message


def test_offshore_special_zones_are_inside_vietnam():
    hoang_sa, truong_sa, swapped = (112.0, 16.5), (114.5, 9.5), (10.03, 105.78)
    lon, lat = (
        np.array([hoang_sa[0], truong_sa[0], swapped[0]]),
        np.array([hoang_sa[1], truong_sa[1], swapped[1]]),
    )
    assert in_vietnam(lon, lat).tolist() == [True, True, False]
