"""What a map page embeds: lean polygons (code + the styled value) and a few lookups.

Why lean: the page draws 34 provinces or a province's ~100 communes from data embedded
in the HTML (one request, and the same HTML works as a standalone export); every detail
of a unit is fetched from the API when it is clicked. Geometry comes from the stored
topology-preserving levels (``geo.read.features``), never simplified here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import orjson
from sqlalchemy import Connection

from geo.read.features import UnitQuery, unit_features, unit_page
from maps.measures import Measure


@dataclass
class LayerData:
    """A lean FeatureCollection plus the names the tooltips and the search list show."""

    collection: dict  # features carry properties {code, v}
    names: dict[str, str]  # code → full name ("Xã Quỳnh Lưu")
    values: dict[str, float | None]
    approximate: bool
    bbox: list[float] | None  # minlon, minlat, maxlon, maxlat

    def rounded(self, decimals: int) -> LayerData:
        """The same layer with every value rounded to the decimals the page shows, so the
        classes, the colours and the tooltips all read the one rounded number."""

        def r(v: float | None) -> float | None:
            return None if v is None else round(v, decimals)

        features = [
            {**f, "properties": {**f["properties"], "v": r(f["properties"]["v"])}}
            for f in self.collection["features"]
        ]
        return replace(
            self,
            collection={**self.collection, "features": features},
            values={k: r(v) for k, v in self.values.items()},
        )


def unit_values(
    conn: Connection, level: str, as_of: dt.date, fields: tuple[str, ...], year: int | None = None
) -> list[dict]:
    """Figures of every unit of a level, without geometry (the wall classes with these)."""
    page = unit_page(
        conn,
        UnitQuery(level=level, as_of=as_of, year=year, fields=("code", *fields), geometry=False),
        keep_rows=True,
    )
    return page.rows or []


def _value(props: dict, measure: Measure) -> float | None:
    if measure.code == "all_groups_pct":
        n = props.get("communes") or 0
        return round(100.0 * props.get("communes_all_groups_done", 0) / n, 2) if n else None
    v = props.get(measure.code)
    return None if v is None else float(v)


GIVEN = (
    "days_since_report",
    "forecast",
    "blocked_central_pct",
)  # measures read apart from the unit's properties
MEASURE_FIELDS = {
    "completion_pct": ("completion_pct",),
    "tasks_overdue": ("tasks_overdue",),
    "groups_done": ("groups_done",),
    "all_groups_pct": ("communes", "communes_all_groups_done"),
}


def layer(
    conn: Connection,
    level: str,
    as_of: dt.date,
    measure: Measure,
    period: str | None,
    parent: str | None = None,
    band: str | None = "z6",
    precision: int = 4,
    year: int | None = None,
) -> LayerData:
    """The lean layer for a page: geometry at ``band``, properties {code, v}."""
    fields = ("code", "full_name", "geometry_quality", *MEASURE_FIELDS.get(measure.code, ()))
    fc = orjson.loads(
        unit_features(
            conn,
            UnitQuery(
                level=level,
                as_of=as_of,
                parent=parent,
                band=band,
                precision=precision,
                year=year,
                fields=fields,
                indicators=(measure.code,) if measure.indicator else (),
                period=period if measure.indicator else None,
            ),
        )
    )
    features, names, values = [], {}, {}
    approximate = False
    given: dict[str, float | None] = {}  # values that are not unit properties
    if measure.code == "days_since_report":  # data health
        from geo.read.health import data_health

        given = {r["code"]: r["days_since_report"] for r in data_health(conn, level, as_of, 0)}
    elif measure.code == "blocked_central_pct":  # the register of difficulties
        from geo.read.difficulties import blocked_share

        given = blocked_share(conn, level, as_of, parent)
    elif measure.code == "forecast":  # the class index (maps/forecast_map.py)
        from maps.forecast_map import values as forecast_values

        given = dict(forecast_values(conn, level, as_of, parent))
    for f in fc["features"]:
        p = f["properties"]
        code = p["code"]
        v = given.get(code) if measure.code in GIVEN else _value(p, measure)
        names[code] = p["full_name"]
        values[code] = v
        approximate = approximate or p.get("geometry_quality") == "approximate"
        features.append(
            {
                "type": "Feature",
                "id": code,
                "geometry": f["geometry"],
                "properties": {"code": code, "v": v},
            }
        )
    return LayerData(
        {"type": "FeatureCollection", "features": features},
        names,
        values,
        approximate,
        _bbox(features),
    )


def _bbox(features: list[dict]) -> list[float] | None:
    xs: list[float] = []
    ys: list[float] = []

    def walk(c):
        if c and isinstance(c[0], (int, float)):
            xs.append(c[0])
            ys.append(c[1])
        else:
            for x in c:
                walk(x)

    for f in features:
        if f.get("geometry"):
            walk(f["geometry"]["coordinates"])
    return [min(xs), min(ys), max(xs), max(ys)] if xs else None
