"""Deadline forecasts: built from the task history, one class per unit, honest in backtest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from api.app import create_app
from api.forecast_models import ForecastList, UnitForecasts
from api.settings import Settings
from geo.ingest.store import insert_tasks
from geo.read import forecast as fc
from geo.read.backtest import backtest
from geo.read.series import figures_at

AS_OF = dt.date(2025, 11, 13)  # the demo's reporting date
FIELDS = {"code", "class", "open_due", "pace_per_week", "needed_per_week", "expected_completion"}


def test_pace_ignores_one_quiet_week_and_one_burst():
    assert fc.pace([3, 3, 0, 3, 3, 3, 3, 3]) == 3.0
    assert fc.pace([3, 3, 12, 3, 3, 3, 3, 3]) == 3.0
    assert fc.pace([]) == 0.0


@pytest.mark.parametrize(
    "open_due, weeks, left, history, cls",
    [
        (5, 1.0, 4.0, False, "no_history"),
        (0, 0.0, 4.0, True, "done"),
        (5, 4.0, 4.0, True, "on_track"),
        (5, 5.0, 4.0, True, "at_risk"),
        (5, 5.4, 4.0, True, "will_miss"),
        (5, float("inf"), 4.0, True, "will_miss"),
        (5, 0.1, 0.0, True, "will_miss"),  # the deadline has passed with tasks open
    ],
)
def test_the_class_rule(open_due, weeks, left, history, cls):
    assert fc.classify(open_due, weeks, left, history) == cls


def test_backlog_clears_at_the_late_pace_the_rest_at_the_pace():
    assert fc.weeks_to_clear(0, 6, None, 2.0) == 3.0
    assert fc.weeks_to_clear(2, 6, 1.0, 2.0) == 3.0  # side by side
    assert fc.weeks_to_clear(2, 6, 0.0, 9.0) == float("inf")  # late work never cleared
    assert fc.weeks_to_clear(0, 0, None, None) == 0.0


@pytest.mark.parametrize("level, count", [("province", 34), ("commune", 3321), ("agency", 22)])
def test_demo_classes_every_unit(client, level, count):
    r = client.get("/api/v1/forecast", params={"level": level})
    assert r.status_code == 200, r.text
    body = r.json()
    ForecastList.model_validate(body)
    assert body["deadline"] == "2025-12-31" and body["as_of"] == "2025-11-13"
    units = body["units"]
    assert len(units) == count == sum(body["counts"].values())
    assert all(set(u) >= FIELDS for u in units)
    assert all(u["class"] in fc.CLASSES and u["class"] != "no_history" for u in units)
    if level == "commune":  # a real mix, not one class for all
        assert {"on_track", "at_risk", "will_miss", "done"} <= {u["class"] for u in units}
    only = client.get("/api/v1/forecast", params={"level": level, "class": "will_miss"}).json()
    assert len(only["units"]) == body["counts"]["will_miss"]
    assert all(u["class"] == "will_miss" for u in only["units"])


def test_dak_lak_kh02_phase2_forecast_against_15_dec_agrees_with_its_series(client, engine):
    r = client.get("/api/v1/units/66/forecast")
    assert r.status_code == 200, r.text
    UnitForecasts.model_validate(r.json())
    by = {f["programme"]: f for f in r.json()["forecasts"]}
    kh02 = by["KH02"]
    assert kh02["deadline"] == "2025-12-15"  # the all_green target on KH02-2
    days = fc.window_days(AS_OF)
    with engine.connect() as conn:
        series = figures_at(conn, days, "KH02", None, "66", subtree=True)
    now = series[AS_OF]
    assert kh02["tasks_total"] == now["tasks_total"] > 0
    assert kh02["tasks_completed"] == now["tasks_completed"]
    # due by 15 Dec and open on 13 Nov = the groups due 30 Sep still open = overdue today
    assert kh02["open_due"] == now["tasks_overdue"]
    weekly = [series[b]["tasks_completed"] - series[a]["tasks_completed"]
              for a, b in zip(days, days[1:], strict=False)]  # fmt: skip
    assert kh02["weekly_completions"] == weekly
    assert kh02["pace_per_week"] == fc.pace(weekly)
    late = [series[b]["tasks_completed_late"] - series[a]["tasks_completed_late"]
            for a, b in zip(days, days[1:], strict=False)]  # fmt: skip
    assert kh02["late_pace_per_week"] == fc.pace(late)
    assert kh02["backlog"] == kh02["open_due"]  # everything due by 15 Dec was due 30 Sep
    weeks_left = (dt.date(2025, 12, 15) - AS_OF).days / 7
    assert kh02["needed_per_week"] == round(kh02["open_due"] / weeks_left, 2)
    weeks = fc.weeks_to_clear(kh02["backlog"], 0, kh02["late_pace_per_week"], None)
    assert kh02["class"] == fc.classify(kh02["open_due"], weeks, weeks_left, True)
    if weeks < float("inf"):
        expected = dt.date.fromisoformat(kh02["expected_completion"])
        assert 0 <= (expected - AS_OF).days - 7 * weeks < 1
    # against year end every KH02 task of 2025 is due: open = total - completed
    year_end = client.get(
        "/api/v1/units/66/forecast", params={"programme": "KH02", "deadline": "2025-12-31"}
    ).json()["forecasts"][0]
    assert year_end["open_due"] == now["tasks_total"] - now["tasks_completed"]
    # the list says the same for the province
    listed = client.get("/api/v1/forecast", params={"programme": "KH02"}).json()
    row = next(u for u in listed["units"] if u["code"] == "66")
    assert row["deadline"] == "2025-12-15" and row["open_due"] == kh02["open_due"]


def _task(code: str, n: int, deadline: dt.date, done: dt.date | None, recorded: dt.date) -> dict:
    return {
        "external_id": f"T26-{code}-{n:03d}",
        "program": "T26",
        "group_no": None,
        "phase": None,
        "year": deadline.year,
        "title": f"Nhiệm vụ thử {n}",
        "unit_code": code,
        "lead_agency": None,
        "start_date": recorded,
        "deadline": deadline,
        "completed_at": done,
        "recorded_at": recorded,
    }


def test_a_unit_that_misses_one_that_makes_it_and_one_with_no_history(scratch, scratch_url):
    with scratch.connect() as conn:
        miss, make, none, fresh, stuck = conn.execute(
            text("select code from admin_unit where level = 'commune' order by code limit 5")
        ).scalars()
    july, dec = dt.date(2025, 7, 1), dt.date(2025, 12, 31)
    rows = []
    # 30 tasks, one done every other week: 0.5 a week against ~3.8 needed
    for n in range(30):
        done = dt.date(2025, 9, 20) + dt.timedelta(days=14 * n) if n < 4 else None
        rows.append(_task(miss, n, dec, done, july))
    # 12 tasks, about one a week done (one quiet week): 4 open, 0.58 a week needed
    days = [dt.date(2025, 9, 22), dt.date(2025, 9, 29), dt.date(2025, 10, 6),
            dt.date(2025, 10, 20), dt.date(2025, 10, 27), dt.date(2025, 11, 3),
            dt.date(2025, 11, 8), dt.date(2025, 11, 12)]  # fmt: skip
    for n in range(12):
        rows.append(_task(make, n, dec, days[n] if n < len(days) else None, july))
    rows.append(_task(make, 99, dt.date(2025, 11, 20), None, july))  # sắp đến hạn
    # a good pace on this year's tasks, but 3 tasks past their deadline that nobody clears
    for n in range(8):
        rows.append(_task(stuck, n, dec, days[n], july))
    for n in range(3):
        rows.append(_task(stuck, 50 + n, dt.date(2025, 10, 31), None, july))
    # tasks recorded three days ago: no pace to measure yet
    for n in range(3):
        rows.append(_task(fresh, n, dec, None, dt.date(2025, 11, 10)))
    with scratch.begin() as conn:
        insert_tasks(conn, pd.DataFrame(rows), actor="test", source="test_forecast")
    with TestClient(create_app(Settings(database_url=scratch_url))) as api:
        r = api.get("/api/v1/forecast", params={"level": "commune", "programme": "T26"})
        assert r.status_code == 200, r.text
        units = {u["code"]: u for u in r.json()["units"]}
        m, k = units[miss], units[make]
        assert m["class"] == "will_miss", m
        assert m["open_due"] == 26 and m["pace_per_week"] < m["needed_per_week"]
        assert dt.date.fromisoformat(m["expected_completion"]) > dec
        assert k["class"] == "on_track", k
        assert k["open_due"] == 5 and k["pace_per_week"] >= k["needed_per_week"]
        assert dt.date.fromisoformat(k["expected_completion"]) <= dec
        assert k["due_soon"] == 1
        s = units[stuck]
        assert s["open_due"] == s["backlog"] == 3 and s["pace_per_week"] >= s["needed_per_week"]
        assert s["late_pace_per_week"] == 0 and s["class"] == "will_miss", s
        assert s["expected_completion"] is None
        assert units[none]["class"] == "no_history" and units[none]["open_due"] == 0
        assert units[fresh]["class"] == "no_history" and units[fresh]["open_due"] == 3
        one = api.get(f"/api/v1/units/{make}/forecast", params={"programme": "T26"}).json()
        assert one["forecasts"][0]["class"] == "on_track"
        assert [t["external_id"] for t in one["due_soon_tasks"]] == [f"T26-{make}-099"]
        # as it stood on 1 Oct nothing of the second unit's pace existed yet
        early = api.get(
            "/api/v1/forecast",
            params={"level": "commune", "programme": "T26", "as_of": "2025-10-01"},
        ).json()
        assert {u["code"]: u for u in early["units"]}[make]["tasks_completed"] == 2


@pytest.mark.parametrize(
    "params, param",
    [
        ({"level": "district"}, "level"),
        ({"programme": "NOPE"}, "programme"),
        ({"programme": "a b"}, "programme"),
        ({"deadline": "2025-02-30"}, "deadline"),
        ({"deadline": "1800-01-01"}, "deadline"),
        ({"class": "late"}, "class"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "0001-01-01"}, "as_of"),
        ({"limit": "5"}, "limit"),
    ],
)
def test_bad_parameters_are_4xx_naming_the_parameter(client, params, param):
    r = client.get("/api/v1/forecast", params=params)
    assert 400 <= r.status_code < 500, r.text
    assert param in r.text


def test_unknown_unit_forecast_is_404(client):
    assert client.get("/api/v1/units/99/forecast").status_code == 404
    assert client.get("/api/v1/units/ZZZZ/forecast").status_code == 404
    assert client.get("/api/v1/units/1/forecast").status_code in (400, 422)


def test_forecast_is_cached_per_data_version(client):
    first = client.get("/api/v1/forecast", params={"level": "agency"})
    etag = first.headers["etag"]
    again = client.get(
        "/api/v1/forecast", params={"level": "agency"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304


def test_backtest_beats_the_naive_baseline_on_the_demo(engine, db_url, monkeypatch):
    with engine.connect() as conn:
        results = backtest(conn, dt.date(2025, 9, 30), AS_OF)
    for r in results:
        assert r.pairs, r.level
        assert r.mae_forecast < r.mae_naive, (r.level, r.mae_forecast, r.mae_naive)
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for r in results:  # the README quotes this run's figures (Vietnamese decimal comma)
        quoted = f"{r.mae_forecast:.2f} điểm % | {r.mae_naive:.2f} điểm %".replace(".", ",")
        assert quoted in readme, (r.level, quoted)
    from iocmap.cli import app

    monkeypatch.setenv("IOCMAP_DATABASE_URL", db_url)
    out = CliRunner().invoke(app, ["forecast", "backtest", "--at", "2025-09-30",
                                   "--check", "2025-11-13"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "| province | NQ57 | on_track |" in out.output and "MAE naive" in out.output
    bad = CliRunner().invoke(app, ["forecast", "backtest", "--at", "2025-11-13",
                                   "--check", "2025-09-30"])  # fmt: skip
    assert bad.exit_code == 2
