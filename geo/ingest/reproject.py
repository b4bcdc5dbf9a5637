"""Bring a file's geometry to EPSG:4326 and check it lands in Vietnam.

Why its own step: the CRS is where real files go wrong most quietly — VN-2000 TM-3 without a
.prj, metre coordinates read as degrees, X/Y swapped. VN-2000 is always transformed with
EPSG:6960 (``geo.crs``); a file with no CRS and metre-like coordinates is refused with a hint.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import CRS

from geo import crs as vncrs
from geo.errors import BadInput
from geo.ingest.report import ImportReport


def to_wgs84(gdf, crs_text: str | None, report: ImportReport) -> np.ndarray:
    """Reproject to EPSG:4326 (VN-2000 pinned to EPSG:6960); catch files without a CRS and
    coordinates that land outside Vietnam (swapped X/Y, wrong --crs)."""
    geoms = shapely.force_2d(np.asarray(gdf.geometry.values, dtype=object))
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present])
    if not present.any():
        raise BadInput(f"{report.file}: no feature has a geometry", file=report.file)
    bounds = tuple(float(b) for b in shapely.total_bounds(geoms))
    if crs_text:
        src = vncrs.parse_crs(crs_text)
        if gdf.crs is not None and not CRS(gdf.crs).equals(src):
            report.notes.append(f"--crs {crs_text} overrides the file's CRS ({CRS(gdf.crs).name})")
    elif gdf.crs is not None:
        src = CRS(gdf.crs)
    elif vncrs.looks_geographic(bounds):
        src = CRS.from_epsg(4326)
        report.notes.append("the file has no CRS; its coordinates are degrees: read as WGS 84")
    else:
        raise BadInput(
            f"{report.file}: the file has no CRS and its coordinates look projected"
            f" (x {bounds[0]:.0f}…{bounds[2]:.0f}, y {bounds[1]:.0f}…{bounds[3]:.0f});"
            " pass --crs, e.g. --crs vn2000:tm3:105.5 (the province's TM-3 meridian)"
            " or --crs EPSG:5897",
            file=report.file,
            field="crs",
        )
    transformer, notes = vncrs.wgs84_transformer(src)
    report.notes.append(f"CRS {src.name}" + (f"; {notes[0]}" if notes else ""))
    report.notes.extend(notes[1:])
    if src.equals(CRS.from_epsg(4326)):
        out = geoms
    else:
        out = shapely.transform(
            geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
    _check_in_vietnam(out, geoms, report)
    return out


def _check_in_vietnam(out: np.ndarray, original: np.ndarray, report: ImportReport) -> None:
    ok = ~shapely.is_missing(out)
    ok[ok] = ~shapely.is_empty(out[ok])
    if not ok.any():
        return
    box = shapely.bounds(out[ok])  # the box centre: cheap, and enough to spot a wrong CRS
    lon, lat = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
    inside = vncrs.in_vietnam(lon, lat)
    if inside.all():
        return
    swapped = vncrs.in_vietnam(lat, lon)
    idx = np.flatnonzero(ok)
    hint = (
        "X and Y look swapped (lat/lon order); fix the file or its CRS"
        if swapped[~inside].mean() > 0.5
        else "wrong CRS? pass --crs (e.g. vn2000:tm3:105.5 or EPSG:5897)"
    )
    for i in np.flatnonzero(~inside)[:50]:
        report.error(
            f"lies at lon {lon[i]:.5f}, lat {lat[i]:.5f}, outside Vietnam — {hint}",
            row=int(idx[i]),
        )
    if (~inside).sum() > 50:
        report.error(f"… and {(~inside).sum() - 50} more features outside Vietnam — {hint}")
