"""The programme registry: which programme a sheet's cell names, matched as whole tokens.

Why a registry and whole tokens: the importer used to take any text containing "02" as
Plan 02 ("Chương trình chuyển đổi số năm 2025" became KH02) and any other short text as a
programme of its own (Cà Mau's action programme "97-CTr/TU" left the NQ57 totals). Now a
cell names a programme only when the tokens of one of its codes, names or aliases appear
in the cell as consecutive whole tokens, compared without case or diacritics ("Kế hoạch
02" matches "ke hoach 02"; "2025" never matches "02"). A cell that names nothing known is
a row error listing the known programmes.

Entries (table ``programme``, seeded by the migration, extended with ``iocmap programmes
import``): a provincial action programme is a child of NQ57 (its tasks keep their own code
and count in NQ57's totals, see ``geo.read.queries.program_filter``); a phase of Plan 02 is
a child with ``phase`` set (its tasks are stored as the parent's, with that phase).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, text

from geo.errors import BadInput
from geo.ingest.sheets import CellError, map_headers, parse_int, read_sheet, text_value
from geo.text import normalise_name, search_key

STOP = {"so"}  # "Kế hoạch số 02" = "Kế hoạch 02" ("số" = number)
CODE_FORM = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,23}$")
MAX_ENTRIES = 2000


def tokens(value: str) -> tuple[str, ...]:
    """``Kế hoạch số 02-KH/BCĐTW`` → ``('ke', 'hoach', '02', 'kh', 'bcdtw')``."""
    return tuple(t for t in search_key(value).split() if t not in STOP)


@dataclass(frozen=True)
class Programme:
    """One registry entry."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    phase: int | None = None
    province: str | None = None

    @property
    def stored_code(self) -> str:
        """The code a task of this entry is stored under (a phase: its parent's)."""
        return self.parent if self.phase is not None and self.parent else self.code


@dataclass
class Registry:
    """The programmes, and the token sequences that name each."""

    entries: dict[str, Programme]
    _keys: list[tuple[tuple[str, ...], str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for p in self.entries.values():
            for label in (p.code, p.name, *p.aliases):
                key = tokens(label)
                if key:
                    self._keys.append((key, p.code))

    def known(self) -> str:
        """``NQ57 (57-NQ/TW), KH02 (02-KH/BCĐTW), …`` for an error message."""
        return ", ".join(
            p.code + (f" ({p.aliases[0]})" if p.aliases else "") for p in self.entries.values()
        )

    def ancestors(self, code: str) -> set[str]:
        out: set[str] = set()
        cur = self.entries.get(code)
        while cur is not None and cur.parent and cur.parent not in out:
            out.add(cur.parent)
            cur = self.entries.get(cur.parent)
        return out

    def match(self, value: object) -> Programme | None:
        """The entry a cell names; None for an empty cell; ``CellError`` when it names
        none (listing the known ones) or two unrelated ones."""
        raw = text_value(value)
        if raw is None:
            return None
        cell = tokens(raw)
        found = {code for key, code in self._keys if _contains(cell, key)}
        # "Kế hoạch 02 giai đoạn 1" names KH02 and KH02-1: the most specific one wins
        found -= {a for c in found for a in self.ancestors(c)}
        if len(found) == 1:
            return self.entries[found.pop()]
        if not found:
            raise CellError(
                f"'{raw}' is not a known programme; known: {self.known()}",
                vi=f"'{raw}' không phải chương trình/kế hoạch đã biết; các chương trình đã biết:"
                f" {self.known()}",
                value=raw,
                expected="một mã, tên hoặc tên khác trong danh mục (GET /api/v1/programmes)",
                expected_en="a code, name or alias of the registry (GET /api/v1/programmes)",
            )
        names = ", ".join(sorted(found))
        raise CellError(
            f"'{raw}' names several programmes ({names})",
            vi=f"'{raw}' khớp nhiều chương trình ({names})",
            value=raw,
            expected="đúng một chương trình",
            expected_en="exactly one programme",
        )

    def family(self, code: str) -> list[str]:
        """``code`` and every entry below it (the codes its totals count)."""
        out = [code]
        for p in self.entries.values():
            if code in self.ancestors(p.code) and p.phase is None:
                out.append(p.code)
        return out


def _contains(cell: Sequence[str], key: Sequence[str]) -> bool:
    n = len(key)
    return any(tuple(cell[i : i + n]) == tuple(key) for i in range(len(cell) - n + 1))


def load_registry(conn: Connection) -> Registry:
    rows = conn.execute(
        text(
            "select code, name, aliases, parent_code, phase, province_code from programme"
            " order by parent_code nulls first, code"
        )
    ).all()
    return Registry(
        {r[0]: Programme(r[0], r[1], tuple(r[2] or ()), r[3], r[4], r[5]) for r in rows}
    )


# --- import -------------------------------------------------------------------------------
ALIASES: dict[str, list[str]] = {
    "code": ["Mã", "Mã chương trình", "code"],
    "name": ["Tên", "Tên chương trình", "name"],
    "aliases": ["Tên khác", "Ký hiệu", "aliases"],
    "parent": ["Thuộc", "Chương trình cha", "parent", "parent_code"],
    "phase": ["Giai đoạn", "phase"],
    "province": ["Mã tỉnh", "province", "province_code"],
}


def parse_entries(rows: Iterable[tuple[int, dict[str, object]]], cols: dict[str, str]) -> tuple[
    list[Programme], list[str]
]:  # fmt: skip
    """Sheet rows → entries, and the problems (``row n: …``)."""
    out: list[Programme] = []
    problems: list[str] = []
    for n, cells in rows:

        def cell(f: str, cells: dict[str, object] = cells) -> str | None:
            return text_value(cells.get(cols[f])) if f in cols else None

        code = (cell("code") or "").upper()
        name = normalise_name(cell("name") or "")
        if not CODE_FORM.match(code):
            problems.append(f"row {n}: code '{code}' is not A-Z, 0-9 and '-' (≤ 24)")
            continue
        if not name:
            problems.append(f"row {n}: programme {code} has no name")
            continue
        aliases = tuple(
            normalise_name(a) for a in re.split(r"[;\n]", cell("aliases") or "") if a.strip()
        )
        try:
            phase = parse_int(cell("phase"))
        except CellError as exc:
            problems.append(f"row {n}: {exc}")
            continue
        parent = (cell("parent") or "").upper() or None
        province = cell("province")
        out.append(
            Programme(code, name, aliases, parent, phase, province.zfill(2) if province else None)
        )
    return out, problems


def upsert_programmes(conn: Connection, entries: list[Programme]) -> int:
    """Insert or replace entries by code; a parent must exist (in the table or the list)."""
    known = set(conn.execute(text("select code from programme")).scalars())
    codes = {e.code for e in entries} | known
    bad = [
        f"{e.code}: parent '{e.parent}' is unknown"
        for e in entries
        if e.parent and e.parent not in codes
    ]
    bad += [
        f"{e.code}: a phase needs a parent" for e in entries if e.phase is not None and not e.parent
    ]
    if bad:
        raise BadInput("; ".join(bad), field="parent")
    ordered = sorted(entries, key=lambda e: e.parent is not None)  # parents first
    for e in ordered:
        conn.execute(
            text(
                "insert into programme (code, name, aliases, parent_code, phase, province_code)"
                " values (:c, :n, :a, :p, :ph, :pr) on conflict (code) do update set"
                " name = excluded.name, aliases = excluded.aliases,"
                " parent_code = excluded.parent_code, phase = excluded.phase,"
                " province_code = excluded.province_code"
            ),
            {"c": e.code, "n": e.name, "a": list(e.aliases), "p": e.parent, "ph": e.phase,
             "pr": e.province},
        )  # fmt: skip
    return len(entries)


def import_programmes(conn: Connection, path: str | Path) -> int:
    """A registry sheet (CSV/XLSX: Mã, Tên, Tên khác (``;``-separated), Thuộc, Giai đoạn,
    Mã tỉnh) → upserted entries; every problem refuses the whole sheet."""
    sheet = read_sheet(path, [h for hs in ALIASES.values() for h in hs])
    cols = map_headers(sheet.headers, ALIASES)
    if not {"code", "name"} <= cols.keys():
        raise BadInput(f"{sheet.file}: needs columns Mã (code) and Tên (name)", file=sheet.file)
    if len(sheet.rows) > MAX_ENTRIES:
        raise BadInput(f"{sheet.file}: more than {MAX_ENTRIES} programmes", file=sheet.file)
    entries, problems = parse_entries(sheet.rows, cols)
    if problems:
        raise BadInput(f"{sheet.file}: " + "; ".join(problems[:20]), file=sheet.file)
    return upsert_programmes(conn, entries)
