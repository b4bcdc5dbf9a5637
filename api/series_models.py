"""Response models of the series and the "change since" blocks (see ``api/models.py``
for why models that the routes never instantiate)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Change(_Body):
    """Change since an earlier day (from the task history): completed ±, overdue ±,
    completion % ± (percentage points)."""

    since: dt.date
    tasks_completed: int
    tasks_overdue: int
    completion_pct: float | None


class Changes(_Body):
    """ "Change since the previous period": the previous quarter's end and a week before."""

    previous_quarter: Change
    previous_week: Change


class SeriesPoint(_Body):
    """One step: figures as recorded by ``as_of`` (the step's last day, capped)."""

    period: str = Field(description="2025-W46 | 2025-11 | 2025-Q4")
    start: dt.date
    as_of: dt.date
    tasks_total: int
    tasks_completed: int = Field(description="completed, including completed late")
    tasks_completed_late: int
    tasks_on_time: int
    tasks_overdue: int
    tasks_in_progress: int
    completion_pct: float | None


class SeriesUnit(_Body):
    code: str
    name: str
    kind: str
    level: Literal["province", "commune"]


class Series(_Body):
    """Progress over time, replayed from the task history."""

    data_as_of: dt.date | None
    data_version: int
    step: Literal["week", "month", "quarter"]
    from_: dt.date = Field(alias="from")
    to: dt.date
    program: str
    year: int | None
    max_points: int
    points: list[SeriesPoint]
    unit: SeriesUnit | None = None


__all__ = ["Change", "Changes", "Series", "SeriesPoint", "SeriesUnit"]
