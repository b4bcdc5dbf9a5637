"""Progress over time: replayed from the task history, equal to the as-of figures."""

from __future__ import annotations

import datetime as dt

import pytest

from api.models import UnitDetail
from api.series_models import Series

FIGURES = ("tasks_total", "tasks_completed", "tasks_completed_late", "tasks_on_time",
           "tasks_overdue", "completion_pct")  # fmt: skip


def _quarters(client) -> dict[str, dict]:
    r = client.get(
        "/api/v1/series", params={"step": "quarter", "from": "2025-01-01", "to": "2025-12-31"}
    )
    assert r.status_code == 200, r.text
    Series.model_validate(r.json())
    return {p["period"]: p for p in r.json()["points"]}


def test_q3_has_more_completed_and_fewer_overdue_than_q2(client):
    q = _quarters(client)
    assert list(q) == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert q["2025-Q2"]["as_of"] == "2025-06-30" and q["2025-Q3"]["as_of"] == "2025-09-30"
    assert q["2025-Q3"]["tasks_completed"] > q["2025-Q2"]["tasks_completed"]
    assert q["2025-Q3"]["tasks_overdue"] < q["2025-Q2"]["tasks_overdue"]
    assert q["2025-Q2"]["tasks_overdue"] > 0  # the trend is visible, not 0 → 0


def test_the_point_at_the_reporting_date_equals_the_summary(client):
    last = _quarters(client)["2025-Q4"]
    assert last["as_of"] == "2025-11-13"  # nothing is recorded after the reporting date
    summary = client.get("/api/v1/summary").json()
    assert (last["tasks_total"], last["tasks_completed"], last["completion_pct"]) == (
        3430,
        1954,
        56.97,
    )
    for name in FIGURES:
        assert last[name] == summary[name], name


def test_weekly_series_rises_and_ends_on_the_summary(client):
    body = client.get("/api/v1/series", params={"step": "week"}).json()
    pts = body["points"]
    assert body["from"] == "2025-01-01" and pts[0]["period"] == "2025-W01"
    assert pts[-1]["period"] == "2025-W46" and pts[-1]["as_of"] == "2025-11-13"
    done = [p["tasks_completed"] for p in pts]
    assert done == sorted(done) and done[0] < done[-1] == 1954


def _detail(client, level: str, code: str, day: str) -> dict:
    r = client.get(f"/api/v1/{level}/{code}", params={"as_of": day})
    assert r.status_code == 200, r.text
    return r.json()["properties"]


@pytest.mark.parametrize(
    ("level", "code", "start"),
    [
        ("provinces", "96", "2025-01-02"),  # Cà Mau: all years, none overdue
        ("provinces", "40", "2025-01-02"),  # Nghệ An
        ("communes", "00004", "2025-07-01"),  # communes exist from 1 July 2025
    ],
)
def test_a_units_series_equals_its_as_of_figures_at_every_point(client, level, code, start):
    r = client.get(
        f"/api/v1/units/{code}/series", params={"step": "month", "from": start, "to": "2025-11-13"}
    )
    assert r.status_code == 200, r.text
    Series.model_validate(r.json())
    pts = r.json()["points"]
    assert len(pts) >= 5
    for p in pts:
        props = _detail(client, level, code, p["as_of"])
        for name in FIGURES:
            assert p[name] == props[name], (p["as_of"], name)


def test_a_province_with_overdue_tasks_matches_as_of_weekly(client):
    provinces = client.get("/api/v1/provinces", params={"as_of": "2025-06-30"}).json()
    late = max(provinces["features"], key=lambda f: f["properties"]["tasks_overdue"])
    code = late["id"]
    assert late["properties"]["tasks_overdue"] > 0
    pts = client.get(
        f"/api/v1/units/{code}/series",
        params={"step": "week", "from": "2025-05-01", "to": "2025-08-31"},
    ).json()["points"]
    for p in pts:
        props = _detail(client, "provinces", code, p["as_of"])
        assert (p["tasks_completed"], p["tasks_overdue"]) == (
            props["tasks_completed"],
            props["tasks_overdue"],
        ), p["as_of"]


def test_change_since_previous_quarter_and_week_on_summary_and_units(client):
    q = _quarters(client)
    change = client.get("/api/v1/summary").json()["change"]
    pq = change["previous_quarter"]
    assert pq["since"] == "2025-09-30"
    assert (
        pq["tasks_completed"] == q["2025-Q4"]["tasks_completed"] - q["2025-Q3"]["tasks_completed"]
    )
    assert pq["tasks_overdue"] == q["2025-Q4"]["tasks_overdue"] - q["2025-Q3"]["tasks_overdue"]
    assert change["previous_week"]["since"] == "2025-11-06"
    detail = client.get("/api/v1/provinces/96").json()
    UnitDetail.model_validate(detail)
    ca_mau = detail["properties"]["change"]["previous_quarter"]
    before = _detail(client, "provinces", "96", "2025-09-30")
    assert ca_mau["tasks_completed"] == 66 - before["tasks_completed"]
    assert any(link["rel"] == "series" for link in detail["links"])


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"step": "week", "from": "1990-01-01"}, "from"),  # more than 400 points
        ({"from": "2025-12-01", "to": "2025-01-01"}, "from"),
        ({"step": "day"}, "step"),
        ({"from": "yesterday"}, "from"),
        ({"program": "x" * 40}, "program"),
    ],
)
def test_bad_ranges_are_4xx_naming_the_parameter(client, params, param):
    r = client.get("/api/v1/series", params=params)
    assert 400 <= r.status_code < 500
    assert param in r.text


def test_unknown_unit_series_is_404(client):
    assert client.get("/api/v1/units/99999/series").status_code == 404


def test_series_is_cached_per_data_version(client):
    first = client.get("/api/v1/series", params={"step": "week"})
    again = client.get(
        "/api/v1/series", params={"step": "week"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_points_are_cut_at_the_reporting_date():
    from geo.read.series import points

    pts = points(dt.date(2025, 1, 1), dt.date(2025, 12, 31), "month", dt.date(2025, 11, 13))
    assert [p.period for p in pts][-2:] == ["2025-10", "2025-11"]
    assert pts[-1].day == dt.date(2025, 11, 13) and pts[0].day == dt.date(2025, 1, 31)
