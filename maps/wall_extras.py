"""Reads for the wall's later views, kept apart so ``maps/wall.py`` stays one screenful of
assembly: the trend card (quarter-end figures replayed from the task history, units
reminded and still overdue; issue 14) and the reporting view (provinces by days since their
last report; issue 15)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from geo.read import health
from geo.read.followup import reminded_still_overdue
from geo.read.series import figures_at


def wall_trend(conn: Connection, as_of: dt.date, year: int) -> dict:
    """Quarter ends of ``year`` reached by ``as_of`` and the five reminded units that are
    still overdue, as the wall's ``extra["trend"]``."""
    quarter_ends = [d for d in (dt.date(year, 6, 30), dt.date(year, 9, 30)) if d <= as_of]
    quarters = figures_at(conn, quarter_ends, "NQ57", year)
    return {
        "quarters": [{"label": f"Q{d.month // 3}/{year}", **quarters[d]} for d in sorted(quarters)],
        "reminded": reminded_still_overdue(conn, as_of, limit=5),
    }


def reporting(conn: Connection, as_of: dt.date, stale_days: int) -> list[dict]:
    """Provinces' data health, longest silent first (the wall's ``reporting`` view)."""
    return health.sort_health(
        health.data_health(conn, "province", as_of, stale_days), "-days_since"
    )
