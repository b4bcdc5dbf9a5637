"""The task list and the task history of one holder — a territorial unit or an agency —
in one shape, so clients read ``/units/{code}/…`` and ``/agencies/{code}/…`` alike."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import orjson
from fastapi import Request

from api.params import JSON, base_url, meta, page_links
from geo.read import queries


def utc(at: dt.datetime) -> str:
    """An event time as ISO 8601 UTC with a ``Z``."""
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def tasks_body(
    request: Request, conn, state, holder: dict, path: str, day: dt.date, f: queries.TaskFilter
) -> bytes:
    """``/{path}/tasks``: a page of the holder's tasks, each with its history link.
    ``path`` is ``units/<code>`` or ``agencies/<code>``."""
    total, rows = queries.tasks(conn, holder["code"], day, f)
    hist = f"{base_url(request)}/api/v1/{path}/history?task="
    for r in rows:
        r["history_url"] = hist + quote(r["external_id"], safe="")
    return _page(request, holder, meta(state, day), total, "tasks", rows, f.offset, f.limit)


def history_body(
    request: Request, conn, state, holder: dict, task: str | None, limit: int, offset: int
) -> bytes:
    """``/{path}/history``: a page of the holder's task events, newest first."""
    total, rows = queries.history(conn, holder["code"], task, limit, offset)
    for r in rows:
        r["at"] = utc(r["at"])
    return _page(request, holder, meta(state), total, "events", rows, offset, limit)


def _page(request, holder, head, total, key, rows, offset, limit) -> bytes:
    body = {
        "unit": holder,
        **head,
        "numberMatched": total,
        "numberReturned": len(rows),
        key: rows,
        "links": page_links(request, offset, limit, len(rows), total, JSON),
    }
    return orjson.dumps(body)
