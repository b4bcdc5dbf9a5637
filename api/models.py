"""Pydantic models of the JSON bodies the API sends: the contract shown in /openapi.json.

Why models that the routes never instantiate: every data response is built once per data
version as bytes (orjson, PostGIS ``ST_AsGeoJSON``) and served from the cache, so
re-serialising through pydantic would cost time on the hot path for nothing. Models are
declared on the routes (``responses=``, documentation only) and the tests validate real
responses against them (``Model.model_validate``, as tipg does), so they cannot drift.

Bodies are ``extra="forbid"``: a field added to a response must be added here too, or the
tests (and schemathesis' schema conformance check) fail. GeoJSON geometry is described by
its type and a free coordinate array, on purpose: validating every coordinate of 3,321
communes against a JSON schema would make the schema check cost seconds per response;
geometry validity is tested in PostGIS instead. Series models live in
``api/series_models.py``.

Why one module (over 400 lines): it is a list of declarations with no logic, the whole
response contract in one place, and the bodies share their pieces (``DatedMeta``, ``Link``,
``LevelTasks``, ``DataHealth``, ``TargetResult`` appear in several); split by resource, each
file would import most of the others.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.series_models import Changes
from geo.ingest.report import Kind

Status = Literal["completed", "completed_late", "on_time", "overdue"]
Level = Literal["province", "commune"]
HolderLevel = Literal["province", "commune", "agency"]
TargetState = Literal["met", "not_met", "at_risk", "no_data"]


class _Body(BaseModel):
    """A response body: unknown fields are an error (the documentation must be complete)."""

    model_config = ConfigDict(extra="forbid")


class Link(_Body):
    """A web link (OGC API / RFC 8288 style)."""

    rel: str
    type: str
    href: str
    title: str | None = None


class DataMeta(_Body):
    """What every data response carries: the data's reporting date and version."""

    data_as_of: dt.date | None = Field(description="the data's reporting date")
    data_version: int = Field(description="changes on every import (also the ETag's basis)")


class DatedMeta(DataMeta):
    """Data metadata plus the as-of date the task status was derived for."""

    as_of: dt.date = Field(description="the date task status is derived for")


# ---------------------------------------------------------------- errors


class ErrorItem(BaseModel):
    """One problem: the parameter (or file, row, field for imports) and the message."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    param: str | None = None
    in_: str | None = Field(None, alias="in", description="query | path | body")
    msg: str | None = None


class Error(BaseModel):
    """Every 4xx/5xx body: ``detail`` names the parameter; ``errors`` lists each problem.
    A rejected import adds its ``report``."""

    model_config = ConfigDict(extra="forbid")

    detail: str
    errors: list[ErrorItem]
    report: dict[str, Any] | None = None


# ---------------------------------------------------------------- summary


class Plan02Rollup(_Body):
    """Plan 02: communes with all 16 task groups done, and the groups done overall."""

    communes: int
    communes_all_groups_done: int
    groups_done: int
    groups_total: int
    tasks_overdue: int
    tasks_overdue_without_reason: int = Field(description="overdue, no reason stated")


class ProvinceKpi(_Body):
    """One province's programme figures for the summary's slice (no geometry)."""

    code: str
    name: str
    kind: str
    tasks_total: int
    tasks_completed: int
    tasks_overdue: int
    completion_pct: float | None
    communes: int
    communes_all_groups_done: int
    data_as_of: dt.date | None = Field(
        None, description="day of the province's last report (last import naming it)"
    )


class LevelTasks(_Body):
    """One level's task figures (the central level, or central + provinces)."""

    tasks_total: int
    tasks_completed: int = Field(description="on time or late")
    tasks_completed_late: int
    tasks_in_progress: int
    tasks_on_time: int
    tasks_overdue: int
    completion_pct: float | None


class CentralTasks(LevelTasks):
    """The central level: tasks held by ministries and central bodies."""

    agencies: int


class AgencyKpi(LevelTasks):
    """One ministry or central body's task figures."""

    code: str
    name: str
    name_en: str
    kind: str


class AgencyList(DatedMeta):
    """Every agency's figures, most overdue first, and the central level's totals."""

    year: int
    central: CentralTasks
    agencies: list[AgencyKpi]


class DataHealth(_Body):
    """A unit's data health ("đúng, đủ, sạch, sống"): reporting, completeness, values."""

    code: str
    name: str
    kind: str
    level: HolderLevel
    last_report_at: dt.datetime | None = Field(description="last import naming the unit (UTC)")
    last_report_date: dt.date | None = Field(description="that day in Asia/Ho_Chi_Minh")
    days_since_report: int | None = Field(description="to the as-of date; null: never")
    stale: bool = Field(description="no report within stale_days")
    tasks: int
    tasks_complete: int = Field(description="tasks with every field a report must give")
    complete_pct: float | None
    indicators_expected: int
    values_missing: list[str] = Field(description="indicators without a latest-period value")


class DataHealthList(DatedMeta):
    """One page of units' data health."""

    level: HolderLevel
    stale_days: int
    sort: str
    numberMatched: int
    numberReturned: int
    stale_count: int
    units: list[DataHealth]
    links: list[Link]


class AgencyDetail(DatedMeta):
    """One agency: identity, its task figures (all years), data health, links."""

    code: str
    name: str
    name_en: str
    kind: str
    figures: LevelTasks
    data_health: DataHealth | None
    links: list[Link]


class TargetResult(_Body):
    """A target and its evaluation on the as-of date."""

    id: int
    unit_code: str
    unit_name: str
    subject: str
    kind: Literal["rank_max", "value_min", "completion_min", "all_green"]
    threshold: float | None
    due: dt.date
    label: str | None
    state: TargetState
    period: str | None = Field(description="indicator period evaluated (latest on as_of)")
    current: float | None = Field(description="rank, value, completion % or share green %")
    previous: float | None = Field(description="the same in the period before")
    detail: str


class TargetList(DatedMeta):
    """Targets and their evaluation."""

    numberMatched: int
    counts: dict[str, int]
    targets: list[TargetResult]


class Phase2Province(_Body):
    """Plan 02 phase 2 for one province: indicators green and the share green."""

    code: str
    name: str
    green: int
    total: int
    share_green: float | None
    indicators: list[dict[str, Any]]


class Phase2(DatedMeta):
    """Plan 02 phase-2 greening per province (the national system's view)."""

    period: str | None
    indicators: list[dict[str, Any]]
    provinces: list[Phase2Province]


class NationalIndicator(_Body):
    """An indicator of the ``national`` level: laws and decrees issued, the digital
    economy's share of GDP."""

    code: str
    name: str
    name_en: str
    unit: str
    period: str
    value: float


class Summary(DatedMeta):
    """National totals of the provinces' programme tasks due in ``year``."""

    program: str
    year: int = Field(description="deadline year of the tasks counted")
    tasks_total: int
    tasks_completed: int
    tasks_completed_late: int
    tasks_in_progress: int
    tasks_on_time: int
    tasks_overdue: int
    completion_pct: float | None
    tasks_overdue_without_reason: int = Field(description="overdue, no reason stated")
    plan02: Plan02Rollup
    change: Changes
    provinces: list[ProvinceKpi]
    central: CentralTasks | None = Field(None, description="ministries and central bodies")
    total: LevelTasks | None = Field(None, description="central level and provinces together")
    national_indicators: list[NationalIndicator] = Field(
        default_factory=list,
        description="indicators of the whole country (no province): the value of the latest"
        " period ended by as_of",
    )


# ---------------------------------------------------------------- GeoJSON layers


class Geometry(BaseModel):
    """A GeoJSON geometry (RFC 7946, WGS84 lon/lat); coordinates are not itemised here."""

    type: Literal["Polygon", "MultiPolygon", "Point", "GeometryCollection"]
    coordinates: list[Any] | None = None
    geometries: list[Any] | None = None


class UnitIndicator(_Body):
    """One indicator of a unit: value and rank of how many, and the change since the
    previous period (``rank_change`` > 0 = moved up)."""

    code: str
    name: str | None
    name_en: str | None
    unit: str | None
    higher_is_better: bool | None
    period: str
    value: float
    rank: int | None
    rank_of: int
    previous_period: str | None
    previous_value: float | None
    previous_rank: int | None
    change: float | None
    rank_change: int | None


class UnitRef(_Body):
    """A province named by code and name."""

    code: str
    name: str


class UnitProperties(BaseModel):
    """Properties of a province or commune. Which appear depends on the level and on
    ``fields``; ``period`` adds each indicator as ``<code>`` and ``<code>_rank``."""

    model_config = ConfigDict(extra="allow")

    code: str | None = None
    name: str | None = None
    kind: str | None = None
    full_name: str | None = None
    tasks_total: int | None = None
    tasks_completed: int | None = Field(None, description="on time or late")
    tasks_completed_late: int | None = None
    tasks_on_time: int | None = None
    tasks_overdue: int | None = None
    completion_pct: float | None = None
    geometry_quality: str | None = Field(None, description="approximate | official")
    communes: int | None = Field(None, description="provinces: number of communes")
    communes_all_groups_done: int | None = None
    province_code: str | None = Field(None, description="communes: their province")
    province_name: str | None = None
    groups_done: int | None = Field(None, description="communes: Plan 02 groups done")
    groups_total: int | None = None
    area_km2: float | None = None
    population: int | None = None
    label_lon: float | None = None
    label_lat: float | None = None
    source: str | None = None
    valid_from: dt.date | None = None


class UnitDetailProperties(UnitProperties):
    """Every property of one unit, its province (communes), its indicators, its data
    health and (provinces) its targets."""

    province: UnitRef | None = None
    indicators: list[UnitIndicator]
    data_health: DataHealth | None = None
    targets: list[TargetResult] | None = None
    change: Changes | None = None
    tasks_overdue_without_reason: int | None = None
    suggested_crs: str | None = Field(
        None,
        description="the province's own VN-2000 TM-3 zone (EPSG:9205–9218, 5896–5899): the"
        " meridian Circular 973/2001/TT-TCĐC gives the former province holding its seat"
        " (docs/gis.md)",
    )


class UnitFeature(BaseModel):
    """A province or commune in a FeatureCollection; ``id`` is its official code."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"]
    id: str
    geometry: Geometry | None
    properties: UnitProperties
    links: list[Link] | None = None


class UnitCollection(DatedMeta):
    """A page of a unit layer (RFC 7946 FeatureCollection with paging members)."""

    type: Literal["FeatureCollection"]
    period: str | None = Field(None, description="indicator period of the flat properties")
    links: list[Link]
    numberMatched: int
    numberReturned: int
    features: list[UnitFeature]


class UnitDetail(DatedMeta):
    """One province or commune with every figure, its indicators and links."""

    type: Literal["Feature"]
    id: str
    geometry: Geometry | None
    properties: UnitDetailProperties
    links: list[Link]


class OgcFeatureCollection(_Body):
    """A page of an OGC API – Features collection (``/ogc/collections/{id}/items``)."""

    type: Literal["FeatureCollection"]
    timeStamp: dt.datetime
    links: list[Link]
    data_as_of: dt.date | None
    numberMatched: int
    numberReturned: int
    features: list[UnitFeature]


# ---------------------------------------------------------------- tasks and history


class UnitIdentity(_Body):
    """The unit a task list or history belongs to."""

    code: str
    name: str
    kind: str
    level: HolderLevel
    full_name: str


class Task(_Body):
    """A task with its status on ``as_of``."""

    id: int
    external_id: str
    program: str
    group_no: int | None
    phase: int | None
    year: int | None
    title: str
    lead_agency: str | None
    start_date: dt.date | None
    deadline: dt.date
    completed_at: dt.date | None
    reason: str | None = Field(description="nguyên nhân chậm / khó khăn, vướng mắc")
    proposal: str | None = Field(description="giải pháp, kiến nghị")
    person_in_charge: str | None = Field(
        None, description="người phụ trách (name and title, as the office wrote it)"
    )
    product: str | None = Field(None, description="sản phẩm")
    authority: str | None = Field(None, description="cấp có thẩm quyền quyết định")
    expected_at: dt.date | None = Field(
        None, description="dự kiến hoàn thành: the date the unit expects to finish (its word)"
    )
    office_status: str | None = Field(
        None, description="the office's own status as written ('Chậm tiến độ'); status is by dates"
    )
    completed_at_bound: bool = Field(
        False,
        description="completed_at is only a bound: marked done without a date, by the report date",
    )
    missing_reason: bool = Field(description="overdue and no reason stated (a data problem)")
    difficulty: str | None = Field(
        None, description="the reason's category (geo.difficulties: finance, people, …)"
    )
    difficulty_suggested: bool = Field(
        False, description="the category was suggested from the reason's words, not given"
    )
    waits_on: str | None = Field(
        None, description="the central task or agency the task waits on (as the sheet said)"
    )
    status: Status
    days_overdue: int
    status_label_vi: str
    history_url: str


class TaskList(DatedMeta):
    """One page of a unit's tasks."""

    unit: UnitIdentity
    numberMatched: int
    numberReturned: int
    tasks: list[Task]
    links: list[Link]


class TaskEvent(_Body):
    """One change to a task: when (UTC), who, from which file, old → new values."""

    id: int
    task_external_id: str
    task_title: str
    at: dt.datetime
    actor: str | None
    source: str | None
    action: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None


class History(DataMeta):
    """One page of a unit's task events, newest first."""

    unit: UnitIdentity
    numberMatched: int
    numberReturned: int
    events: list[TaskEvent]
    links: list[Link]


# ---------------------------------------------------------------- indicators


class IndicatorDef(_Body):
    """An indicator and the periods that have values, oldest first."""

    code: str
    name: str
    name_en: str | None
    unit: str | None
    higher_is_better: bool
    level: str = Field(description="province | commune | both")
    periods: list[str]
    latest_period: str | None


class IndicatorList(DataMeta):
    """Every indicator definition."""

    indicators: list[IndicatorDef]


class IndicatorValue(_Body):
    """A unit's value and rank for a period, with the previous period's and the changes
    (``rank_change`` > 0 = improved)."""

    code: str
    name: str
    full_name: str
    province_code: str | None
    value: float
    rank: int | None
    previous_value: float | None
    previous_rank: int | None
    change: float | None
    rank_change: int | None


class _IndicatorSlice(DataMeta):
    indicator: IndicatorDef
    period: str
    previous_period: str | None
    level: Level
    province: str | None


class IndicatorValues(_IndicatorSlice):
    """Values of one indicator for one period, best rank first."""

    values: list[IndicatorValue]


class Rankings(_IndicatorSlice):
    """Units ranked on one indicator, best first."""

    items: list[IndicatorValue]


# ---------------------------------------------------------------- search


class SearchResult(_Body):
    """A unit found by name, with its province and a bbox to zoom to."""

    code: str
    name: str
    kind: str
    level: Level
    full_name: str
    province_code: str | None
    province_name: str | None
    bbox: list[float] = Field(min_length=4, max_length=4, description="minlon,minlat,maxlon,maxlat")


class SearchResults(DataMeta):
    """Units ranked: exact name first, then prefix, then contains."""

    q: str
    results: list[SearchResult]


class ImportRunItem(_Body):
    """One import as ``import_run`` recorded it (dry runs and rejected imports included)."""

    id: int
    kind: Kind  # the one list of import kinds (geo.ingest.report.Kind)
    file: str = Field(description="the file's name as uploaded, cleaned (no path)")
    actor: str | None = Field(
        description="who: token:<name> or cli:<user>; null if unsaid or, for a non-admin"
        " reader, another token's run (token names are an admin's to read)"
    )
    token_id: int | None = Field(description="the API token's id (null: CLI or bootstrap)")
    token_name: str | None = Field(
        description="the API token's label (admins, or the reader's own runs)"
    )
    at: dt.datetime
    dry_run: bool
    outcome: Literal["imported", "no_changes", "dry_run", "rejected", "refused", "interrupted"]
    file_sha256: str | None = Field(
        description="SHA-256 of the kept file (read it at /api/v1/imports/{id}/file)"
    )
    created: int
    updated: int
    unchanged: int
    rejected: int
    version_before: int | None = Field(description="data version when the import began")
    version_after: int | None = Field(description="data version after it (null: unchanged)")


class ImportRuns(_Body):
    """A page of imports, newest first."""

    numberMatched: int
    numberReturned: int
    limit: int
    offset: int
    imports: list[ImportRunItem]
    links: list[Link]


def ok(model: type[BaseModel], description: str | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entry declaring the 200 body's model (documentation only: the routes
    return cached bytes, which FastAPI passes through unvalidated)."""
    entry: dict[str, Any] = {"model": model}
    if description:
        entry["description"] = description
    return {200: entry}
