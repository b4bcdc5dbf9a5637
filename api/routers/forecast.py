"""Deadline forecasts per unit and programme (rule and window: ``geo/read/forecast.py``).

Cached per data version like the series: every unit's forecast is one history replay per
import and parameter set, not one per request (``api/cache.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.forecast_models import ForecastList, UnitForecasts
from api.models import ok
from api.params import JSON, AsOfDay, meta
from geo.read import forecast as fc

router = APIRouter(tags=["forecast"])
DUE_SOON_CAP = 200

Level = Annotated[
    str,
    Query(pattern="^(" + "|".join(fc.LEVELS) + ")$", description="province | commune | agency"),
]
Programme = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z0-9_-]{1,20}$",
        description="programme code (default: NQ57 for provinces and agencies, KH02 for communes)",
        examples=["NQ57"],
    ),
]
Deadline = Annotated[
    dt.date | None,
    Query(
        description="the deadline asked about (default: each unit's own — a target's due "
        "date on the programme, else 31 December of the as-of year)",
        openapi_examples={"year end": {"value": "2025-12-31"}},
    ),
]
ForecastClass = Annotated[
    str | None,
    Query(
        alias="class",
        pattern="^(" + "|".join(fc.CLASSES) + ")$",
        description="only units of this class",
    ),
]
Code = Annotated[
    str,
    Path(
        pattern=r"^(\d{2}|\d{5}|[A-Za-z]{2,16})$",
        description="province (2 digits), commune (5 digits) or agency code",
        openapi_examples={"Đắk Lắk": {"value": "66"}},
    ),
]


FIRST, LAST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
BAD: dict[int | str, dict[str, Any]] = {
    400: {"description": "bad programme, deadline or as_of (the parameter is named)"}
}


def _bounded(day: dt.date) -> dt.date:
    """The as-of day, bounded: the replay looks 8 weeks back from it."""
    if not FIRST <= day <= LAST:
        raise BadParameter("as_of", "as_of must fall between 2000-01-01 and 2100-12-31")
    return day


def _check(conn, programme: str, deadline: dt.date | None, day: dt.date) -> None:
    if not fc.programme_known(conn, programme):
        raise BadParameter("programme", f"chương trình không có nhiệm vụ / no tasks of programme "
                           f"'{programme}'")  # fmt: skip
    if deadline is not None and not FIRST <= deadline <= LAST:
        raise BadParameter("deadline", "deadline must fall between 2000-01-01 and 2100-12-31")


@router.get(
    "/forecast",
    summary="Will each unit make its deadline at its current pace?",
    responses={**ok(ForecastList), **BAD},
)
async def forecast(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    level: Level = "province",
    programme: Programme = None,
    deadline: Deadline = None,
    cls: ForecastClass = None,
):
    """Every unit of ``level``: ``open_due`` (tasks due by the deadline still open),
    ``pace_per_week`` (trimmed mean of the last 8 weeks' completions), ``needed_per_week``,
    ``expected_completion`` and ``class`` on_track | at_risk | will_miss | done |
    no_history, plus ``due_soon`` (due within 14 days, not done). Ordered by code."""
    day = _bounded(day)
    prog = programme or fc.DEFAULT_PROGRAMME[level]

    def build() -> bytes:
        conn = db.conn
        _check(conn, prog, deadline, day)
        rows = fc.forecasts(conn, level, prog, day, deadline)
        names = fc.unit_names(conn, level)
        counts = {c: sum(1 for r in rows if r.cls == c) for c in fc.CLASSES}
        units = [
            {**r.body(), "name": names.get(r.code)} for r in rows if cls is None or r.cls == cls
        ]
        body = {
            **meta(state, day),
            "level": level,
            "programme": prog,
            "deadline": (deadline or fc.year_end(day)).isoformat(),
            "rule": fc.RULE,
            "counts": counts,
            "units": units,
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)


@router.get(
    "/units/{code}/forecast",
    summary="One unit's forecast per programme, and its tasks due within 14 days",
    responses={**ok(UnitForecasts), **BAD, 404: {"description": "unknown unit"}},
)
async def unit_forecast(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    code: Code,
    programme: Programme = None,
    deadline: Deadline = None,
):
    """The unit's forecast for each programme it holds tasks of (or ``programme``), against
    its own deadline (a target's, else year end) or ``deadline``; ``due_soon_tasks``: "sắp
    đến hạn", at most 200."""
    day = _bounded(day)

    def build() -> bytes:
        conn = db.conn
        unit = fc.find_unit(conn, code)
        if unit is None:
            raise BadParameter("code", f"không có đơn vị / unknown unit code '{code}'", 404)
        if programme is not None:
            _check(conn, programme, deadline, day)
        elif deadline is not None:
            _check(conn, fc.DEFAULT_PROGRAMME[unit["level"]], deadline, day)
        progs = [programme] if programme else fc.unit_programmes(conn, unit["level"], unit["code"])
        rows = [
            r.body()
            for p in progs
            for r in fc.forecasts(conn, unit["level"], p, day, deadline, unit["code"])
        ]
        soon = fc.due_soon_tasks(conn, unit["level"], unit["code"], day, DUE_SOON_CAP)
        body = {
            **meta(state, day),
            "unit": unit,
            "rule": fc.RULE,
            "forecasts": rows,
            "due_soon_days": fc.DUE_SOON_DAYS,
            "due_soon_tasks": soon,
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)
