"""The file's attributes per feature: code, name, kind, parent, population, area, and every
other column kept as it came.

Why one place: these are the rules a person checks when a unit looks wrong — codes made
official (``70`` → ``00070``; full-width ``３１８２５`` → ``31825`` by NFKC), names compared with
the official list after normalising apostrophes, quotes and dashes (``Cư M’gar`` is
``Cư M'gar``: only a real letter difference warns), unknown codes refused unless the
operator allows new units, population and area read from the file (``dan_so``,
``dien_tich_km2``), the rest kept in ``source_attributes``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from geo.ingest.report import ImportReport
from geo.ingest.sheets import CellError, normalise_code
from geo.ingest.vector import RawLayer, name_key
from geo.official import official_units, split_kind

WIDTH = {"province": 2, "commune": 5}
# Typographic variants that are the same letter-less mark: apostrophes, quotes, dashes.
_MARKS = str.maketrans(
    {
        "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u02b9": "'", "\u0060": "'", "\u00b4": "'",
        "\u2032": "'", "\u201c": '"', "\u201d": '"', "\u2033": '"', "\u2010": "-", "\u2011": "-",
        "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    }
)  # fmt: skip
MAX_ATTRIBUTE_CHARS = 2000  # one kept value (a DBF memo can hold anything)


@dataclass
class Features:
    """The file's features after reading, reprojection and repair, one row per unit."""

    codes: list[str]
    names: list[str | None]
    kinds: list[str | None]
    parents: list[str | None]
    geoms: np.ndarray  # MultiPolygons in EPSG:4326, RFC 7946 rings
    index: list[int]  # feature index in the file (for the report)
    population: list[int | None] = field(default_factory=list)
    area_km2: list[float | None] = field(default_factory=list)
    attributes: list[dict] = field(default_factory=list)  # the file's other columns

    def subset(self, keep: list[int]) -> Features:
        """The features at positions ``keep`` (in that order)."""

        def pick(xs: list) -> list:
            return [xs[j] for j in keep] if xs else []

        return Features(
            pick(self.codes), pick(self.names), pick(self.kinds), pick(self.parents),
            self.geoms[keep], pick(self.index), pick(self.population), pick(self.area_km2),
            pick(self.attributes),
        )  # fmt: skip


def mark_key(text: str) -> str:
    """A name compared with the official one: apostrophes/quotes/dashes unified, case and
    tone placement ignored (``Cư M’gar`` = ``Cư M'gar``)."""
    return name_key(text.translate(_MARKS))


def unit_code(value: object, width: int) -> str:
    """An official code; look-alike digits (full-width, Arabic-Indic…) become ASCII by NFKC
    and anything left that is not 0-9 is refused (``str.isdigit`` accepts far more)."""
    if isinstance(value, str):
        value = unicodedata.normalize("NFKC", value)
        if not re.fullmatch(r"\s*'?\s*[0-9]+(\.0+)?\s*", value):
            raise CellError(f"'{value}' is not a code (digits 0-9 only)")
    return normalise_code(value, width)


def _number(value: object) -> float | None:
    """A number from a cell: ints/floats, ``1.234.567`` / ``1,234,567`` / ``6310,45`` text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")
    if not text:
        return None
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):
        text = re.sub(r"[.,]", "", text)
    text = text.replace(",", ".")
    try:
        f = float(text)
    except ValueError:
        raise CellError(f"'{value}' is not a number") from None
    return None if math.isnan(f) or math.isinf(f) else f


def _json_value(value: object) -> object:
    """A cell as JSON (numpy scalars, dates, NaN → null, long text cut)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text[:MAX_ATTRIBUTE_CHARS]


def unit_fields(
    raw: RawLayer, geoms: np.ndarray, level: str, report: ImportReport, *,
    allow_new_units: bool = False,
) -> tuple[Features, list[int]]:  # fmt: skip
    """Per-feature attributes (problems → report); also the positions kept in ``geoms``."""
    official = official_units()
    gdf, fields = raw.frame, raw.fields
    values = {fld: gdf[col].tolist() for fld, col in fields.items()}
    others = [c for c in raw.columns if c not in fields.values()]
    other_values = {c: gdf[c].tolist() for c in others}
    out = Features([], [], [], [], np.empty(0, dtype=object), [])
    keep: list[int] = []
    seen: dict[str, int] = {}
    for i in range(len(gdf)):
        try:
            code = unit_code(values["code"][i], WIDTH[level])
        except CellError as exc:
            report.error(f"{level} code: {exc}", row=i, field=fields["code"])
            continue
        if code in seen:
            report.error(
                f"duplicate code {code} (also feature {seen[code]})",
                row=i, field=fields["code"], code=code,
            )  # fmt: skip
            continue
        seen[code] = i
        off = official.get(code)
        if off is None and not allow_new_units:
            report.error(
                f"code {code} is not in the official list of {level}s; pass --allow-new-units"
                " (allow_new_units=true) if it is a new unit",
                row=i, field=fields["code"], code=code,
            )  # fmt: skip
            continue
        if off is not None and off.level != level:
            report.error(f"code {code} is a {off.level} code", row=i, code=code)
            continue
        raw_name = values["name"][i] if "name" in fields else None
        kind, short = (
            split_kind(str(raw_name))
            if isinstance(raw_name, str) and raw_name.strip()
            else (None, None)
        )
        if off is not None and short and mark_key(short) != mark_key(off.name):
            report.warn(
                f"name '{short}' differs from the official name '{off.name}'",
                row=i, field=fields.get("name"), code=code,
            )  # fmt: skip
        parent = None
        if "parent" in fields:
            value = values["parent"][i]
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                try:
                    parent = unit_code(value, 2)
                except CellError as exc:
                    report.error(f"parent code: {exc}", row=i, field=fields["parent"], code=code)
                    continue
        population, area = _figures(values, fields, i, code, report)
        out.codes.append(code)
        out.names.append(short)
        out.kinds.append(kind)
        out.parents.append(parent)
        out.index.append(i)
        out.population.append(population)
        out.area_km2.append(area)
        out.attributes.append({c: _json_value(other_values[c][i]) for c in others})
        keep.append(i)
    out.geoms = geoms[keep]
    return out, keep


def _figures(values: dict, fields: dict, i: int, code: str, report: ImportReport):
    """(population, area km²) of feature ``i`` from the file; a bad value warns, is None."""
    population = area = None
    for fld in ("population", "area"):
        if fld not in fields:
            continue
        try:
            number = _number(values[fld][i])
        except CellError as exc:
            report.warn(f"{fld}: {exc}; ignored", row=i, field=fields[fld], code=code)
            continue
        if number is None:
            continue
        if number < 0 or (fld == "population" and number > 2**31 - 1):
            report.warn(f"{fld}: {number:g} is out of range; ignored", row=i, field=fields[fld])
            continue
        if fld == "population":
            population = round(number)
        else:
            area = number
    return population, area
