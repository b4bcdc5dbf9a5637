"""Progress over time (national and per unit), replayed from the task history.

Cached per data version like every read: a wall polling the weekly series costs one
history replay per import, not one per request (``api/cache.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.models import ok
from api.params import JSON, Day, Year, meta
from api.series_models import Series
from geo.read import queries
from geo.read.progress import DataState
from geo.read.series import MAX_POINTS, STEPS, figures_at, points
from maps.trend_svg import trend_svg

SVG = "image/svg+xml"

router = APIRouter(tags=["series"])
UnitCode = Annotated[
    str, Path(pattern=r"^\d{2}(\d{3})?$", description="province (2 digits) or commune (5 digits)")
]

From = Annotated[
    dt.date | None,
    Query(alias="from", description="first day (default: 1 January of the reporting year)"),
]
To = Annotated[
    dt.date | None,
    Query(description="last day (default and cap: the data's reporting date)"),
    Day,
]
Step = Annotated[
    str, Query(pattern="^(" + "|".join(STEPS) + ")$", description="week | month | quarter")
]
Program = Annotated[
    str | None,
    Query(pattern=r"^[A-Za-z0-9_-]{1,20}$", description="NQ57 | KH02", examples=["NQ57"]),
]


def _points(state: DataState, start: dt.date | None, end: dt.date | None, step: str):
    limit = state.default_as_of()
    first = start or dt.date(limit.year, 1, 1)
    last = end or limit
    if first > last:
        raise BadParameter("from", f"from ({first}) is after to ({last})")
    try:
        return first, last, points(first, last, step, limit)
    except ValueError as exc:
        raise BadParameter("from" if "more than" in str(exc) else "step", str(exc)) from None


def _body(state, step, first, last, program, year, pts, got) -> dict:
    return {
        **meta(state),
        "step": step,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "program": program,
        "year": year,
        "max_points": MAX_POINTS,
        "points": [
            {"period": p.period, "start": p.start.isoformat(), "as_of": p.day.isoformat()}
            | got[p.day]
            for p in pts
        ],
    }


@router.get(
    "/series",
    summary="National progress over time (per week, month or quarter)",
    responses={**ok(Series), 400: {"description": "bad range or step"}},
)
async def national_series(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    start: From = None,
    to: To = None,
    step: Step = "month",
    program: Program = None,
    year: Annotated[
        int | None, Query(ge=2000, le=2100, description="deadline year; default: reporting year")
    ] = None,
):
    """Each step's figures as recorded by its last day (or ``to``, or the reporting date):
    the provinces' programme tasks, like ``/summary``, so the point at the reporting date
    equals the summary."""
    first, last, pts = _points(state, start, to, step)

    def build() -> bytes:
        return orjson.dumps(_national_body(db.conn, state, step, first, last, program, year, pts))

    return await cached_response(request, state, build, JSON)


@router.get(
    "/series.svg",
    summary="National trend chart (completion % line, overdue bars) as SVG",
    responses={200: {"content": {SVG: {}}}, 400: {"description": "bad range or step"}},
)
async def national_series_svg(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    start: From = None,
    to: To = None,
    step: Step = "week",
    program: Program = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
):
    """The same points as ``/series``, drawn on the server (works offline, no JS library)."""
    first, last, pts = _points(state, start, to, step)

    def build() -> bytes:
        body = _national_body(db.conn, state, step, first, last, program, year, pts)
        return trend_svg(body["points"], "Cả nước").encode()

    return await cached_response(request, state, build, SVG)


@router.get(
    "/units/{code}/series",
    summary="A province's or commune's progress over time",
    responses={**ok(Series), 400: {"description": "bad range or step"}, 404: {}},
)
async def unit_series(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: UnitCode,
    start: From = None,
    to: To = None,
    step: Step = "month",
    program: Program = None,
    year: Year = None,
):
    """The unit's tasks as its map figures count them (a province's own NQ57 tasks, a
    commune's KH02 task groups unless ``program`` says otherwise); each point equals the
    unit's figures with ``as_of`` = that point's day."""
    first, last, pts = _points(state, start, to, step)

    def build() -> bytes:
        unit, body = _unit_body(db.conn, state, code, step, first, last, program, year, pts)
        body["unit"] = {k: unit[k] for k in ("code", "name", "kind", "level")}
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)


@router.get(
    "/units/{code}/series.svg",
    summary="A unit's trend chart (completion % line, overdue bars) as SVG",
    responses={200: {"content": {SVG: {}}}, 400: {"description": "bad range or step"}, 404: {}},
)
async def unit_series_svg(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: UnitCode,
    start: From = None,
    to: To = None,
    step: Step = "week",
    program: Program = None,
    year: Year = None,
):
    """The same points as ``/units/{code}/series``, drawn for the click panel."""
    first, last, pts = _points(state, start, to, step)

    def build() -> bytes:
        unit, body = _unit_body(db.conn, state, code, step, first, last, program, year, pts)
        return trend_svg(body["points"], unit["name"]).encode()

    return await cached_response(request, state, build, SVG)


def _national_body(conn, state, step, first, last, program, year, pts) -> dict:
    """The country's series body: the provinces' NQ57 tasks unless ``program`` says
    otherwise, for the as-of year unless ``year`` is given."""
    prog = program or "NQ57"
    slice_year = year or state.default_as_of().year
    got = figures_at(conn, [p.day for p in pts], prog, slice_year)
    return _body(state, step, first, last, prog, slice_year, pts, got)


def _unit_body(conn, state, code, step, first, last, program, year, pts) -> tuple[dict, dict]:
    """(the unit, its series body): a province's own NQ57 tasks, a commune's KH02 task
    groups unless ``program`` says otherwise."""
    unit = queries.unit(conn, code)
    if unit is None:
        raise BadParameter("code", f"unknown unit code '{code}'", 404)
    prog = program or ("NQ57" if unit["level"] == "province" else "KH02")
    got = figures_at(conn, [p.day for p in pts], prog, year, code)
    return unit, _body(state, step, first, last, prog, year, pts, got)
