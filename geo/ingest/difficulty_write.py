"""Keep ``task_difficulty`` in step with the tasks' reasons and the sheets' own columns.

Why a step after the task write, not columns of ``task``: the category and the waiting
link are derived (suggested from the reason) or given (a sheet's column), and a given
value must survive the next sheet that only restates the reason. Keeping them in their
own table lets the rule be one place: a given category is never replaced by a suggestion;
a suggestion follows the reason's text; a task whose reason is gone loses its suggestion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.difficulties import suggest, waits_on_central


@dataclass(frozen=True)
class Given:
    """What a sheet row said itself: its category and what it waits on (None: not said)."""

    category: str | None = None
    waits_on: str | None = None


def _agencies(conn: Connection) -> tuple[dict[str, str], set[str]]:
    rows = conn.execute(text("select code, name_key from agency")).all()
    return {key: code for code, key in rows}, {code for code, _ in rows}


def _resolve_waits(
    conn: Connection, said: str, names: dict[str, str], codes: set[str]
) -> tuple[str | None, int | None]:
    """A "waits on" cell → (agency code, central task id): a central task's id, an
    agency's code, or a text naming an agency."""
    row = conn.execute(
        text("select id, agency_code from task where external_id = :x and agency_code is not null"),
        {"x": said.strip()},
    ).first()
    if row is not None:
        return row[1], row[0]
    if said.strip().upper() in codes:
        return said.strip().upper(), None
    _, body = waits_on_central(f"chờ {said}", names)
    if body is None:  # "Bộ Khoa học và Công nghệ" alone, without a waiting phrase
        from geo.text import search_key

        key = f" {search_key(said)} "
        body = next((c for n, c in names.items() if f" {n} " in key), None)
    return body, None


def refresh(
    conn: Connection,
    external_ids: list[str] | None,
    given: dict[str, Given] | None = None,
    actor: str = "iocmap",
    source: str = "",
) -> int:
    """Recompute the difficulty rows of these tasks (all tasks when None) from their stored
    reasons and what their sheet rows ``given`` said; a task_event for each given change.
    Returns how many rows changed."""
    given = given or {}
    names, codes = _agencies(conn)
    tasks = conn.execute(
        text(
            "select t.id, t.external_id, t.reason, d.category, d.suggested, d.waits_on_agency,"
            " d.waits_on_task_id, d.waits_on_text, d.waits_on_central"
            " from task t left join task_difficulty d on d.task_id = t.id"
            " where (cast(:ids as text[]) is null or t.external_id = any(cast(:ids as text[])))"
            "   and (t.reason is not null or d.task_id is not null"
            "        or t.external_id = any(cast(:given as text[])))"
        ),
        {"ids": external_ids, "given": list(given)},
    ).all()
    upserts: list[dict] = []
    deletes: list[int] = []
    events: list[tuple[int, str, str]] = []
    for tid, ext, reason, cat, suggested, agency, task_ref, said, central in tasks:
        old = (cat, suggested, agency, task_ref, said, central)
        g = given.get(ext, Given())
        if g.category is not None:
            cat, suggested = g.category, False
        elif cat is None or suggested:
            cat = suggest(reason)
            suggested = cat is not None
        if g.waits_on is not None:
            said = g.waits_on
            agency, task_ref = _resolve_waits(conn, said, names, codes)
            central = True
        elif said is None:  # not given by a sheet: what the reason says
            central, agency = waits_on_central(reason, names)
            task_ref = None
        new = (cat, suggested, agency, task_ref, said, central)
        if new == old:
            continue
        if cat is None and not central:
            deletes.append(tid)
        else:
            upserts.append(
                {"id": tid, "cat": cat, "sug": bool(suggested), "agency": agency,
                 "task": task_ref, "said": said, "central": bool(central)}
            )  # fmt: skip
        if g.category is not None or g.waits_on is not None:
            change = {"difficulty": cat, "waits_on": said}
            before = {"difficulty": old[0], "waits_on": old[4]}
            events.append((tid, json.dumps(before, ensure_ascii=False), json.dumps(change)))
    if deletes:
        conn.execute(
            text("delete from task_difficulty where task_id = any(:ids)"), {"ids": deletes}
        )
    if upserts:
        conn.execute(
            text(
                "insert into task_difficulty (task_id, category, suggested, waits_on_agency,"
                " waits_on_task_id, waits_on_text, waits_on_central)"
                " select * from unnest(cast(:id as int[]), cast(:cat as text[]),"
                " cast(:sug as boolean[]), cast(:agency as text[]), cast(:task as int[]),"
                " cast(:said as text[]), cast(:central as boolean[]))"
                " on conflict (task_id) do update set category = excluded.category,"
                " suggested = excluded.suggested, waits_on_agency = excluded.waits_on_agency,"
                " waits_on_task_id = excluded.waits_on_task_id,"
                " waits_on_text = excluded.waits_on_text,"
                " waits_on_central = excluded.waits_on_central, updated_at = now()"
            ),
            {k: [u[k2] for u in upserts] for k, k2 in (
                ("id", "id"), ("cat", "cat"), ("sug", "sug"), ("agency", "agency"),
                ("task", "task"), ("said", "said"), ("central", "central"))},
        )  # fmt: skip
    if events:
        conn.execute(
            text(
                "insert into task_event (task_id, actor, source, action, old, new)"
                " select v.id, :actor, :source, 'update', v.old, v.new from unnest("
                " cast(:id as int[]), cast(:old as jsonb[]), cast(:new as jsonb[]))"
                " as v(id, old, new)"
            ),
            {
                "actor": actor,
                "source": source,
                "id": [e[0] for e in events],
                "old": [e[1] for e in events],
                "new": [e[2] for e in events],
            },
        )
    return len(upserts) + len(deletes)
