"""Task lists, history, indicators, rankings and search under /api/v1."""

from __future__ import annotations

import datetime as dt

from geo.text import search_key


def test_tasks_of_ca_mau_match_the_published_figures(client):
    body = client.get("/api/v1/units/96/tasks", params={"limit": 1000}).json()
    assert body["unit"] == {
        "code": "96", "name": "Cà Mau", "kind": "Tỉnh", "level": "province",
        "full_name": "Tỉnh Cà Mau",
    }  # fmt: skip
    assert body["numberMatched"] == body["numberReturned"] == 123
    done = [t for t in body["tasks"] if t["status"] in ("completed", "completed_late")]
    assert len(done) == 66
    assert not [t for t in body["tasks"] if t["status"] == "overdue"]  # none overdue
    t = body["tasks"][0]
    assert {
        "id",
        "external_id",
        "program",
        "group_no",
        "phase",
        "year",
        "title",
        "lead_agency",
        "start_date",
        "deadline",
        "completed_at",
        "status",
        "status_label_vi",
        "days_overdue",
        "history_url",
    } <= set(t)
    deadlines = [t["deadline"] for t in body["tasks"]]
    assert deadlines == sorted(deadlines)


def test_task_filters_sort_and_overdue_days(client):
    r = client.get(
        "/api/v1/units/00004/tasks", params={"overdue": "true", "sort": "-deadline"}
    ).json()
    assert r["numberMatched"] >= 1
    as_of = dt.date.fromisoformat(r["as_of"])
    for t in r["tasks"]:
        assert t["status"] == "overdue" and t["status_label_vi"] == "Quá hạn"
        assert t["days_overdue"] == (as_of - dt.date.fromisoformat(t["deadline"])).days > 0
    group = client.get("/api/v1/units/00004/tasks", params={"group": 3, "program": "KH02"})
    assert [t["group_no"] for t in group.json()["tasks"]] == [3]
    done = client.get("/api/v1/units/96/tasks", params={"status": "completed", "limit": 5}).json()
    assert done["numberReturned"] == 5 and all(t["days_overdue"] == 0 for t in done["tasks"])
    assert "next" in {link["rel"] for link in done["links"]}


def test_as_of_changes_the_status(client):
    early = client.get("/api/v1/units/96/tasks", params={"as_of": "2025-01-01", "limit": 1000})
    done = [t for t in early.json()["tasks"] if t["status"].startswith("completed")]
    assert len(done) < 66


def test_history_is_newest_first_and_follows_the_task_link(client):
    tasks = client.get("/api/v1/units/00004/tasks", params={"status": "completed"}).json()
    link = tasks["tasks"][0]["history_url"].replace("http://testserver", "")
    events = client.get(link).json()
    assert events["numberMatched"] == 2  # created, then completed
    assert {e["task_external_id"] for e in events["events"]} == {tasks["tasks"][0]["external_id"]}
    assert events["events"][0]["action"] == "update" and events["events"][1]["action"] == "create"
    assert events["events"][0]["at"].endswith("Z")
    everything = client.get("/api/v1/units/00004/history", params={"limit": 1000}).json()
    ats = [e["at"] for e in everything["events"]]
    assert ats == sorted(ats, reverse=True)


def test_units_errors(client):
    assert client.get("/api/v1/units/99999/tasks").status_code == 404
    assert client.get("/api/v1/units/123/tasks").status_code == 422
    r = client.get("/api/v1/units/96/tasks", params={"limit": 100000})
    assert r.status_code == 400 and r.json()["errors"][0]["param"] == "limit"
    assert client.get("/api/v1/units/96/tasks", params={"sort": "nope"}).status_code == 422


def test_indicators_list_periods(client):
    body = client.get("/api/v1/indicators").json()
    codes = {i["code"]: i for i in body["indicators"]}
    phase2 = {c for c, i in codes.items() if c.startswith("kh02p2_")}  # Plan 02 phase 2
    assert set(codes) - phase2 == {"service_index", "dti", "pii", "online_rate", "ontime_rate",
                                   "data_reuse_rate"}  # fmt: skip
    assert len(phase2) == 6
    assert codes["service_index"]["periods"] == ["2025-Q2", "2025-Q3"]
    assert codes["service_index"]["latest_period"] == "2025-Q3"


def test_rankings_with_change_since_previous_period(client):
    body = client.get("/api/v1/rankings", params={"indicator": "service_index"}).json()
    assert (body["period"], body["previous_period"]) == ("2025-Q3", "2025-Q2")
    ranks = [i["rank"] for i in body["items"]]
    assert ranks == sorted(ranks) and len(ranks) == 34
    dak_lak = next(i for i in body["items"] if i["code"] == "66")
    assert dak_lak["rank"] == 8
    assert dak_lak["rank_change"] == dak_lak["previous_rank"] - 8
    assert abs(dak_lak["change"] - (dak_lak["value"] - dak_lak["previous_value"])) < 1e-3
    communes = client.get(
        "/api/v1/rankings",
        params={"indicator": "online_rate", "level": "commune", "province": "40"},  # fmt: skip
    ).json()
    assert len(communes["items"]) == 130
    assert client.get("/api/v1/rankings", params={"indicator": "nope"}).status_code == 404
    r = client.get("/api/v1/rankings", params={"indicator": "dti", "period": "2019"})
    assert r.status_code == 404 and r.json()["errors"][0]["param"] == "period"
    assert client.get("/api/v1/rankings").status_code == 422  # indicator is required


def test_indicator_values(client):
    body = client.get("/api/v1/indicators/data_reuse_rate/values",
                      params={"period": "2025-Q3"}).json()  # fmt: skip
    nghe_an = next(v for v in body["values"] if v["code"] == "40")
    assert nghe_an["value"] == 74.0  # published: 74 %


def test_search_without_diacritics_ranks_exact_first(client):
    r = client.get("/api/v1/search", params={"q": "dak lak"}).json()
    assert r["results"][0]["code"] == "66" and r["results"][0]["name"] == "Đắk Lắk"
    minx, miny, maxx, maxy = r["results"][0]["bbox"]
    assert 107 < minx < maxx < 110 and 11 < miny < maxy < 14
    ward = client.get("/api/v1/search", params={"q": "phuong ba dinh"}).json()["results"]
    assert ward[0]["code"] == "00004"
    assert (ward[0]["province_code"], ward[0]["province_name"]) == ("01", "Hà Nội")
    vinh = client.get("/api/v1/search", params={"q": "vinh", "limit": 100}).json()["results"]
    starts = [search_key(x["name"]).startswith("vinh") for x in vinh]
    assert True in starts and False in starts
    assert starts == sorted(starts, reverse=True)  # "Vinh …" before "Thành Vinh"
    exact = client.get("/api/v1/search", params={"q": "ca mau"}).json()["results"]
    assert exact[0]["code"] == "96"  # the province named exactly so, before its wards
    assert client.get("/api/v1/search", params={"q": "%%"}).status_code == 400
    assert client.get("/api/v1/search").status_code == 422
