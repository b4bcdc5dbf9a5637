"""Unit codes from before the 1 July 2025 reorganisation → the new units.

Why the converter's data and not ``convert_address``: the function parses free-text
addresses and, for a commune split across several new ones, geocodes a street over the
network to pick one. A sheet carries codes, and a split commune must be reported as
ambiguous, not guessed; so we read the same tables the converter uses
(``vietnamadminunits/data/converter_2025.json`` keyed by province_district_ward names, and
the legacy unit list with the old codes) and map code → code.

Caveat: 3,316 of the 3,321 new commune codes were also codes of old communes (the new unit
kept one predecessor's code). A code is therefore read as legacy only when the sheet says so
(a column named "mã … cũ", or ``--legacy-codes``), when it is unknown in the new list, or
when the row's unit name matches the old unit and not the new one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from geo.text import normalise_name, search_key


@dataclass(frozen=True)
class LegacyCommune:
    """An old commune and the new commune(s) its territory went to."""

    code: str
    name: str  # "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội"
    short_name: str  # "Phúc Xá"
    province_code: str  # old province code
    new_codes: tuple[str, ...]  # one: merged; several: split (ambiguous)


@lru_cache(maxsize=1)
def _converter_data() -> dict:
    path = files("vietnamadminunits") / "data" / "converter_2025.json"
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def legacy_communes() -> dict[str, LegacyCommune]:
    """Old commune code → where it went (≈10,000 codes)."""
    from vietnamadminunits.database import query

    legacy = query(
        "select provinceKey, districtKey, wardKey, wardCode, ward, district, province,"
        " wardShort, provinceCode from admin_units_legacy where wardCode is not null"
    )
    new = query("select provinceKey, wardKey, wardCode from admin_units")
    by_key = {f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}": r for r in legacy}
    new_code = {(r["provinceKey"], r["wardKey"]): r["wardCode"] for r in new}
    targets: dict[str, list[str]] = {}
    data = _converter_data()
    for province_key, wards in data["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, olds in wards.items():
            code = new_code.get((province_key, ward_key))
            for old in olds:
                if code and old in by_key:
                    targets.setdefault(by_key[old]["wardCode"], []).append(code)
    for province_key, olds in data["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, news in olds.items():
            if old not in by_key:
                continue
            codes = [new_code.get((province_key, n["newWardKey"])) for n in news]
            targets.setdefault(by_key[old]["wardCode"], []).extend(c for c in codes if c)
    out = {}
    for r in legacy:
        code = r["wardCode"]
        out[code] = LegacyCommune(
            code=code,
            name=f"{r['ward']}, {r['district']}, {r['province']}",
            short_name=r["wardShort"],
            province_code=r["provinceCode"],
            new_codes=tuple(sorted(set(targets.get(code, ())))),
        )
    return out


@lru_cache(maxsize=1)
def legacy_provinces() -> dict[str, tuple[str, str]]:
    """Old (63-province) code → (new province code, old province name)."""
    from vietnamadminunits.database import query

    old = {
        r["provinceKey"]: (r["provinceCode"], r["province"])
        for r in query(
            "select distinct provinceKey, provinceCode, province from admin_units_legacy"
        )
    }
    new = {
        r["provinceKey"]: r["provinceCode"]
        for r in query("select distinct provinceKey, provinceCode from admin_units")
    }
    out = {}
    for new_key, old_keys in _converter_data()["DICT_PROVINCE"].items():
        for old_key in old_keys:
            if old_key in old and new_key in new:
                code, name = old[old_key]
                out[code] = (new[new_key], name)
    return out


@dataclass(frozen=True)
class Mapping:
    """The outcome of mapping one legacy code."""

    legacy_code: str
    legacy_name: str
    new_codes: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.new_codes) > 1


def map_code(code: str, level: str) -> Mapping | None:
    """Map a legacy province (2 digits) or commune (5 digits) code; None if unknown."""
    if level == "province":
        hit = legacy_provinces().get(code)
        return Mapping(code, hit[1], (hit[0],)) if hit else None
    unit = legacy_communes().get(code)
    return Mapping(code, unit.name, unit.new_codes) if unit else None


KIND_PREFIXES = ("Thành phố", "Tỉnh", "Đặc khu", "Phường", "Xã", "Thị trấn", "TP.", "TP")
# Compared with their diacritics: "Phương Bình" and "Xà Phiên" are names, not "Phường …"/"Xã …".
_PREFIX_KEYS = tuple((p, p.lower() + " ") for p in KIND_PREFIXES)


def split_kind(name: str) -> tuple[str | None, str]:
    """``Phường Ba Đình`` → (``Phường``, ``Ba Đình``); a name without a prefix → (None, name)."""
    text = normalise_name(name)
    key = text.lower()
    for prefix, pk in _PREFIX_KEYS:
        if key.startswith(pk) and len(text) > len(prefix) + 1:
            kind = "Thành phố" if prefix.startswith("TP") else prefix
            return kind, text[len(prefix) :].strip(" .")
    return None, text


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
        from geo.sheets import CellError, normalise_code

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
            raise CellError(f"unknown {kind}{what} code '{code}'")
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
