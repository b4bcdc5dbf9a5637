"""The national summary's figures (``GET /api/v1/summary``), in one function so that the
committee's report (``maps/report.py``) quotes exactly what the API answers for the same
as-of date."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from geo.read import followup
from geo.read.health import last_report_dates
from geo.read.progress import (
    agency_kpis,
    central_summary,
    combined_total,
    national_summary,
    province_kpis,
)
from geo.read.series import changes


def national_figures(conn: Connection, day: dt.date, slice_year: int) -> dict:
    """The provinces' programme tasks due in ``slice_year`` on ``day``, the Plan 02 commune
    rollup, each province's figures, the central level and both together."""
    provinces = national_summary(conn, day, slice_year)
    provinces["plan02"]["tasks_overdue_without_reason"] = followup.overdue_without_reason(
        conn, day, "KH02", None, None, "commune"
    )
    central = central_summary(agency_kpis(conn, day, slice_year))
    reported = last_report_dates(conn)
    return {
        **provinces,
        "tasks_overdue_without_reason": followup.overdue_without_reason(
            conn, day, "NQ57", slice_year, None
        ),
        "change": changes(conn, day, "NQ57", slice_year),
        "provinces": [
            {**p, "data_as_of": reported.get(p["code"])}
            for p in province_kpis(conn, day, slice_year)
        ],
        "central": central,
        "total": combined_total(provinces, central),
    }
