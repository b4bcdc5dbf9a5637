"""Who issues a notice: the header and signature block of an issuing body's letters.

Why a table with defaults in code: every province's office issues under its own name, number
series and signer, which only the office can tell us (``iocmap remind issuer …`` stores it);
until it does, a notice must still be a correct letter, so the defaults follow the usual form
of a công văn of a provincial People's Committee (Nghị định 30/2020/NĐ-CP) and leave the
signer's name blank for the office to fill in before signing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from sqlalchemy import Connection, text

from geo.errors import BadInput
from geo.read.followup import issuer_row, province_row

NATIONAL = "TW"
NATIONAL_BODY = (
    "BAN CHỈ ĐẠO TRUNG ƯƠNG VỀ PHÁT TRIỂN KHOA HỌC, CÔNG NGHỆ, ĐỔI MỚI SÁNG TẠO VÀ CHUYỂN ĐỔI SỐ"
)


@dataclass(frozen=True)
class Issuer:
    """The issuing body as its letters print it (upper case where the decree says so)."""

    code: str  # a province code, or "TW"
    parent: str | None  # the parent body (upper case, regular); None when there is none
    name: str  # the issuing body (upper case, bold)
    abbrev: str  # "UBND-KGVX" in "Số: 125/UBND-KGVX"
    place: str  # "Hà Nội" in "Hà Nội, ngày 13 tháng 11 năm 2025"
    authority: str  # "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH" (lines of the signature block)
    signer_title: str  # "PHÓ CHỦ TỊCH"
    signer_name: str = ""  # blank: the office fills it in before signing
    archive: str = "VT"  # "Lưu: VT, …"


def default_issuer(code: str, unit_name: str | None, unit_kind: str | None) -> Issuer:
    """The defaults: a province's People's Committee, or the central steering committee."""
    if code == NATIONAL or not unit_name:
        return Issuer(
            code=NATIONAL,
            parent=None,
            name=NATIONAL_BODY,
            abbrev="BCĐTW",
            place="Hà Nội",
            authority="TM. BAN CHỈ ĐẠO",
            signer_title="TRƯỞNG BAN",
        )
    kind = (unit_kind or "Tỉnh").upper()
    place = "TP. Hồ Chí Minh" if unit_name == "Hồ Chí Minh" else unit_name
    return Issuer(
        code=code,
        parent=None,
        name=f"ỦY BAN NHÂN DÂN {kind} {unit_name.upper()}",
        abbrev="UBND-KGVX",
        place=place,
        authority="TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH",
        signer_title="PHÓ CHỦ TỊCH",
    )


def issuer_for(conn: Connection, code: str) -> Issuer:
    """The stored profile of ``code``, else its defaults (``code`` a province or "TW")."""
    row = issuer_row(conn, code)
    if row is not None:
        return Issuer(**{f.name: row[f.name] for f in fields(Issuer)})
    unit = province_row(conn, code) if code != NATIONAL else None
    if code != NATIONAL and unit is None:
        raise BadInput(f"không có tỉnh/thành phố mã {code} (unknown issuer)", field="issuer")
    return default_issuer(code, unit["name"] if unit else None, unit["kind"] if unit else None)


def save_issuer(conn: Connection, code: str, **changes: str | None) -> Issuer:
    """Store ``code``'s profile: its current one (or the defaults) with ``changes`` applied."""
    known = {f.name for f in fields(Issuer)} - {"code"}
    unknown = set(changes) - known
    if unknown:
        raise BadInput(f"unknown issuer field(s): {', '.join(sorted(unknown))}")
    current = issuer_for(conn, code)
    updated = replace(current, **{k: v for k, v in changes.items() if v is not None})
    for name in ("name", "abbrev", "place", "authority", "signer_title"):
        value = getattr(updated, name)
        if not value or not value.strip() or len(value) > 300:
            raise BadInput(f"{name} must be 1–300 characters", field=name)
    row = asdict(updated)
    cols = ", ".join(row)
    sets = ", ".join(f"{k} = excluded.{k}" for k in row if k != "code")
    conn.execute(  # columns from the dataclass's own field names, values bound
        text(
            f"insert into notice_issuer ({cols}) values ({', '.join(':' + k for k in row)})"  # noqa: S608
            f" on conflict (code) do update set {sets}"
        ),
        row,
    )
    return updated
