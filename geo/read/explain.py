"""``GET /api/v1/explain``: the rows behind a published figure, each with its source.

Why here and not a second rule: the tasks are chosen with the very filter the counts use
(``progress.SLICE_FILTER``: programme and deadline year) and classed by the database's
``task_status`` (the one status rule), so the number of rows returned *is* the figure the
summary, the unit details and the agency pages show for the same as-of date and slice.

A task's source is its latest history event (``task_event``): the import run (file name,
SHA-256 of the kept file, ``import_file``) and the sheet row that last set it; a change made
through the API has row ``"api"``; the demo loader's tasks name no run. An indicator value's
source is the ``indicator_value_event`` in force on the as-of date (its history is
append-only, so the value can be read as it stood on any day).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from geo.read.progress import MEASURE_STATUSES, SLICE_FILTER, VN_TZ

TASK_MEASURES = ("tasks_completed", "tasks_overdue", "tasks_total")
MAX_LIMIT = 1000


def unit_named(conn: Connection, unit: str) -> tuple[str, str | None] | None:
    """(kind, name) of a code — kind ``national``, ``province``, ``commune`` or ``agency``
    — in one query; None for an unknown code."""
    if unit == "national":
        return "national", None
    row = conn.execute(
        text(
            "select level::text, name from admin_unit where code = :c"
            " union all select 'agency', name from agency where code = :c limit 1"
        ),
        {"c": unit},
    ).one_or_none()
    return (str(row[0]), row[1]) if row else None


def unit_kind(conn: Connection, unit: str) -> str | None:
    """``national``, ``province``, ``commune``, ``agency`` or None (unknown code)."""
    named = unit_named(conn, unit)
    return named[0] if named else None


# The slice each figure shows when the caller names none (as the pages do): the national
# summary's provinces' NQ57 tasks of the reporting year; a province's NQ57 and a commune's
# Plan 02 tasks of all years; an agency's tasks of every programme and year.
DEFAULT_PROGRAM = {"national": "NQ57", "province": "NQ57", "commune": "KH02", "agency": None}

_WHERE = {
    "national": "t.unit_code in (select code from admin_unit where level = 'province')",
    "province": "t.unit_code = :unit",
    "commune": "t.unit_code = :unit",
    "agency": "t.agency_code = :unit",
}

_SOURCE = """
left join lateral (
  select e.import_run_id, e.source_row, e.source, e.actor, e.at
  from task_event e where e.task_id = t.id order by e.id desc limit 1
) e on true
left join import_run r on r.id = e.import_run_id"""
# whose task it is, by name: a clerk reads "Xã A Lưới 1", not "20056"
_NAMES = """
left join admin_unit u on u.code = t.unit_code
left join agency a on a.code = t.agency_code"""


def explain_tasks(
    conn: Connection,
    measure: str,
    kind: str,
    unit: str,
    as_of: dt.date,
    program: str | None,
    year: int | None,
    limit: int,
    offset: int,
    max_limit: int = MAX_LIMIT,
) -> dict:
    """The figure ``measure`` of ``unit`` on ``as_of`` and one page of its tasks (at most
    ``max_limit``: a page of the API, or every task for a spreadsheet)."""
    statuses = list(MEASURE_STATUSES[measure])
    base = f"""from (
      select t.*, task_status(t.deadline, t.completed_at, cast(:as_of as date)) as status
      from task t where {_WHERE[kind]} and {SLICE_FILTER}
    ) t where t.status = any(cast(:statuses as text[]))"""
    params = {
        "unit": unit, "as_of": as_of, "program": program, "year": year,
        "statuses": statuses, "limit": min(limit, max_limit), "offset": offset,
    }  # fmt: skip
    value = int(conn.execute(text(f"select count(*) {base}"), params).scalar_one())
    rows = conn.execute(
        text(
            f"""select t.id, t.external_id, t.program, t.group_no, t.year, t.title,
                   t.unit_code, t.agency_code, t.deadline, t.completed_at, t.status,
                   coalesce(u.name, a.name) as unit_name,
                   e.import_run_id, e.source_row, e.source as event_source, e.actor,
                   r.file, r.file_sha256
            {base.replace(") t where t.status", ") t " + _SOURCE + _NAMES + " where t.status", 1)}
            order by t.id limit :limit offset :offset"""
        ),
        params,
    ).mappings()
    items = []
    for r in rows:
        row: int | str | None = r["source_row"]
        if r["import_run_id"] is None:
            row = "api" if str(r["actor"] or "").startswith("token:") else None
        items.append(
            {
                "id": r["id"],
                "external_id": r["external_id"],
                "program": r["program"],
                "group_no": r["group_no"],
                "year": r["year"],
                "title": r["title"],
                "unit_code": r["unit_code"],
                "agency_code": r["agency_code"],
                "unit_name": r["unit_name"],
                "deadline": r["deadline"].isoformat() if r["deadline"] else None,
                "completed_at": r["completed_at"].isoformat() if r["completed_at"] else None,
                "status": r["status"],
                "source": {
                    "import_id": r["import_run_id"],
                    "file": r["file"] or r["event_source"],
                    "sha256": r["file_sha256"],
                    "row": row,
                },
            }
        )
    return {"value": value, "numberMatched": value, "items": items}


def _day_end(day: dt.date) -> dt.datetime:
    """The end of ``day`` in Asia/Ho_Chi_Minh (a value set that day counts)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), VN_TZ)


def explain_indicator(
    conn: Connection, code: str, unit: str | None, period: str, as_of: dt.date | None
) -> dict | None:
    """The value of indicator ``code`` for ``unit`` (None: national) and ``period``: the
    stored one, or with ``as_of`` the one in force at the end of that day (its history);
    with its source and its history up to then. None when no value was ever stored."""
    params = {"i": code, "u": unit, "p": period, "end": _day_end(as_of) if as_of else None}
    history = [
        dict(r)
        for r in conn.execute(
            text(
                """select e.at, e.action, e.value, e.rank, e.import_run_id, e.source_row,
                          e.actor, r.file, r.file_sha256
                   from indicator_value_event e left join import_run r on r.id = e.import_run_id
                   where e.indicator_code = :i and e.period = :p
                     and e.unit_code is not distinct from cast(:u as text)
                     and (cast(:end as timestamptz) is null or e.at < cast(:end as timestamptz))
                   order by e.at, e.id limit 1000"""
            ),
            params,
        ).mappings()
    ]
    if as_of is None:
        current = (
            conn.execute(
                text(
                    """select value, rank, import_run_id, source_row from indicator_value
                       where indicator_code = :i and period = :p
                         and unit_code is not distinct from cast(:u as text)"""
                ),
                params,
            )
            .mappings()
            .first()
        )
        if current is None and not history:
            return None
        value = current["value"] if current else None
    else:
        if not history:
            return None
        value = history[-1]["value"] if history[-1]["action"] == "set" else None
    last = history[-1] if history else None

    def source(e: dict | None) -> dict:
        if e is None:
            return {"import_id": None, "file": None, "sha256": None, "row": None}
        row = e["source_row"] if e["import_run_id"] is not None else None
        if e["import_run_id"] is None and str(e["actor"] or "").startswith("token:"):
            row = "api"
        return {
            "import_id": e["import_run_id"], "file": e["file"], "sha256": e["file_sha256"],
            "row": row,
        }  # fmt: skip

    return {
        "value": value,
        "numberMatched": 1 if value is not None else 0,
        "items": [
            {
                "indicator": code,
                "unit_code": unit,
                "period": period,
                "value": value,
                "source": source(last),
            }  # fmt: skip
        ]
        if value is not None
        else [],
        "history": [
            {
                "at": e["at"].isoformat(),
                "action": e["action"],
                "value": e["value"],
                "source": source(e),
            }  # fmt: skip
            for e in history
        ],
    }
