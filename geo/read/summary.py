"""The national summary's figures (``GET /api/v1/summary``), in one function so that the
committee's report (``maps/report.py``) quotes exactly what the API answers for the same
as-of date."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Connection, text

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


def _period_end(period: str) -> dt.date | None:
    """Last day of ``2025``, ``2025-Q3`` or ``2025-09``; None for anything else."""
    m = re.fullmatch(r"(\d{4})(?:-Q([1-4])|-(\d{2}))?", period)
    if not m:
        return None
    year = int(m.group(1))
    month = 3 * int(m.group(2)) if m.group(2) else int(m.group(3) or 12)
    if not 1 <= month <= 12:
        return None
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


# how the reports list the national figures: laws, decrees, circulars, local documents,
# then the economy; an indicator not named here follows, by code
NATIONAL_ORDER = {"laws_issued": 0, "decrees_issued": 1, "circulars_issued": 2,
                  "local_docs_issued": 3, "digital_economy_gdp": 4}  # fmt: skip


def national_indicators(conn: Connection, day: dt.date) -> list[dict]:
    """Indicators of the ``national`` level (no province): each one's value of the latest
    period that has ended by ``day``, in ``NATIONAL_ORDER``."""
    rows = conn.execute(
        text(
            """select i.code, i.name, i.name_en, i.unit, v.period, v.value
               from indicator i join indicator_value v on v.indicator_code = i.code
               where i.level = 'national' and v.unit_code is null
               order by i.code, v.period"""
        )
    ).mappings()
    latest: dict[str, dict] = {}
    for r in rows:
        end = _period_end(r["period"])
        if end is not None and end <= day:
            old = latest.get(r["code"])
            if old is None or _period_end(old["period"]) <= end:  # type: ignore[operator]
                latest[r["code"]] = dict(r)
    return sorted(latest.values(), key=lambda i: (NATIONAL_ORDER.get(i["code"], 99), i["code"]))


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
        "national_indicators": national_indicators(conn, day),
    }
