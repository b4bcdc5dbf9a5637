"""Who takes a holder's notices: a province's, commune's or ministry's contacts (role, name,
e-mail) and the leader in charge of its area (ủy viên ban thường vụ phụ trách địa bàn).

Why a whole list replaced at once: an office keeps its contacts as a short list (a sheet or
a form), and "replace the list" says exactly what it wants without an id per person. The
list is bounded (``MAX_CONTACTS``; field lengths; e-mail syntax) and checked here, so the
API, the CLI and a sheet refuse the same things with the same words, naming the field.

Personal data: read only by editor/admin tokens of the holder's scope (the routers), never
joined into public layers, downloads or OGC items, and never logged (the CLI prints counts).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from geo.agencies import is_agency_code
from geo.errors import BadInput, NotFound
from geo.text import normalise_name

Authorize = Callable[[Connection, set[str]], None]
MAX_CONTACTS = 20
ROLE_MAX = 100
NAME_MAX = 200
EMAIL_MAX = 254
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"^[^@\s<>()\[\],;:\"]+@{_LABEL}(?:\.{_LABEL})+$")


@dataclass(frozen=True)
class Contact:
    role: str
    name: str
    email: str | None = None
    is_leader: bool = False

    def as_dict(self) -> dict:
        return {
            "role": self.role,
            "name": self.name,
            "email": self.email,
            "is_leader": self.is_leader,
        }


def _text(value: object, fld: str, cap: int, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadInput(f"{fld}: để trống (required)", field=fld)
        return None
    if not isinstance(value, str):
        raise BadInput(f"{fld}: phải là chuỗi ký tự (a string)", field=fld)
    out = " ".join(normalise_name(value).split())
    if len(out) > cap:
        raise BadInput(f"{fld}: dài hơn {cap} ký tự ({len(out)}) — longer than {cap}", field=fld)
    if any(ord(c) < 32 for c in out):
        raise BadInput(f"{fld}: có ký tự điều khiển (control characters)", field=fld)
    return out


def check_contacts(items: Iterable[object]) -> list[Contact]:
    """Raw items (dicts) → contacts, or ``BadInput`` naming ``contacts[i].field``."""
    raw = list(items)
    if len(raw) > MAX_CONTACTS:
        raise BadInput(
            f"contacts: tối đa {MAX_CONTACTS} người ({len(raw)}) — at most {MAX_CONTACTS}",
            field="contacts",
        )
    out: list[Contact] = []
    for i, item in enumerate(raw):
        where = f"contacts[{i}]"
        if not isinstance(item, dict):
            raise BadInput(f"{where}: phải là một đối tượng (an object)", field=where)
        unknown = set(item) - {"role", "name", "email", "is_leader"}
        if unknown:
            raise BadInput(
                f"{where}: trường không biết {', '.join(sorted(unknown))} (unknown field)",
                field=f"{where}.{sorted(unknown)[0]}",
            )
        role = _text(item.get("role"), f"{where}.role", ROLE_MAX)
        name = _text(item.get("name"), f"{where}.name", NAME_MAX)
        email = _text(item.get("email"), f"{where}.email", EMAIL_MAX, required=False)
        if email is not None and not EMAIL_RE.match(email):
            raise BadInput(
                f"{where}.email: '{email}' không phải địa chỉ thư điện tử (not an e-mail address)",
                field=f"{where}.email",
            )
        leader = item.get("is_leader", False)
        if not isinstance(leader, bool):
            raise BadInput(f"{where}.is_leader: true hoặc false", field=f"{where}.is_leader")
        assert role is not None and name is not None
        out.append(Contact(role, name, email, leader))
    if sum(c.is_leader for c in out) > 1:
        raise BadInput(
            "contacts: chỉ một người là lãnh đạo phụ trách địa bàn (is_leader) — one leader",
            field="contacts.is_leader",
        )
    return out


def _holder(code: str) -> dict[str, str | None]:
    """Bind parameters naming the holder: ``u`` a unit code or ``a`` an agency code."""
    agency = is_agency_code(code)
    return {"u": None if agency else code, "a": code if agency else None}


def holder_exists(conn: Connection, code: str) -> bool:
    sql = (
        "select 1 from agency where code = :c"
        if is_agency_code(code)
        else "select 1 from admin_unit where code = :c"
    )
    return conn.execute(text(sql), {"c": code}).first() is not None


def read_contacts(conn: Connection, code: str) -> list[dict]:
    rows = conn.execute(
        text(
            "select role, name, email, is_leader, updated_at, updated_by from unit_contact"
            " where unit_code is not distinct from :u and agency_code is not distinct from :a"
            " order by position, id"
        ),
        _holder(code),
    ).mappings()
    return [dict(r) for r in rows]


def replace_contacts(conn: Connection, code: str, contacts: list[Contact], actor: str) -> int:
    """Replace the holder's list (inside the caller's transaction)."""
    if not holder_exists(conn, code):
        raise NotFound(f"không có đơn vị hoặc bộ, ngành mã {code} (unknown holder)")
    holder = _holder(code)
    conn.execute(
        text(
            "delete from unit_contact"
            " where unit_code is not distinct from :u and agency_code is not distinct from :a"
        ),
        holder,
    )
    for pos, c in enumerate(contacts):
        conn.execute(
            text(
                "insert into unit_contact (unit_code, agency_code, role, name, email, is_leader,"
                " position, updated_by) values (:u, :a, :role, :name, :email, :leader, :pos,"
                " :actor)"
            ),
            holder
            | {
                "role": c.role,
                "name": c.name,
                "email": c.email,
                "leader": c.is_leader,
                "pos": pos,
                "actor": actor,
            },  # fmt: skip
        )
    return len(contacts)


# --- from a sheet ------------------------------------------------------------------------
SHEET_ALIASES: dict[str, list[str]] = {
    "code": ["Mã đơn vị", "Mã", "Mã tỉnh", "Mã xã", "Mã bộ, ngành", "Mã cơ quan", "code"],
    "role": ["Vai trò", "Chức danh", "Chức vụ", "Vị trí", "role"],
    "name": ["Họ và tên", "Họ tên", "Người nhận", "Tên", "name"],
    "email": ["Thư điện tử", "Email", "E-mail", "Địa chỉ thư điện tử", "email"],
    "is_leader": [
        "Lãnh đạo phụ trách địa bàn",
        "Lãnh đạo phụ trách",
        "Ủy viên BTV phụ trách",
        "is_leader",
    ],  # fmt: skip
}
YES = {"x", "co", "1", "true", "yes", "la lanh dao", "phu trach"}
MAX_SHEET_ROWS = 20_000


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    return out or None


def import_contacts(
    engine: Engine, path: str | Path, actor: str, authorize: Authorize | None = None
) -> dict:
    """Replace the contacts of every holder a sheet names with its rows (all or nothing:
    any row with a problem → nothing written, every problem listed by row and column).
    The file is read by the sandboxed sheet reader like every upload."""
    from geo.ingest.sheets import map_headers, read_sheet
    from geo.text import search_key

    sheet = read_sheet(path, [h for hs in SHEET_ALIASES.values() for h in hs])
    cols = map_headers(sheet.headers, SHEET_ALIASES, sheet.header_parts)
    missing = [f for f in ("code", "role", "name") if f not in cols]
    if missing:
        raise BadInput(
            f"{sheet.file}: thiếu cột {', '.join(SHEET_ALIASES[f][0] for f in missing)}"
            f" (missing columns; found: {', '.join(sheet.headers) or 'none'})",
            file=sheet.file,
            field=missing[0],
        )
    if len(sheet.rows) > MAX_SHEET_ROWS:
        raise BadInput(f"{sheet.file}: quá {MAX_SHEET_ROWS} dòng", file=sheet.file)
    by_holder: dict[str, list[dict]] = {}
    problems: list[dict] = []
    for row_no, cells in sheet.rows:
        raw = {f: _cell(cells.get(h)) for f, h in cols.items()}
        if not any(raw.values()):
            continue
        code = (raw.pop("code") or "").upper()
        leader = search_key(raw.pop("is_leader", None) or "") in YES
        by_holder.setdefault(code, []).append(
            {"_row": row_no, **{k: v for k, v in raw.items() if v}, "is_leader": leader}
        )
    checked: dict[str, list[Contact]] = {}
    with engine.connect() as conn:
        for code, items in by_holder.items():
            rows = [it.pop("_row") for it in items]
            if not code or not holder_exists(conn, code):
                reason = f"không có đơn vị hoặc bộ, ngành mã '{code}'"
                problems.append({"row": rows[0], "field": cols["code"], "reason": reason})
                continue
            try:
                checked[code] = check_contacts(items)
            except BadInput as exc:
                m = re.match(r"contacts\[(\d+)\]\.?(\w*)", exc.field or "")
                row = rows[int(m.group(1))] if m else rows[0]
                fld = cols.get(m.group(2), exc.field) if m and m.group(2) else exc.field
                problems.append({"row": row, "field": fld, "reason": exc.message})
    if problems:
        return {"file": sheet.file, "ok": False, "errors": problems, "holders": 0, "contacts": 0}
    with engine.begin() as conn:
        if authorize is not None:
            authorize(conn, set(checked))
        for code, contacts in checked.items():
            replace_contacts(conn, code, contacts, actor)
    return {
        "file": sheet.file,
        "ok": True,
        "errors": [],
        "holders": len(checked),
        "contacts": sum(len(c) for c in checked.values()),
    }
