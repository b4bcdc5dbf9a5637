"""An indicator's values for one period beside the previous period's, and the query
parameters that choose them: shared by ``/indicators/{code}/values`` and ``/rankings``.

Why outside ``api/routers``: two routers use it, and routers do not import each other.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.errors import BadParameter
from api.params import PERIOD_PATTERN
from geo.read import queries

Level = Annotated[
    str | None,
    Query(pattern="^(province|commune)$", description="province | commune (default: province)"),
]
ProvinceFilter = Annotated[
    str | None, Query(pattern=r"^\d{2}$", description="only this province's communes")
]
IndicatorPeriod = Annotated[
    str | None,
    Query(
        pattern=PERIOD_PATTERN,
        description="default: the indicator's latest period",
        openapi_examples={"quarter": {"value": "2025-Q3"}},
    ),
]


def indicator_slice(
    conn, code: str, period: str | None, level: str | None, province: str | None
) -> dict:
    """Values of one indicator for a period with the previous period's and the changes."""
    ind = queries.indicator(conn, code)
    if ind is None:
        raise BadParameter("indicator", f"unknown indicator code '{code}'", 404)
    periods = ind["periods"]
    period = period or ind["latest_period"]
    if period is None or period not in periods:
        raise BadParameter(
            "period", f"no values of '{code}' for {period!r}; available: {', '.join(periods)}", 404
        )
    level = level or ("commune" if ind["level"] == "commune" else "province")
    prev = queries.previous_period(periods, period)
    items = queries.indicator_values(conn, code, period, prev, level, province)
    return {
        "indicator": ind,
        "period": period,
        "previous_period": prev,
        "level": level,
        "province": province,
        "items": items,
    }
