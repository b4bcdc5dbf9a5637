"""Turn the code cells of a sheet into current units (legacy codes mapped, provinces checked).

Why separate from ``geo.official``: the list is data; how a sheet's cell is read (hint from
the column, preference from the row, legacy-or-new) is the importer's rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.official import (
    legacy_communes,
    map_code,
    split_kind,
)
from geo.text import search_key


@dataclass(frozen=True)
class Unit:
    """A current unit as the importers need it."""

    code: str
    level: str
    name: str
    parent_code: str | None


class UnitResolver:
    """Turn a code cell into a current unit: pad it, map legacy codes, check the province.

    ``hint`` comes from the column ("Mã xã" → commune, "Mã tỉnh" → province); ``prefer``
    from the row (a Plan 02 task group → commune) for columns that say neither.
    """

    def __init__(self, units: dict[str, Unit], legacy: bool = False) -> None:
        self.units = units
        self.legacy = legacy

    @classmethod
    def load(cls, conn, legacy: bool = False) -> UnitResolver:
        from sqlalchemy import text

        rows = conn.execute(text("select code, level, name, parent_code from admin_unit"))
        return cls({r.code: Unit(r.code, r.level, r.name, r.parent_code) for r in rows}, legacy)

    def describe(self, code: str) -> str:
        unit = self.units.get(code)
        return f"{code} ({unit.name})" if unit else code

    def resolve(
        self,
        value: object,
        hint: str | None = None,
        prefer: str | None = None,
        name: str | None = None,
        legacy: bool | None = None,
    ) -> tuple[Unit, str | None]:
        """(unit, note about a legacy mapping) or ``CellError`` with the reason."""
        from geo.ingest.sheets import CellError, normalise_code

        legacy = self.legacy if legacy is None else legacy
        level = hint or self._guess_level(value, prefer)
        code = normalise_code(value, 2 if level == "province" else 5)
        unit = self.units.get(code)
        if unit is not None and not legacy:
            given = search_key(split_kind(name.split(",")[0])[1]) if name else ""
            if given and given != search_key(unit.name) and level == "commune":
                old = legacy_communes().get(code)
                if old and search_key(old.short_name) == given:
                    legacy = True  # the name is the old unit's: read the code as legacy
            if not legacy:
                return unit, None
        mapping = map_code(code, level)
        if mapping is None:
            what = "province" if level == "province" else "commune"
            kind = "legacy " if legacy else ""
            vi_what = "tỉnh" if level == "province" else "xã"
            raise CellError(
                f"unknown {kind}{what} code '{code}'",
                vi=f"không có {vi_what} mang mã{' cũ' if legacy else ''} '{code}'",
                value=value,
                expected=f"mã {vi_what} hiện hành (từ 01/7/2025), "
                f"{'2' if level == 'province' else '5'} chữ số",
                expected_en=f"a current {what} code (since 1 July 2025), "
                f"{'2' if level == 'province' else '5'} digits",
            )
        if not mapping.new_codes:
            raise CellError(f"legacy code {code} ({mapping.legacy_name}) has no successor unit")
        if mapping.ambiguous:
            options = ", ".join(self.describe(c) for c in mapping.new_codes)
            raise CellError(
                f"legacy code {code} ({mapping.legacy_name}) was split into {options};"
                " give the new code"
            )
        new = self.units.get(mapping.new_codes[0])
        if new is None:
            raise CellError(
                f"legacy code {code} maps to {mapping.new_codes[0]}, which is not in the database"
            )
        return new, f"legacy code {code} ({mapping.legacy_name}) → {self.describe(new.code)}"

    def _guess_level(self, value: object, prefer: str | None) -> str:
        """A column that does not say: ≤ 2 significant digits and a province code → province,
        unless the row is about a commune (Plan 02 group)."""
        text = str(value).strip().lstrip("'").split(".")[0].lstrip("0")
        if prefer == "commune":
            return "commune"
        if len(text) <= 2 and (text.zfill(2) in self.units or prefer == "province"):
            candidate = self.units.get(text.zfill(2))
            if candidate is None or candidate.level == "province":
                return "province"
        return "commune"
