"""Targets and their evaluation; Plan 02 phase-2 greening per province."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.models import Phase2, TargetList, ok
from api.params import JSON, AsOfDay, meta
from geo.read import targets as read_targets

router = APIRouter(tags=["targets"])
PHASE2 = "KH02-2"


@router.get(
    "/targets",
    summary="Targets of the units and whether they are met on a date",
    responses=ok(TargetList),
)
async def targets(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    unit: Annotated[
        str | None, Query(pattern=r"^\d{2}(\d{3})?$", description="only this unit's targets")
    ] = None,
    status: Annotated[
        str | None,
        Query(pattern="^(" + "|".join(read_targets.STATES) + ")$", description="only this state"),
    ] = None,
):
    """Each target with ``state`` met / not_met / at_risk / no_data, the figure judged
    (``current``, ``previous``) and the period. See ``geo/read/targets.py`` for the rule."""

    def build() -> bytes:
        rows = read_targets.targets(db.conn, day, unit, status)
        counts = {s: sum(1 for r in rows if r["state"] == s) for s in read_targets.STATES}
        body = {**meta(state, day), "numberMatched": len(rows), "counts": counts,
                "targets": rows}  # fmt: skip
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)


@router.get(
    "/plan02/phase2",
    summary="Plan 02 phase 2: each province's indicators green or not, and the share green",
    responses=ok(Phase2),
)
async def phase2(request: Request, db: LazyConnDep, state: StateDep, day: AsOfDay):
    """The latest period ended by ``as_of``; an indicator is green when its value reaches
    ``green_at``."""

    def build() -> bytes:
        conn = db.conn
        period = read_targets.latest_programme_period(conn, PHASE2, day)
        provinces = read_targets.green_shares(conn, PHASE2, period) if period else []
        body = {
            **meta(state, day),
            "period": period,
            "indicators": read_targets.programme_indicators(conn, PHASE2),
            "provinces": provinces,
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)
