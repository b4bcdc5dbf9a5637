"""Response models of the deadline forecasts (documentation: the routes return cached
bytes; see ``api/models.py`` for why models that the routes never instantiate)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ForecastClass = Literal["on_track", "at_risk", "will_miss", "done", "no_history"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rule(_Body):
    """The parameters of the class rule applied (``geo/read/forecast.py``)."""

    window_weeks: int
    pace: str
    min_history_days: int
    at_risk_share: float
    due_soon_days: int


class UnitForecast(_Body):
    """One unit's forecast for one programme and deadline."""

    code: str
    name: str | None = None
    programme: str
    deadline: dt.date = Field(description="the deadline this unit is judged against")
    class_: ForecastClass = Field(alias="class")
    open_due: int = Field(description="tasks due by the deadline, not completed by as_of")
    pace_per_week: float | None = Field(description="trimmed mean of the last 8 weeks")
    needed_per_week: float | None = Field(description="null once the deadline has passed")
    expected_completion: dt.date | None
    due_soon: int = Field(description="sắp đến hạn: due within 14 days, not done")
    tasks_total: int
    tasks_completed: int
    weekly_completions: list[int]
    backlog: int = Field(description="open tasks already at or past their own deadline")
    late_pace_per_week: float | None = Field(
        description="late completions per week (trimmed mean): the pace the backlog clears at"
    )


class ForecastList(_Body):
    """Every unit of a level for one programme."""

    data_as_of: dt.date | None
    data_version: int
    as_of: dt.date
    level: Literal["province", "commune", "agency"]
    programme: str
    deadline: dt.date = Field(description="the default deadline (31 December of as_of's year "
                              "or the deadline= asked)")  # fmt: skip
    rule: Rule
    counts: dict[str, int]
    units: list[UnitForecast]


class DueSoonTask(_Body):
    external_id: str
    program: str
    title: str
    deadline: dt.date
    unit_code: str | None
    agency_code: str | None


class ForecastUnit(_Body):
    code: str
    name: str
    level: Literal["province", "commune", "agency"]


class UnitForecasts(_Body):
    """One unit's forecasts per programme and its tasks due soon."""

    data_as_of: dt.date | None
    data_version: int
    as_of: dt.date
    unit: ForecastUnit
    rule: Rule
    forecasts: list[UnitForecast]
    due_soon_days: int
    due_soon_tasks: list[DueSoonTask]
