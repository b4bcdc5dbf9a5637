"""``crs=`` on ``/api/v1`` layers and downloads: which output CRSs, and how they are named.

Why a fixed list (as the OGC view has, ``api.ogc_docs.CRS_LIST``): every CRS here is an
EPSG code PostGIS transforms to with ``ST_Transform`` (the same path OGC items take), so
an arbitrary PROJ string never reaches the database and each answer is cacheable. The
list (``geo.crs.OUTPUT_CRS``) is WGS 84, VN-2000 geographic, VN-2000 / UTM 48N and 49N, and
the VN-2000 / TM-3 zones EPSG publishes: 5896–5898 (102°, 105°, 108°), 5899 (107°45′) and
the provinces' central meridians 9205–9218 (103°00′ … 108°30′).

Axis order: unlike OGC's EPSG URIs, ``/api/v1`` always answers x/y — longitude/latitude
or easting/northing — like a GeoJSON file with a ``crs`` and like ``ogr2ogr -t_srs``.
"""

from __future__ import annotations

from api.errors import BadParameter
from api.ogc_docs import CRS84, EPSG
from geo.crs_names import OUTPUT_CRS

SUPPORTED: dict[int, str] = OUTPUT_CRS  # one list for /api/v1, /ogc and downloads
CRS_DESCRIPTION = (
    "Output CRS: EPSG:4326 (default), "
    + ", ".join(f"EPSG:{c}" for c in SUPPORTED if c != 4326)
    + " (also as 4326, an OGC URI or CRS84). Coordinates are x/y (lon/lat, easting/northing);"
    " bbox stays in lon/lat."
)


def parse_output_crs(raw: str | None, param: str = "crs") -> int:
    """The EPSG code of ``crs`` (``EPSG:3405``, ``3405``, an EPSG URI, ``[EPSG:3405]``,
    CRS84); anything else is a 400 listing the supported ones."""
    if raw is None:
        return 4326
    value = raw.strip()
    if value in (CRS84, "CRS84", "OGC:CRS84"):
        return 4326
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    code = value.removeprefix(EPSG).removeprefix("http://www.opengis.net/def/crs/EPSG/0/")
    code = code.upper().removeprefix("EPSG:")
    if code.isdigit() and len(code) <= 6 and int(code) in SUPPORTED:
        return int(code)
    listed = ", ".join(f"EPSG:{c}" for c in SUPPORTED)
    raise BadParameter(param, f"unsupported {param} '{raw[:60]}'; supported: {listed}")


def content_crs(epsg: int) -> str:
    """The ``Content-Crs`` header value (OGC API – Features Part 2 form)."""
    return f"<{CRS84 if epsg == 4326 else EPSG + str(epsg)}>"


def crs_label(epsg: int) -> str:
    """What a file's metadata says about its CRS."""
    return f"EPSG:{epsg} ({SUPPORTED[epsg]})"
