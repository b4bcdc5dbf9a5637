"""Which stored task a sheet row is: by code, by an office's alias, by natural key, or new.

Why: offices number tasks their own way (``HN-KH02-00004-01`` where we store
``KH02-00004-1``). Matching by code alone made a real office sheet create a second copy of
every Plan 02 task it reported, and a commune's completion dropped while its "groups
done" did not move. A commune has exactly one task per Plan 02 group and phase, so for
those rows the natural key (unit, programme, phase, group) *is* the identity: an unknown
code that names a commune and a group is that stored task ("khớp theo nhóm"), and the
office's code is kept as an alias (table ``task_alias``) so its next sheet matches by code.
Other tasks have no such key: a stored task of the same unit and programme with the same
title is only a *suggestion* (the row still creates a new task), and a new task whose title
is near-identical to a stored one of the same unit is a warning listing the pair.

Order of the matches, each only for rows the previous ones left: code → alias → natural
key → new. Two rows of one sheet that end on the same task (or would create two tasks with
the same natural key) are errors naming both codes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz
from sqlalchemy import Connection, text

from geo.text import search_key

KH02 = "KH02"
TITLE_SIMILAR = 90.0  # rapidfuzz ratio (0-100) of normalised titles: "near-identical"
TASK_COLUMNS = (
    "id, external_id, program, group_no, phase, year, title, unit_code, agency_code,"
    " lead_agency, start_date, deadline, completed_at, reason, proposal, person_in_charge,"
    " product, authority, expected_at, office_status, completed_at_bound"
)
LABELS = {
    "code": ("khớp theo mã", "matched by code"),
    "alias": ("khớp theo mã của đơn vị (đã lưu)", "matched by the office's saved code"),
    "natural_key": ("khớp theo nhóm", "matched by group"),
    "new": ("nhiệm vụ mới", "new task"),
}

NaturalKey = tuple[str, str, int, int]  # unit, programme, phase, group


@dataclass
class Match:
    """How one row found its stored task (``task`` None: a new task)."""

    row: int
    code: str | None
    how: str  # code | alias | natural_key | new
    task: dict | None = None
    suggestion: str | None = None  # a stored task with the same title (new rows only)
    notes: list[str] = field(default_factory=list)

    def as_dict(self, lang: str = "vi") -> dict:
        vi, en = LABELS[self.how]
        return {
            "row": self.row,
            "code": self.code,
            "match": self.how,
            "label": en if lang == "en" else vi,
            "task": self.task["external_id"] if self.task else None,
            "suggestion": self.suggestion,
        }


def natural_key(values: dict) -> NaturalKey | None:
    """(unit, KH02, phase, group) of a row's values, or None when it has no such key.

    The programme a row without one is given is the importer's default (KH02 for a
    commune row with a group); the phase defaults to 1 (phase 1 holds the 16 groups)."""
    unit, group = values.get("unit_code"), values.get("group_no")
    program = values.get("program") or (
        KH02 if values.get("_unit_level") == "commune" and group is not None else None
    )
    if not unit or group is None or program != KH02:
        return None
    return (unit, KH02, int(values.get("phase") or 1), int(group))


def stored_key(task: dict) -> NaturalKey | None:
    if task["program"] != KH02 or task["group_no"] is None or not task["unit_code"]:
        return None
    return (task["unit_code"], KH02, int(task["phase"] or 1), int(task["group_no"]))


def by_code(conn: Connection, codes: list[str]) -> dict[str, dict]:
    if not codes:
        return {}
    rows = conn.execute(
        text(f"select {TASK_COLUMNS} from task where external_id = any(:ids)"),  # noqa: S608
        {"ids": codes},
    ).mappings()
    return {r["external_id"]: dict(r) for r in rows}


def by_alias(conn: Connection, codes: list[str]) -> dict[str, dict]:
    if not codes:
        return {}
    rows = conn.execute(
        text(
            f"select a.alias, {', '.join('t.' + c.strip() for c in TASK_COLUMNS.split(','))}"  # noqa: S608
            " from task_alias a join task t on t.id = a.task_id where a.alias = any(:ids)"
        ),
        {"ids": codes},
    ).mappings()
    return {r["alias"]: {k: v for k, v in r.items() if k != "alias"} for r in rows}


def by_natural_key(conn: Connection, keys: Iterable[NaturalKey]) -> dict[NaturalKey, list[dict]]:
    """Stored tasks per natural key (a list: a database that already holds duplicates)."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = conn.execute(
        text(
            f"select {', '.join('t.' + c.strip() for c in TASK_COLUMNS.split(','))}"  # noqa: S608
            " from task t join unnest(cast(:u as text[]), cast(:ph as int[]),"
            " cast(:g as int[])) as k(u, ph, g)"
            " on t.unit_code = k.u and t.program = 'KH02' and coalesce(t.phase, 1) = k.ph"
            " and t.group_no = k.g order by t.id"
        ),
        {"u": [k[0] for k in keys], "ph": [k[2] for k in keys], "g": [k[3] for k in keys]},
    ).mappings()
    out: dict[NaturalKey, list[dict]] = {}
    for r in rows:
        key = stored_key(dict(r))
        if key is not None:
            out.setdefault(key, []).append(dict(r))
    return out


def titles_of_units(conn: Connection, units: set[str]) -> dict[str, list[dict]]:
    """Stored tasks (code, programme, title) per unit, for the title suggestions."""
    if not units:
        return {}
    rows = conn.execute(
        text(
            "select external_id, unit_code, program, title from task"
            " where unit_code = any(:u) order by id"
        ),
        {"u": sorted(units)},
    ).mappings()
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["unit_code"], []).append(dict(r) | {"key": search_key(r["title"])})
    return out


def similar_titles(title: str, stored: list[dict]) -> tuple[dict | None, list[dict]]:
    """(the stored task with the same normalised title, near-identical others)."""
    key = search_key(title)
    same = next((s for s in stored if s["key"] == key), None)
    near = [s for s in stored if s is not same and fuzz.ratio(key, s["key"]) >= TITLE_SIMILAR]
    return same, near


def _problem(en: str, vi: str, value: str | None, expected: str, expected_en: str) -> object:
    from geo.ingest.sheets import CellError

    return CellError(en, vi=vi, value=value, expected=expected, expected_en=expected_en)


def match_rows(conn: Connection, rows: list) -> dict[int, Match]:
    """Each row's match (see the module docstring); problems for ambiguous keys and for
    two rows that are the same task are added to the rows."""
    codes = [r.values["external_id"] for r in rows if "external_id" in r.values]
    stored = by_code(conn, codes)
    aliased = by_alias(conn, [c for c in codes if c not in stored])
    keys = {
        r.row_no: natural_key(r.values)
        for r in rows
        if r.values.get("external_id") not in stored and r.values.get("external_id") not in aliased
    }
    natural = by_natural_key(conn, [k for k in keys.values() if k])
    out: dict[int, Match] = {}
    for row in rows:
        code = row.values.get("external_id")
        match = Match(row.row_no, code, "new")
        key = keys.get(row.row_no)
        if code in stored:
            match.how, match.task = "code", stored[code]
        elif code in aliased:
            match.how, match.task = "alias", aliased[code]
        elif key is not None and len(natural.get(key, [])) == 1:
            match.how, match.task = "natural_key", natural[key][0]
        elif key is not None and natural.get(key):
            found = ", ".join(t["external_id"] for t in natural[key])
            row.problems.append(
                (
                    "group_no",
                    _problem(
                        f"the database already holds several tasks for this commune, group and"
                        f" phase ({found}); the row cannot tell which one it is",
                        f"cơ sở dữ liệu đã có nhiều nhiệm vụ cho cùng xã, nhóm và giai đoạn này"
                        f" ({found}); không xác định được dòng này là nhiệm vụ nào",
                        str(key[3]),
                        f"mã nhiệm vụ đã lưu: một trong {found}",
                        f"the stored task id: one of {found}",
                    ),
                )
            )
        out[row.row_no] = match
    _same_task(rows, out, keys)
    return out


def _same_task(rows: list, matches: dict[int, Match], keys: dict) -> None:
    """Two rows that are one task (the same stored task, or two new tasks with the same
    natural key): both are errors naming both codes."""
    targets: dict[object, list] = {}
    for row in rows:
        m = matches[row.row_no]
        if m.task is not None:
            target: object = ("task", m.task["id"])
            key = stored_key(m.task)
        else:
            key = keys.get(row.row_no)
            target = ("new", key) if key else None
        if target is not None:
            targets.setdefault(target, []).append((row, key))
    for same in targets.values():
        codes = {row.values.get("external_id") for row, _ in same}
        if len(same) < 2 or len(codes) < 2:  # one code twice: the duplicate-id check says so
            continue
        listed = ", ".join(
            f"{row.values.get('external_id')} (dòng {row.row_no})" for row, _ in same
        )
        listed_en = ", ".join(
            f"{row.values.get('external_id')} (row {row.row_no})" for row, _ in same
        )
        key = same[0][1]
        what_vi = (
            f"xã {key[0]}, {key[1]} giai đoạn {key[2]}, nhóm {key[3]}"
            if key
            else "cùng một nhiệm vụ"
        )
        what_en = (
            f"commune {key[0]}, {key[1]} phase {key[2]}, group {key[3]}" if key else "one task"
        )
        for row, _ in same:
            row.problems.append(
                (
                    "external_id",
                    _problem(
                        f"rows {listed_en} are the same task ({what_en}): a commune has one task"
                        " per Plan 02 group and phase",
                        f"các dòng {listed} là cùng một nhiệm vụ ({what_vi}): mỗi xã chỉ có một"
                        " nhiệm vụ cho mỗi nhóm và giai đoạn của Kế hoạch 02",
                        row.values.get("external_id"),
                        "mỗi nhiệm vụ một dòng (bỏ dòng trùng)",
                        "one row per task (drop the duplicate row)",
                    ),
                )
            )


def similar_warnings(
    conn: Connection,
    rows: list,
    plans: dict,
    matches: dict[int, Match],
    report,
    lang: str,
    title_column: str = "title",
) -> None:
    """New tasks: a stored task of the same unit and programme with the same title is a
    suggestion (in ``matches``); the same or a near-identical title of any stored task of
    the same unit is a warning listing the pair."""
    new = [
        r
        for r in rows
        if plans[r.row_no].action == "create"
        and r.values.get("unit_code")
        and r.values.get("title")
    ]
    stored = titles_of_units(conn, {r.values["unit_code"] for r in new})
    by_row = {m["row"]: m for m in report.matches}
    for row in new:
        program = plans[row.row_no].record.get("program")
        same, near = similar_titles(row.values["title"], stored.get(row.values["unit_code"], []))
        if same is not None and same["program"] == program:
            matches[row.row_no].suggestion = same["external_id"]
            by_row[row.row_no]["suggestion"] = same["external_id"]
        for other in ([same] if same else []) + near:
            title = other["title"]
            report.warn(
                f"new task '{row.values['title']}' looks like stored task {other['external_id']}"
                f" '{title}' of the same unit; if it is that task, use its id"
                if lang == "en"
                else f"nhiệm vụ mới '{row.values['title']}' giống nhiệm vụ đã có"
                f" {other['external_id']} '{title}' của cùng đơn vị; nếu là một, hãy dùng mã"
                " đã có",
                row=row.row_no,
                code=row.values.get("external_id"),
                field=title_column,
                value=row.values["title"],
                expected=other["external_id"],
            )


def key_collisions(conn: Connection, rows: list, plans: dict, current: dict[int, dict]) -> None:
    """An update that gives a stored Plan 02 task the (commune, phase, group) of another
    stored task would make two tasks of one group: a row error naming both codes."""
    moved = {}
    for row in rows:
        plan, task = plans[row.row_no], current.get(row.row_no)
        if plan.action != "update" or task is None:
            continue
        key = stored_key(plan.record)
        if key is not None and key != stored_key(task):
            moved[row.row_no] = (row, key, task)
    if not moved:
        return
    held = by_natural_key(conn, [k for _, k, _ in moved.values()])
    for row, key, task in moved.values():
        others = [t["external_id"] for t in held.get(key, []) if t["id"] != task["id"]]
        if others:
            row.problems.append(
                (
                    "group_no",
                    _problem(
                        f"task {task['external_id']} would take group {key[3]} (phase {key[2]})"
                        f" of commune {key[0]}, which task {others[0]} already holds",
                        f"nhiệm vụ {task['external_id']} sẽ thành nhóm {key[3]} (giai đoạn"
                        f" {key[2]}) của xã {key[0]}, nhưng nhiệm vụ {others[0]} đã là nhóm đó",
                        str(key[3]),
                        "nhóm chưa có nhiệm vụ nào của xã này",
                        "a group this commune has no task for",
                    ),
                )
            )
            plans[row.row_no].action = "none"


def save_aliases(conn: Connection, pairs: list[tuple[str, int]], source: str) -> int:
    """Keep the office's codes of tasks matched by natural key (first one wins)."""
    if not pairs:
        return 0
    conn.execute(
        text(
            "insert into task_alias (alias, task_id, source)"
            " select a, t, :s from unnest(cast(:a as text[]), cast(:t as int[])) as v(a, t)"
            " on conflict (alias) do nothing"
        ),
        {"a": [a for a, _ in pairs], "t": [t for _, t in pairs], "s": source},
    )
    return len(pairs)
