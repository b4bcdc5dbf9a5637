"""Parameters and response pieces the routers share: dates, bbox, fields, paging links,
geometry resolution, the as-of day (``AsOfDay``, resolved once per request) and the
metadata every data response carries.

Why outside ``api/routers``: every router uses these, and routers do not import each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from api.deps import StateDep
from api.errors import BadParameter
from geo.levels import DEFAULT_LEVELS
from geo.read.features import RESOLUTIONS, band_for_zoom
from geo.read.progress import STATUSES, DataState

GEOJSON = "application/geo+json"
JSON = "application/json"
PERIOD_PATTERN = r"^\d{4}(-Q[1-4])?$"
# longest CQL2 ``filter`` in a URL: percent-encoded, a character takes up to 12 bytes, and
# the HTTP parser refuses a request head over 80 KiB with a bare text 400 before the app
# sees it; 5,000 characters (≤ 60 KB) always reach the app, which answers in JSON
FILTER_MAX_CHARS = 5_000
TASK_CAP = 1000  # page size cap of the task lists (units and agencies)


class GeoJSONResponse(JSONResponse):
    """``application/geo+json`` in OpenAPI for routes whose 200 body has a model (a
    JSONResponse subclass so FastAPI documents the model under this media type; the
    routes return their cached bytes as a plain Response, so nothing is re-serialised)."""

    media_type = GEOJSON


FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


def in_calendar(day: dt.date | None) -> dt.date | None:
    """Dates a client sends stay inside 1900 … 2199: the reads add and subtract quarters
    and years, and 0001-01-01 or 9999-12-31 would overflow there (a 500, issue 21)."""
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(
            f"ngày {day.isoformat()} nằm ngoài khoảng {FIRST_DAY} … {LAST_DAY}"
            f" / date outside {FIRST_DAY} … {LAST_DAY}"
        )
    return day


Day = AfterValidator(in_calendar)  # add to every Annotated date parameter

AsOf = Annotated[
    dt.date | None,
    Query(
        description="Date the task status is derived for (default: the data's reporting date)",
        openapi_examples={"reporting date": {"value": "2025-11-13"}},
    ),
    Day,
]


async def as_of_day(state: StateDep, as_of: AsOf = None) -> dt.date:
    """The day task status is derived for: the client's ``as_of``, else the data's
    reporting date (``DataState.default_as_of``). A dependency, so the default is applied
    in one place and once per request (the data state is cached per request too)."""
    return as_of or state.default_as_of()


AsOfDay = Annotated[dt.date, Depends(as_of_day)]

Year = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="Only tasks whose deadline falls in this year"),
]
Precision = Annotated[int, Query(ge=0, le=15, description="Coordinate decimals")]
Zoom = Annotated[
    int | None,
    Query(ge=0, le=24, description="Web-map zoom: picks a simplified geometry level"),
]
Resolution = Annotated[
    str | None,
    Query(
        pattern="^(full|z12|z9|z6)$",
        description="Geometry level: full, or a topology-preserving simplification "
        "made for that zoom (z6 national, z9 province, z12 commune)",
    ),
]
Period = Annotated[
    str | None,
    Query(
        pattern=PERIOD_PATTERN,
        description="Indicator period (YYYY-Qn or YYYY); adds the indicator values as "
        "flat properties <code> and <code>_rank (default period: the latest present)",
        openapi_examples={"quarter": {"value": "2025-Q3"}},
    ),
]
Status = Annotated[
    str | None,
    Query(
        pattern="^(" + "|".join(STATUSES) + ")$",
        description="Only units with at least one task in this status",
    ),
]
Fields = Annotated[
    str | None,
    Query(
        description="Comma-separated property names (default: the lean set). Indicator "
        "codes and <code>_rank are accepted too.",
        openapi_examples={"styling": {"value": "code,completion_pct"}},
    ),
]
Bbox = Annotated[
    str | None,
    Query(
        description="minlon,minlat,maxlon,maxlat (WGS84)",
        openapi_examples={"Hà Nội": {"value": "105.3,20.5,106.1,21.4"}},
    ),
]
Q = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=100,
        description="Name search without diacritics",
        openapi_examples={"no diacritics": {"value": "ca mau"}},
    ),
]
Offset = Annotated[int, Query(ge=0, description="Features to skip (paging)")]


def parse_bbox(raw: str | None, param: str = "bbox") -> tuple[float, float, float, float] | None:
    """Four numbers in range with min ≤ max (six with heights are accepted, heights dropped)."""
    if raw is None:
        return None
    parts = raw.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise BadParameter(param, f"{param} must be numbers: minlon,minlat,maxlon,maxlat") from None
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or any(n != n for n in nums):
        raise BadParameter(param, f"{param} needs 4 numbers: minlon,minlat,maxlon,maxlat")
    minx, miny, maxx, maxy = nums
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise BadParameter(param, f"{param} longitude out of range [-180, 180]")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise BadParameter(param, f"{param} latitude out of range [-90, 90]")
    if minx > maxx or miny > maxy:
        raise BadParameter(param, f"{param} min must not exceed max (minlon,minlat,maxlon,maxlat)")
    return minx, miny, maxx, maxy


def parse_list(raw: str | None) -> tuple[str, ...] | None:
    """A comma list without blanks or repeats, order kept."""
    if raw is None:
        return None
    out: list[str] = []
    for item in raw.split(","):
        item = item.strip()
        if item and item not in out:
            out.append(item)
    return tuple(out)


def pick_band(zoom: int | None, resolution: str | None) -> str | None:
    """Stored geometry level from ``zoom`` or ``resolution`` (not both)."""
    if zoom is not None and resolution is not None:
        raise BadParameter("resolution", "give zoom or resolution, not both")
    if resolution is not None:
        if resolution not in RESOLUTIONS:
            raise BadParameter("resolution", f"resolution must be one of {', '.join(RESOLUTIONS)}")
        return None if resolution == "full" else resolution
    return band_for_zoom(zoom, list(DEFAULT_LEVELS))


def check_limit(limit: int, cap: int) -> int:
    """A 400 naming ``limit`` above the cap (the API never truncates silently)."""
    if limit > cap:
        raise BadParameter("limit", f"limit {limit} is over the cap of {cap}")
    return limit


def base_url(request: Request) -> str:
    """Scheme and host as the client reached us (links must be absolute for GDAL)."""
    return str(request.base_url).rstrip("/")


def page_links(
    request: Request, offset: int, limit: int | None, returned: int, matched: int, media: str
) -> list[dict]:
    """self / next / prev links for offset paging (next only while features remain)."""
    url = base_url(request) + request.url.path
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]

    def href(new_offset: int) -> str:
        q = [*query, ("offset", str(new_offset))] if new_offset else query
        return url + ("?" + urlencode(q) if q else "")

    links = [{"rel": "self", "type": media, "href": href(offset)}]
    if limit is not None and offset + returned < matched:
        links.append({"rel": "next", "type": media, "href": href(offset + limit)})
    if offset > 0 and limit is not None:
        links.append({"rel": "prev", "type": media, "href": href(max(0, offset - limit))})
    return links


def meta(state: DataState, as_of: dt.date | None = None) -> dict:
    """What every data response carries: the reporting date, version, and as_of used."""
    out = {
        "data_as_of": state.reporting_date.isoformat() if state.reporting_date else None,
        "data_version": state.version,
    }
    if as_of is not None:
        out["as_of"] = as_of.isoformat()
    return out


def meta_headers(as_of: dt.date) -> dict[str, str]:
    return {"X-As-Of": as_of.isoformat()}


# A figure's holder: the nation, a province or commune, or a ministry (its letters). The
# rows behind a figure (``/explain``) and the register of difficulties take the same units.
FigureUnit = Annotated[
    str,
    Query(
        min_length=2,
        max_length=16,
        pattern=r"^(national|[0-9]{2,5}|[A-Za-z]{2,16})$",
        description="``national``, a province or commune code, or an agency code",
    ),
]
