"""Reads for the wall's later views, kept apart so ``maps/wall.py`` stays one screenful of
assembly: the trend card (quarter-end figures replayed from the task history, units
reminded and still overdue; issue 14) and the reporting view (provinces by days since their
last report; issue 15), the "sẽ trễ hạn" view (provinces forecast to miss their
deadline, worst first; issue 26, ``maps/forecast_map.py``), and the regions the views rank
(moved here from ``maps/wall.py``, which imports them)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from geo.read import health
from geo.read.followup import reminded_still_overdue
from geo.read.progress import VN_TZ
from geo.read.series import figures_at
from geo.read.silence import silent_holders
from maps import forecast_map

# Provinces by region, from their official code ranges (north: 01–37, Hà Nội … Ninh Bình;
# centre with the Central Highlands: 38–68, Thanh Hóa … Lâm Đồng; south: 75–96).
REGION_CODES = {"north": ("01", "37"), "central": ("38", "68"), "south": ("69", "99")}


def wall_extra(conn: Connection, as_of: dt.date, year: int, playlist: list[str]) -> dict:
    """The wall's ``extra``: the trend card, and the provinces' forecasts (as
    ``/api/v1/forecast?level=province`` lists them) when the playlist has "will_miss"."""
    rows = forecast_map.wall_rows(conn, as_of) if "will_miss" in playlist else []
    return {"trend": wall_trend(conn, as_of, year), "forecast": rows}


def wall_trend(conn: Connection, as_of: dt.date, year: int) -> dict:
    """Quarter ends of ``year`` reached by ``as_of`` and the five reminded units that are
    still overdue, as the wall's ``extra["trend"]``."""
    quarter_ends = [d for d in (dt.date(year, 6, 30), dt.date(year, 9, 30)) if d <= as_of]
    quarters = figures_at(conn, quarter_ends, "NQ57", year)
    return {
        "quarters": [{"label": f"Q{d.month // 3}/{year}", **quarters[d]} for d in sorted(quarters)],
        "reminded": reminded_still_overdue(conn, as_of, limit=5),
        # holders silent past their notices' reply-by date, still overdue (issue 27)
        "silent": silent_holders(conn, dt.datetime.now(VN_TZ).date(), as_of, limit=5),
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


def rank_provinces(provinces: list[dict], region: str | None) -> list[dict]:
    """Provinces of a region (None: all) by completion, best first (ties by code)."""
    return sorted(
        (
            p
            for p in provinces
            if p["completion_pct"] is not None
            and (region is None or region_of(p["code"]) == region)
        ),
        key=lambda p: (-p["completion_pct"], p["code"]),
    )
