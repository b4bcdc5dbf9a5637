"""VN-2000 done properly: parse ``--crs``, and reproject to WGS 84 with EPSG:6960 pinned.

Why pinned: PROJ knows two VN-2000 → WGS 84 parameter sets and, left to itself, picks
"VN-2000 to WGS 84 (1)" (EPSG:5194) inside its Mekong delta extent and the national
"(2)" (EPSG:6960) elsewhere — about 0.8 m apart at Cần Thơ, so one file would be
reprojected with two datums. We always use EPSG:6960.

Why flipped signs: EPSG:6960 is published in the *coordinate frame* convention; PROJ's
``+towgs84`` takes *position vector* rotations. Copying the published rotations into a
``+towgs84`` as they are moves points by 0.5–0.8 m; the shorthand CRS below negates them.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Sequence

from pyproj import CRS, Transformer
from pyproj.crs import CoordinateOperation
from pyproj.exceptions import CRSError
from pyproj.transformer import TransformerGroup

from geo.errors import BadInput

PINNED_OPERATION = 6960  # VN-2000 to WGS 84 (2), national 7-parameter set
VN2000_GEOGRAPHIC = 4756
VN2000_UTM = {48: 3405, 49: 3406}
# Vietnam including the offshore special zones (Hoàng Sa ≈ 112°E, Trường Sa ≈ 114.5°E).
VIETNAM_BOUNDS = (101.0, 5.5, 118.5, 24.0)  # lon_min, lat_min, lon_max, lat_max
_SHORTHAND = re.compile(
    r"^vn-?2000(?::(?P<kind>tm-?3|utm)(?::(?P<arg>\d+(?:\.\d+)?))?)?$", re.IGNORECASE
)


def towgs84_6960() -> tuple[float, ...]:
    """EPSG:6960's parameters as ``+towgs84`` wants them (position vector: rotations negated)."""
    op = CoordinateOperation.from_epsg(PINNED_OPERATION)
    values = {p.name: float(p.value) for p in op.params}
    if "coordinate frame" not in op.method_name.lower():
        raise RuntimeError(f"EPSG:{PINNED_OPERATION} changed method: {op.method_name}")
    return (
        values["X-axis translation"],
        values["Y-axis translation"],
        values["Z-axis translation"],
        -values["X-axis rotation"],
        -values["Y-axis rotation"],
        -values["Z-axis rotation"],
        values["Scale difference"],
    )


def vn2000_tm3(central_meridian: float) -> CRS:
    """VN-2000 TM-3 zone for a province's central meridian (k 0.9999, false easting 500 km)."""
    if not 100.0 <= central_meridian <= 120.0:
        raise BadInput(
            f"central meridian {central_meridian}° is not a Vietnamese TM-3 meridian", field="crs"
        )
    towgs84 = ",".join(f"{v:.10g}" for v in towgs84_6960())
    return CRS.from_proj4(
        f"+proj=tmerc +lat_0=0 +lon_0={central_meridian:g} +k=0.9999 +x_0=500000 +y_0=0"
        f" +ellps=WGS84 +towgs84={towgs84} +units=m +no_defs +type=crs"
    )


def parse_crs(text: str) -> CRS:
    """``EPSG:5897``, ``5897``, ``vn2000:tm3:105.5``, ``vn2000:utm:48``, ``vn2000``, a PROJ
    string or WKT → a CRS; anything else is a clear error naming the accepted forms."""
    value = (text or "").strip()
    m = _SHORTHAND.match(value)
    if m:
        kind, arg = (m.group("kind") or "").lower().replace("-", ""), m.group("arg")
        if not kind:
            return CRS.from_epsg(VN2000_GEOGRAPHIC)
        if kind == "tm3" and arg:
            return vn2000_tm3(float(arg))
        if kind == "utm" and arg and int(float(arg)) in VN2000_UTM:
            return CRS.from_epsg(VN2000_UTM[int(float(arg))])
        raise BadInput(
            f"cannot read CRS '{text}': use vn2000:tm3:<central meridian> or vn2000:utm:48|49",
            field="crs",
        )
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except CRSError as exc:
        raise BadInput(
            f"cannot read CRS '{text}': give an EPSG code (EPSG:5897), 'vn2000:tm3:105.5',"
            " a PROJ string or WKT",
            field="crs",
        ) from exc


def is_vn2000(crs: CRS) -> bool:
    """Whether the CRS sits on the VN-2000 datum (EPSG codes, ESRI .prj names alike)."""
    base = crs.source_crs if crs.is_bound else crs
    geodetic = base.geodetic_crs if base is not None else None
    if geodetic is None:
        return False
    if geodetic.to_epsg(min_confidence=70) == VN2000_GEOGRAPHIC:
        return True
    name = (geodetic.datum.name if geodetic.datum else "").lower().replace("_", " ")
    return "vietnam 2000" in name or "vn 2000" in name or "vn-2000" in name


def _uses_6960(transformer: Transformer) -> bool:
    text = json.dumps(transformer.to_json_dict())
    return f'"code": {PINNED_OPERATION}' in text and '"authority": "EPSG"' in text


def _close(a: tuple[float, ...], b: tuple[float, ...], tol: float = 1e-6) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def wgs84_transformer(crs: CRS) -> tuple[Transformer, list[str]]:
    """A transformer to EPSG:4326 (lon/lat order), pinned to EPSG:6960 for VN-2000 sources,
    and notes for the report explaining what was decided."""
    notes: list[str] = []
    if crs.is_bound:
        bound_op = crs.coordinate_operation
        params = tuple(bound_op.towgs84 or ()) if bound_op is not None else ()
        good = towgs84_6960()
        as_published = good[:3] + tuple(-v for v in good[3:6]) + good[6:]
        if _close(params, as_published):
            notes.append(
                "the file's +towgs84 copies EPSG:6960's rotations with the published signs"
                " (coordinate frame) where +towgs84 needs position vector signs; that would"
                " shift points by ~0.5–0.8 m, so EPSG:6960 is applied correctly instead"
            )
            with warnings.catch_warnings():  # "may lose information": not for a tmerc/longlat
                warnings.simplefilter("ignore", UserWarning)
                fixed = (crs.source_crs or crs).to_proj4().replace("+type=crs", "")
            fixed = re.sub(r"\+towgs84=\S+", "", fixed)
            crs = CRS.from_proj4(
                f"{fixed} +towgs84={','.join(f'{v:.10g}' for v in good)} +type=crs"
            )
        elif _close(params, good):
            notes.append("VN-2000 → WGS 84 with EPSG:6960 (the CRS's +towgs84)")
        elif is_vn2000(crs):
            notes.append(
                f"the CRS carries its own VN-2000 → WGS 84 parameters {params}, not EPSG:6960;"
                " they were used as given"
            )
        return Transformer.from_crs(crs, 4326, always_xy=True), notes
    if is_vn2000(crs):
        group = TransformerGroup(crs, 4326, always_xy=True)
        for t in group.transformers:
            if _uses_6960(t):
                notes.append(f"VN-2000 → WGS 84 pinned to EPSG:{PINNED_OPERATION}")
                return t, notes
        raise BadInput(
            f"PROJ offers no EPSG:{PINNED_OPERATION} transformation from {crs.name}", field="crs"
        )
    return Transformer.from_crs(crs, 4326, always_xy=True), notes


def looks_geographic(bounds: Sequence[float]) -> bool:
    """Coordinates that can only be degrees (for files without a CRS)."""
    minx, miny, maxx, maxy = bounds
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def in_vietnam(lon, lat):
    """Vectorised test against Vietnam's extent, offshore special zones included."""
    lon_min, lat_min, lon_max, lat_max = VIETNAM_BOUNDS
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)
