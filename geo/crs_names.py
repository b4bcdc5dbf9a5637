"""The output CRSs every route with ``crs=`` offers, named as EPSG names them.

A module without pyproj, so that the serving process can list and check them without
loading PROJ (PostGIS transforms; see ``api/routers/_out_crs.py``)."""

from __future__ import annotations

# The output CRSs every route with ``crs=`` offers, with EPSG's names: WGS 84, VN-2000
# geographic, UTM 48N/49N, the four older TM-3 zones and the provinces' TM-3 zones by central
# meridian (9205–9218; migration 0014 puts them into PostGIS).
OUTPUT_CRS: dict[int, str] = {
    4326: "WGS 84 (longitude, latitude)",
    4756: "VN-2000 geographic (longitude, latitude)",
    3405: "VN-2000 / UTM zone 48N",
    3406: "VN-2000 / UTM zone 49N",
    5896: "VN-2000 / TM-3 zone 481 (102°00′)",
    5897: "VN-2000 / TM-3 zone 482 (105°00′)",
    5898: "VN-2000 / TM-3 zone 491 (108°00′)",
    5899: "VN-2000 / TM-3 107-45 (Đà Nẵng, 107°45′)",
    9205: "VN-2000 / TM-3 103-00",
    9206: "VN-2000 / TM-3 104-00",
    9207: "VN-2000 / TM-3 104-30",
    9208: "VN-2000 / TM-3 104-45",
    9209: "VN-2000 / TM-3 105-30",
    9210: "VN-2000 / TM-3 105-45",
    9211: "VN-2000 / TM-3 106-00",
    9212: "VN-2000 / TM-3 106-15",
    9213: "VN-2000 / TM-3 106-30",
    9214: "VN-2000 / TM-3 107-00",
    9215: "VN-2000 / TM-3 107-15",
    9216: "VN-2000 / TM-3 107-30",
    9217: "VN-2000 / TM-3 108-15",
    9218: "VN-2000 / TM-3 108-30",
}

# Central meridian (degrees east) of each VN-2000 TM-3 zone above: the provinces' own grids.
TM3_MERIDIANS: dict[int, float] = {
    5896: 102.0,
    5897: 105.0,
    5898: 108.0,
    5899: 107.75,
    9205: 103.0,
    9206: 104.0,
    9207: 104.5,
    9208: 104.75,
    9209: 105.5,
    9210: 105.75,
    9211: 106.0,
    9212: 106.25,
    9213: 106.5,
    9214: 107.0,
    9215: 107.25,
    9216: 107.5,
    9217: 108.25,
    9218: 108.5,
}


def nearest_tm3(lon: float) -> int:
    """The TM-3 zone (EPSG code) whose central meridian is nearest ``lon``.

    Why not the official table: Circular 973/2001/TT-TCĐC gives each of the 63 former
    provinces its meridian; the 34 provinces of 1 July 2025 join several of them and no
    table for the new ones is available offline here, so the zone suggested for a province
    is the one nearest its centroid (ties: the western meridian)."""
    return min(
        TM3_MERIDIANS, key=lambda code: (abs(TM3_MERIDIANS[code] - lon), TM3_MERIDIANS[code])
    )
