"""The official post-1-July-2025 unit list and the pre-2025 codes, read from ``vietnamadminunits``.

Why one module: the importer checks files against this list, the demo generator builds its
geometry from it, and legacy sheets are mapped with it; each used to read the package on its
own (three drifting copies). Everything here is cached: the package is static data.

Legacy codes:
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

import functools
import importlib.util
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas loads where a frame is built (imports, demo), not at start
    import pandas as pd

from geo.text import normalise_name


def query(sql: str) -> list[dict]:
    """Rows of the package's own SQLite dataset, read directly.

    Why not ``vietnamadminunits.database.query``: importing the package loads its address
    parser first (0.9 s on every import command, for a 60 ms query)."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("vietnamadminunits")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "dataset.db"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql).fetchall()]


def official_names() -> pd.DataFrame:
    """Official codes, short names and kinds of the 3,321 communes and their provinces."""
    import pandas as pd

    rows = query(
        "select wardCode as code, wardShort as name, wardType as kind, wardAreaKm2 as area_km2,"
        " wardLon as lon, wardLat as lat, provinceCode as province_code,"
        " provinceShort as province_name, province as province_full from admin_units"
    )
    return pd.DataFrame(rows)


def official_commune_frame() -> pd.DataFrame:
    """Load the official post-2025 units: the only attributes the generated geometry may use."""
    import pandas as pd

    rows = query(
        "select wardCode, provinceCode, ward, wardType, wardLon, wardLat, wardAreaKm2 "
        "from admin_units"
    )
    df = pd.DataFrame(rows).rename(
        columns={
            "wardCode": "code",
            "provinceCode": "province_code",
            "ward": "name",
            "wardType": "kind",
            "wardLon": "lon",
            "wardLat": "lat",
            "wardAreaKm2": "area_km2",
        }
    )
    df["code"] = df["code"].astype(str).str.zfill(5)
    df["province_code"] = df["province_code"].astype(str).str.zfill(2)
    for col in ("lon", "lat", "area_km2"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    cols = ["code", "province_code", "name", "kind", "lon", "lat", "area_km2"]
    return df[cols].sort_values("code", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Official:
    """A unit as the official list (vietnamadminunits) has it."""

    code: str
    level: str
    name: str
    kind: str
    parent: str | None
    area_km2: float | None
    lon: float | None
    lat: float | None


@functools.lru_cache(maxsize=1)
def official_units() -> dict[str, Official]:
    """Official codes, names, kinds, areas and centroids of provinces and communes."""
    communes = official_names()
    out: dict[str, Official] = {}
    for r in communes.itertuples(index=False):
        kind = "Thành phố" if str(r.province_full).startswith("Thành phố") else "Tỉnh"
        out.setdefault(
            r.province_code,
            Official(r.province_code, "province", r.province_name, kind, None, None, None, None),
        )
        out[r.code] = Official(
            r.code, "commune", r.name, r.kind, r.province_code,
            _num(r.area_km2), _num(r.lon), _num(r.lat),
        )  # fmt: skip
    return out


def _num(value) -> float | None:
    import pandas as pd

    return None if value is None or pd.isna(value) else float(value)


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
