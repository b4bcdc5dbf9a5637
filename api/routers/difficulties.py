"""``GET /api/v1/difficulties``: the register of difficulties — open tasks with a stated
difficulty counted by category, per province and nationally, and the tasks behind a count.

Why counts and rows in one route: the central working group reads the national counts,
opens a province, then a category, then the tasks; ``waits_on=AGENCY`` lists the local
tasks waiting on that ministry, each flagged ``review`` once what it waits on is done.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.params import AsOfDay, FigureUnit
from geo.difficulties import CODES
from geo.read import difficulties as read
from geo.read import explain as units

router = APIRouter(tags=["summary"])

Category = Literal[CODES]  # type: ignore[valid-type]
MAX_LIMIT = 1000


@router.get(
    "/difficulties",
    summary="Difficulties by category (nationally, per province, unit or agency) and their tasks",
    responses={
        200: {"description": '{"categories": [...], "blocked_central": {...}, "items": [...]}'},
        404: {"description": "unknown unit"},
        422: {"description": "a parameter is missing or malformed"},
    },
)
async def difficulties(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    unit: FigureUnit = "national",
    category: Annotated[
        Category | None, Query(description="list the open tasks of this category")
    ] = None,
    waits_on: Annotated[
        str | None,
        Query(
            min_length=2,
            max_length=16,
            pattern=r"^[A-Za-z]{2,16}$",
            description="list the open tasks waiting on this agency (its code)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size of items")] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
):
    """Open = not completed on ``as_of``. Each category: ``open``, of which ``overdue``,
    and how many carry a ``suggested`` category (from the reason's words, not yet
    confirmed). ``blocked_central``: overdue tasks that wait on the central level, of all
    overdue. ``blocked_by_unit`` (national, a province): that share for each province, or
    each of the province's communes, of its own overdue tasks. ``items`` (with
    ``category=`` or ``waits_on=``): one page of the tasks."""

    def build() -> bytes:
        try:
            kind = units.unit_kind(db.conn, unit)
            if kind is None:
                raise HTTPException(404, f"unit: no province, commune or agency '{unit}'")
            scope = None if kind == "national" else unit
            body: dict = {"unit": unit, "as_of": day.isoformat()}
            body |= read.counts(db.conn, day, scope)
            if kind == "national":
                body["by_province"] = read.by_province(db.conn, day)
            if kind in ("national", "province"):  # the wall's map (maps/wall_extras.py)
                body["blocked_by_unit"] = read.map_shares(db.conn, day, scope)
            if category or waits_on:
                total, items = read.tasks(
                    db.conn, day, scope, category, waits_on and waits_on.upper(), limit, offset
                )
                body |= {"numberMatched": total, "items": items, "limit": limit,
                         "offset": offset}  # fmt: skip
        finally:
            db.close()
        return orjson.dumps({**body, "data_version": state.version})

    return await cached_response(request, state, build)
