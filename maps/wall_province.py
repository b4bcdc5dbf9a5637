"""A province's wall (``/wall/{code}``): the national wall's layout and behaviour for one
province, for a provincial IOC — its communes on the map (by completion, then by overdue
tasks), its own NQ57 figures and trend, its communes' KH02 figures, its targets and its
communes' targets, the alert rail of its communes with overdue tasks and the units
reminded and still overdue among them. Kept apart from ``maps/wall.py`` (the national
assembly), which renders both."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from maps.measures import TASK_MEASURES
from maps.wall import ISLANDS_EAST_OF, WallPage, expand_playlist, outer_rings
from maps.wall_extras import trend_figures, wall_difficulties

PROVINCE_PLAYLIST = ("province", "province_overdue", "targets", "difficulties")


class UnknownProvince(LookupError):
    """No province has this code (the router's 404, in Vietnamese first)."""


def mainland_bounds(fc: dict) -> list[float] | None:
    """The bounding box of the units' polygon parts west of the islands (an archipelago
    is shown in an inset, so the province's mainland fills the map)."""
    xs: list[float] = []
    ys: list[float] = []
    for _, ring in outer_rings(fc):
        if min(p[0] for p in ring) < ISLANDS_EAST_OF:
            xs += [p[0] for p in ring]
            ys += [p[1] for p in ring]
    return [min(xs), min(ys), max(xs), max(ys)] if xs else None


def assemble_province_wall(
    conn: Connection,
    code: str,
    *,
    as_of: dt.date,
    data_as_of: dt.date | None,
    year: int,
    lang: str,
    views: list[str] | None,
    refresh_seconds: float,
    dwell_seconds: float,
    force: bool = False,
    query: dict[str, str] | None = None,
    stale_days: int = 7,
) -> WallPage:
    """Read a province's wall (raises UnknownProvince, PlaylistError)."""
    from geo.read import targets as read_targets
    from geo.read.followup import reminded_still_overdue
    from geo.read.progress import province_kpis
    from maps import data
    from maps.i18n import strings

    s = strings(lang)
    row = next((p for p in province_kpis(conn, as_of, year) if p["code"] == code), None)
    if row is None:
        raise UnknownProvince(s["unknown_province"].format(code=code))
    playlist = expand_playlist(views or list(PROVINCE_PLAYLIST), [], province=True)
    layer = data.layer(
        conn, "commune", as_of, TASK_MEASURES[0], None, parent=code, band="z9", precision=4,
        year=year,
    )  # fmt: skip
    codes = {f["properties"]["code"] for f in layer.collection["features"]}
    communes = [
        c
        for c in data.unit_values(
            conn,
            "commune",
            as_of,
            ("province_code", "completion_pct", "tasks_overdue"),
            year=year,
        )  # fmt: skip
        if c.get("province_code") == code
    ]
    overdue = sorted(
        (
            {
                "code": c["code"],
                "full_name": layer.names.get(c["code"], c["code"]),
                "tasks_overdue": int(c["tasks_overdue"]),
            }
            for c in communes
            if c.get("tasks_overdue")
        ),
        key=lambda c: (-c["tasks_overdue"], c["code"]),
    )
    kh02_overdue = sum(c["tasks_overdue"] for c in overdue)
    summary = {
        **row,
        "plan02": {
            "tasks_overdue": kh02_overdue,
            "communes": row["communes"],
            "communes_all_groups_done": row["communes_all_groups_done"],
        },
        "provinces": [row],
    }
    trend = trend_figures(conn, as_of, year, code)
    reminded = [
        r for r in reminded_still_overdue(conn, as_of, limit=500)
        if r["unit_code"] == code or r["unit_code"] in codes
    ][:5]  # fmt: skip
    bounds = mainland_bounds(layer.collection) or layer.bbox or [102.1, 8.4, 109.6, 23.4]
    mine = codes | {code}
    targets = [t for t in read_targets.targets(conn, as_of) if t["unit_code"] in mine]
    return WallPage(
        extra={
            "trend": {**trend, "reminded": reminded},
            "forecast": [],
            **(
                {"difficulties": wall_difficulties(conn, as_of, code)}
                if "difficulties" in playlist
                else {}
            ),
        },
        province={"code": code, "name": row["name"], "kind": row["kind"], "bounds": bounds},
        stale_days=stale_days,
        targets=targets,
        as_of=as_of,
        data_as_of=data_as_of,
        year=year,
        lang=lang,
        provinces=layer.collection,
        names=layer.names,
        summary=summary,
        indicator_defs=[],
        indicator_values={},
        indicator_periods={},
        commune_completion=[c.get("completion_pct") for c in communes],
        overdue=overdue,
        overdue_communes=[],
        query=query or {},
        playlist=playlist,
        refresh_seconds=refresh_seconds,
        dwell_seconds=dwell_seconds,
        force=force,
        approximate=layer.approximate,
    )
