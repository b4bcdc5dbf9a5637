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


# The central meridian Circular 973/2001/TT-TCĐC (appendix) gives each former province, for
# each of the 34 provinces of 1 July 2025 (Resolution 202/2025/QH15): the former province
# that holds the new province's seat first — its meridian is the one suggested — then the
# others merged into it, whose older maps and cadastral files are in their own zones.
FORMER_PROVINCES: dict[str, tuple[tuple[str, float], ...]] = {
    "01": (("Hà Nội", 105.0),),
    "04": (("Cao Bằng", 105.75),),
    "08": (("Tuyên Quang", 106.0), ("Hà Giang", 105.5)),
    "11": (("Điện Biên", 103.0),),
    "12": (("Lai Châu", 103.0),),
    "14": (("Sơn La", 104.0),),
    "15": (("Yên Bái", 104.75), ("Lào Cai", 104.75)),
    "19": (("Thái Nguyên", 106.5), ("Bắc Kạn", 106.5)),
    "20": (("Lạng Sơn", 107.25),),
    "22": (("Quảng Ninh", 107.75),),
    "24": (("Bắc Giang", 107.0), ("Bắc Ninh", 105.5)),
    "25": (("Phú Thọ", 104.75), ("Vĩnh Phúc", 105.0), ("Hòa Bình", 106.0)),
    "31": (("Hải Phòng", 105.75), ("Hải Dương", 105.5)),
    "33": (("Hưng Yên", 105.5), ("Thái Bình", 105.5)),
    "37": (("Ninh Bình", 105.0), ("Hà Nam", 105.0), ("Nam Định", 105.5)),
    "38": (("Thanh Hóa", 105.0),),
    "40": (("Nghệ An", 104.75),),
    "42": (("Hà Tĩnh", 105.5),),
    "44": (("Quảng Bình", 106.0), ("Quảng Trị", 106.25)),
    "46": (("Thừa Thiên Huế", 107.0),),
    "48": (("Đà Nẵng", 107.75), ("Quảng Nam", 107.75)),
    "51": (("Quảng Ngãi", 108.0), ("Kon Tum", 107.5)),
    "52": (("Bình Định", 108.25), ("Gia Lai", 108.5)),
    "56": (("Khánh Hòa", 108.25), ("Ninh Thuận", 108.25)),
    "66": (("Đắk Lắk", 108.5), ("Phú Yên", 108.5)),
    "68": (("Lâm Đồng", 107.75), ("Đắk Nông", 108.5), ("Bình Thuận", 108.5)),
    "75": (("Đồng Nai", 107.75), ("Bình Phước", 106.25)),
    "79": (("TP. Hồ Chí Minh", 105.75), ("Bình Dương", 105.75), ("Bà Rịa – Vũng Tàu", 107.75)),
    "80": (("Long An", 105.75), ("Tây Ninh", 105.5)),
    "82": (("Tiền Giang", 105.75), ("Đồng Tháp", 105.0)),
    "86": (("Vĩnh Long", 105.5), ("Bến Tre", 105.75), ("Trà Vinh", 105.5)),
    "91": (("Kiên Giang", 104.5), ("An Giang", 104.75)),
    "92": (("Cần Thơ", 105.0), ("Sóc Trăng", 105.5), ("Hậu Giang", 105.0)),
    "96": (("Cà Mau", 104.5), ("Bạc Liêu", 105.0)),
}


def zone_of_meridian(meridian: float) -> int:
    """The EPSG code of the TM-3 zone with this central meridian."""
    return next(code for code, m in TM3_MERIDIANS.items() if m == meridian)


def official_tm3(province_code: str) -> int | None:
    """The TM-3 zone suggested for a province of 2025: its seat's former province's zone
    in Circular 973/2001/TT-TCĐC (``FORMER_PROVINCES``); None for a code not in the table."""
    former = FORMER_PROVINCES.get(province_code)
    return zone_of_meridian(former[0][1]) if former else None


def nearest_tm3(lon: float) -> int:
    """The TM-3 zone (EPSG code) whose central meridian is nearest ``lon``: the fallback for a
    province outside the table (a boundary set with other codes). Ties go west."""
    return min(
        TM3_MERIDIANS, key=lambda code: (abs(TM3_MERIDIANS[code] - lon), TM3_MERIDIANS[code])
    )
