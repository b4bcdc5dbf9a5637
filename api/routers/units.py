"""A unit's task list and the history of its tasks (who changed what, when)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.models import History, TaskList, ok
from api.params import (
    JSON,
    TASK_CAP,
    AsOfDay,
    Offset,
    check_limit,
)
from api.routers._task_pages import history_body, tasks_body
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


def _unit_or_404(conn, code: str) -> dict:
    found = queries.unit(conn, code)
    if found is None:
        raise BadParameter("code", f"unknown unit code '{code}'", 404)
    return {k: found[k] for k in ("code", "name", "kind", "level", "full_name")}


@router.get(
    "/units/{code}/tasks",
    summary="A unit's tasks with their status on a date",
    responses={**ok(TaskList), 404: {"description": "unknown unit"}},
)
async def unit_tasks(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    code: UnitCode,
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
    f = queries.TaskFilter(status, program, group, overdue, sort, limit, offset, missing_reason)

    def build() -> bytes:
        unit = _unit_or_404(db.conn, code)
        return tasks_body(request, db.conn, state, unit, f"units/{unit['code']}", day, f)

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
        unit = _unit_or_404(db.conn, code)
        return history_body(request, db.conn, state, unit, task, limit, offset)

    return await cached_response(request, state, build, JSON)
