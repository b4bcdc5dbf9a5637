"""Ministries and central bodies: their list with task figures, one agency, its tasks and
the history of its tasks (the unit endpoints' shapes, so clients read both alike)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request

from api.deps import LazyConnDep, StateDep, cached_response
from api.errors import BadParameter
from api.models import AgencyDetail, AgencyList, History, TaskList, ok
from api.params import JSON, TASK_CAP, AsOfDay, Offset, base_url, check_limit, meta
from api.routers._task_pages import history_body, tasks_body
from geo.read import agencies as read_agencies
from geo.read import health, queries
from geo.read.progress import STATUSES

router = APIRouter(tags=["agencies"])
AgencyCode = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z]{2,16}$",
        description="agency code: the body's letter abbreviation (BKHCN, BTC, VPCP, …)",
        openapi_examples={"Bộ Khoa học và Công nghệ": {"value": "BKHCN"}},
    ),
]


def _agency_or_404(conn, code: str) -> dict:
    found = read_agencies.agency(conn, code.upper())
    if found is None:
        raise BadParameter("code", f"unknown agency code '{code}'", 404)
    return found


@router.get(
    "/agencies",
    summary="Ministries and central bodies with their task figures, most overdue first",
    responses=ok(AgencyList),
)
async def agencies(request: Request, db: LazyConnDep, state: StateDep, day: AsOfDay):
    """Every agency's NQ57 tasks by status on ``as_of``, ordered by overdue tasks (the
    wall's ranking), with the central level's totals."""
    year = (state.reporting_date or day).year

    def build() -> bytes:
        rows = read_agencies.agency_kpis(db.conn, day, year)
        body = {
            **meta(state, day),
            "year": year,
            "central": read_agencies.central_summary(rows),
            "agencies": rows,
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)


@router.get(
    "/agencies/{code}",
    summary="One agency: identity, task figures and data health",
    responses={**ok(AgencyDetail), 404: {"description": "unknown agency"}},
)
async def agency_detail(
    request: Request, db: LazyConnDep, state: StateDep, code: AgencyCode, day: AsOfDay
):
    """The agency's figures on ``as_of`` (all years), its data health, and links to its
    tasks and history."""

    def build() -> bytes:
        conn = db.conn
        found = _agency_or_404(conn, code)
        figures = next(
            r
            for r in read_agencies.agency_kpis(conn, day, None, None)
            if r["code"] == found["code"]
        )
        stale = request.app.state.settings.stale_report_days
        rows = health.data_health(conn, "agency", day, stale, found["code"])
        root = f"{base_url(request)}/api/v1/agencies/{found['code']}"
        body = {
            **meta(state, day),
            **found,
            "figures": {k: v for k, v in figures.items() if k.startswith("tasks_")}
            | {"completion_pct": figures["completion_pct"]},
            "data_health": rows[0] if rows else None,
            "links": [
                {"rel": "tasks", "href": f"{root}/tasks", "type": JSON},
                {"rel": "history", "href": f"{root}/history", "type": JSON},
            ],
        }
        return orjson.dumps(body)

    return await cached_response(request, state, build, JSON)


@router.get(
    "/agencies/{code}/tasks",
    summary="An agency's tasks with their status on a date",
    responses={**ok(TaskList), 404: {"description": "unknown agency"}},
)
async def agency_tasks(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    day: AsOfDay,
    code: AgencyCode,
    status: Annotated[
        str | None, Query(pattern="^(" + "|".join(STATUSES) + ")$", description="task status")
    ] = None,
    overdue: Annotated[bool | None, Query(description="only overdue (true) or not")] = None,
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
    """Same shape as ``/units/{code}/tasks``; ``unit`` is the agency."""
    check_limit(limit, TASK_CAP)
    f = queries.TaskFilter(status, None, None, overdue, sort, limit, offset)

    def build() -> bytes:
        found = _identity(_agency_or_404(db.conn, code))
        return tasks_body(request, db.conn, state, found, f"agencies/{found['code']}", day, f)

    return await cached_response(request, state, build, JSON)


@router.get(
    "/agencies/{code}/history",
    summary="Task events of an agency, newest first",
    responses={**ok(History), 404: {"description": "unknown agency"}},
)
async def agency_history(
    request: Request,
    db: LazyConnDep,
    state: StateDep,
    code: AgencyCode,
    task: Annotated[
        str | None, Query(max_length=200, description="only this task (external id)")
    ] = None,
    limit: Annotated[int, Query(ge=1, description=f"page size (cap {TASK_CAP})")] = 100,
    offset: Offset = 0,
):
    """Same shape as ``/units/{code}/history``."""
    check_limit(limit, TASK_CAP)

    def build() -> bytes:
        found = _identity(_agency_or_404(db.conn, code))
        return history_body(request, db.conn, state, found, task, limit, offset)

    return await cached_response(request, state, build, JSON)


def _identity(found: dict) -> dict:
    """The ``unit`` block of a task list, for an agency."""
    return {
        "code": found["code"],
        "name": found["name"],
        "kind": found["kind"],
        "level": "agency",
        "full_name": found["name"],
    }
