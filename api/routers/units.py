"""A unit's task list and the history of its tasks (who changed what, when)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Path, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response, resolve_as_of
from api.errors import BadParameter
from api.models import History, TaskList, ok
from api.routers._common import (
    JSON,
    AsOf,
    Offset,
    base_url,
    check_limit,
    meta,
    page_links,
)
from geo.read import queries
from geo.read.progress import STATUSES

router = APIRouter(tags=["units"])
UnitCode = Annotated[
    str,
    Path(
        pattern=r"^\d{2}(\d{3})?$",
        description="province (2 digits) or commune (5 digits) code",
        openapi_examples={"Cà Mau": {"value": "96"}, "a commune": {"value": "00004"}},
    ),
]
TASK_CAP = 1000


def _unit_or_404(conn, code: str) -> dict:
    found = queries.unit(conn, code)
    if found is None:
        raise BadParameter("code", f"unknown unit code '{code}'", 404)
    return {k: found[k] for k in ("code", "name", "kind", "level", "full_name")}


def _utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@router.get(
    "/units/{code}/tasks",
    summary="A unit's tasks with their status on a date",
    responses={**ok(TaskList), 404: {"description": "unknown unit"}},
)
async def unit_tasks(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: UnitCode,
    as_of: AsOf = None,
    status: Annotated[
        str | None, Query(pattern="^(" + "|".join(STATUSES) + ")$", description="task status")
    ] = None,
    program: Annotated[
        str | None, Query(max_length=20, description="NQ57 | KH02", examples=["KH02"])
    ] = None,
    group: Annotated[int | None, Query(ge=1, le=99, description="Plan 02 task group")] = None,
    overdue: Annotated[bool | None, Query(description="only overdue (true) or not")] = None,
    missing_reason: Annotated[
        bool | None,
        Query(description="true: only overdue tasks that state no reason (a data problem)"),
    ] = None,
    sort: Annotated[
        str,
        Query(
            pattern="^(" + "|".join(queries.TASK_SORTS).replace("-", "\\-") + ")$",
            description="deadline | -deadline | status | group_no | title",
        ),
    ] = "deadline",
    limit: Annotated[int, Query(ge=1, description=f"page size (cap {TASK_CAP})")] = 100,
    offset: Offset = 0,
):
    """Each task: deadline, status (and its Vietnamese label), days overdue, lead agency,
    reason and proposal (``missing_reason``: overdue with no reason), and a link to its
    history."""
    check_limit(limit, TASK_CAP)
    day = resolve_as_of(as_of, state)
    f = queries.TaskFilter(status, program, group, overdue, sort, limit, offset, missing_reason)

    def build() -> bytes:
        conn = db.conn
        unit = _unit_or_404(conn, code)
        total, rows = queries.tasks(conn, code, day, f)
        hist = f"{base_url(request)}/api/v1/units/{code}/history?task="
        for r in rows:
            r["history_url"] = hist + quote(r["external_id"], safe="")
        body = {
            "unit": unit,
            **meta(state, day),
            "numberMatched": total,
            "numberReturned": len(rows),
            "tasks": rows,
            "links": page_links(request, offset, limit, len(rows), total, JSON),
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)


@router.get(
    "/units/{code}/history",
    summary="Task events of a unit, newest first",
    responses={**ok(History), 404: {"description": "unknown unit"}},
)
async def unit_history(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: UnitCode,
    task: Annotated[
        str | None, Query(max_length=200, description="only this task (external id)")
    ] = None,
    limit: Annotated[int, Query(ge=1, description=f"page size (cap {TASK_CAP})")] = 100,
    offset: Offset = 0,
):
    """Every change: when (UTC), who, from which file, the action and old → new values."""
    check_limit(limit, TASK_CAP)

    def build() -> bytes:
        conn = db.conn
        unit = _unit_or_404(conn, code)
        total, rows = queries.history(conn, code, task, limit, offset)
        for r in rows:
            r["at"] = _utc(r["at"])
        body = {
            "unit": unit,
            **meta(state),
            "numberMatched": total,
            "numberReturned": len(rows),
            "events": rows,
            "links": page_links(request, offset, limit, len(rows), total, JSON),
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)
