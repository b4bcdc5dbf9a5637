"""Reads for the wall's later views, kept apart so ``maps/wall.py`` stays one screenful of
assembly: the trend card (quarter-end figures replayed from the task history, units
reminded and still overdue; issue 14) and the reporting view (provinces by days since their
last report; issue 15), the "sẽ trễ hạn" view (provinces forecast to miss their
deadline, worst first; issue 26, ``maps/forecast_map.py``), the difficulties view (issue
28), and the regions the views rank
(moved here from ``maps/wall.py``, which imports them)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from geo.read import health
from geo.read.followup import reminded_still_overdue
from geo.read.progress import VN_TZ
from geo.read.series import figures_at, points
from geo.read.silence import silent_holders
from maps import forecast_map
from maps.trend_svg import trend_svg

# The wall's trend chart: its shape in user units (the side column's width, a quarter of
# its height) and its text, ~ .8 wall unit once drawn across the column.
WALL_CHART = {"width": 600, "height": 92, "font": 20}

# Provinces by region, from their official code ranges (north: 01–37, Hà Nội … Ninh Bình;
# centre with the Central Highlands: 38–68, Thanh Hóa … Lâm Đồng; south: 75–96).
REGION_CODES = {"north": ("01", "37"), "central": ("38", "68"), "south": ("69", "99")}
# The centre is too tall for one view of a 16:9 screen (its land would be 8 % of it): two
# views, Bắc Trung Bộ (Thanh Hóa … Huế) and Nam Trung Bộ with Tây Nguyên (Đà Nẵng … Lâm Đồng).
SUB_REGION_CODES = {"central_north": ("38", "47"), "central_south": ("48", "68")}


def wall_extra(conn: Connection, as_of: dt.date, year: int, playlist: list[str]) -> dict:
    """The wall's ``extra``: the trend card, and the provinces' forecasts (as
    ``/api/v1/forecast?level=province`` lists them) when the playlist has "will_miss"."""
    rows = forecast_map.wall_rows(conn, as_of) if "will_miss" in playlist else []
    out = {"trend": wall_trend(conn, as_of, year), "forecast": rows}
    if "difficulties" in playlist:
        out["difficulties"] = wall_difficulties(conn, as_of, None)
    return out


def wall_difficulties(conn: Connection, as_of: dt.date, province: str | None) -> dict:
    """The "Khó khăn, vướng mắc" view's first frame, as ``GET /api/v1/difficulties``
    answers it for the scope (national, or a province with its communes): the counts by
    category, the share of overdue tasks blocked by central guidance, and the map's values
    (each province's, or each of the province's communes', own overdue tasks blocked)."""
    from geo.read import difficulties

    return {
        **difficulties.counts(conn, as_of, province),
        "blocked_by_unit": difficulties.map_shares(conn, as_of, province),
    }


def wall_trend(conn: Connection, as_of: dt.date, year: int) -> dict:
    """Quarter ends of ``year`` reached by ``as_of``, the weekly chart and the five reminded
    units that are still overdue, as the wall's ``extra["trend"]``."""
    return {
        **trend_figures(conn, as_of, year),
        "reminded": reminded_still_overdue(conn, as_of, limit=5),
        # holders silent past their notices' reply-by date, still overdue (issue 27)
        "silent": silent_holders(conn, dt.datetime.now(VN_TZ).date(), as_of, limit=5),
    }


def trend_figures(conn: Connection, as_of: dt.date, year: int, code: str | None = None) -> dict:
    """The country's (or a province's own) NQ57 figures at the quarter ends of ``year``
    reached by ``as_of``, and its weekly chart drawn for the wall's side column."""
    quarter_ends = [d for d in (dt.date(year, 6, 30), dt.date(year, 9, 30)) if d <= as_of]
    quarters = figures_at(conn, quarter_ends, "NQ57", year, code)
    start = dt.date(year, 1, 1)
    weeks = points(start, as_of, "week", as_of) if start <= as_of else []
    got = figures_at(conn, [w.day for w in weeks], "NQ57", year, code)
    series = [{"period": w.period, **got[w.day]} for w in weeks if w.day in got]
    return {
        "quarters": [{"label": f"Q{d.month // 3}/{year}", **quarters[d]} for d in sorted(quarters)],
        "svg": trend_svg(series, code or "Cả nước", **WALL_CHART) if series else "",
    }


def reporting(conn: Connection, as_of: dt.date, stale_days: int) -> list[dict]:
    """Provinces' data health, longest silent first (the wall's ``reporting`` view)."""
    return health.sort_health(
        health.data_health(conn, "province", as_of, stale_days), "-days_since"
    )


def forecast_measure(s: dict, as_of: dt.date) -> tuple[str, dict]:
    """The wall's legend slot and measure for the "will_miss" view: the map coloured by
    the provinces' forecast classes (value = class index, as on the map pages)."""
    label = s["fc_title"]
    legend = forecast_map.legend_html(label, forecast_map.subtitle(s, "province", as_of), s)
    slot = f'<div class="legend-slot" data-measure="forecast" hidden>{legend}</div>'
    measure = {
        "label": label,
        "unit": "",
        "decimals": 0,
        "breaks": forecast_map.BREAKS,
        "palette": forecast_map.PALETTE,
        "higherIsBetter": True,
        "classes": list(forecast_map.CLASSES),
        "categories": forecast_map.labels(s),
    }
    return slot, measure


def region_of(code: str) -> str:
    """The region a province belongs to (by official code)."""
    return next((r for r, (lo, hi) in REGION_CODES.items() if lo <= code <= hi), "south")


def regions_of(code: str) -> list[str]:
    """The region and the sub-region (if any) a province belongs to (by official code)."""
    subs = [r for r, (lo, hi) in SUB_REGION_CODES.items() if lo <= code <= hi]
    return [region_of(code), *subs]


def rank_provinces(provinces: list[dict], region: str | None) -> list[dict]:
    """Provinces of a region or sub-region (None: all) by completion, best first (ties by
    code)."""
    return sorted(
        (
            p
            for p in provinces
            if p["completion_pct"] is not None
            and (region is None or region in regions_of(p["code"]))
        ),
        key=lambda p: (-p["completion_pct"], p["code"]),
    )
