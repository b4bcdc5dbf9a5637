"""The demo reproduces the published late-2025 figures through the public API."""

from __future__ import annotations


def _by_code(fc: dict) -> dict[str, dict]:
    return {f["id"]: f["properties"] for f in fc["features"]}


def test_summary_matches_the_13_nov_2025_report(client):
    body = client.get("/api/v1/summary").json()
    assert body["data_as_of"] == "2025-11-13"
    assert body["as_of"] == "2025-11-13"
    assert body["year"] == 2025
    assert body["tasks_total"] == 3430
    assert body["tasks_completed"] == 1954
    assert body["completion_pct"] == 56.97
    # "the rest in progress and not yet due"
    assert body["tasks_overdue"] == 0
    assert body["tasks_in_progress"] == 3430 - 1954
    assert len(body["provinces"]) == 34


def test_provinces_layer_has_34_with_nghe_an_and_ca_mau_figures(client):
    fc = client.get("/api/v1/provinces").json()
    assert fc["type"] == "FeatureCollection"
    props = _by_code(fc)
    assert len(props) == 34
    nghe_an, ca_mau = props["40"], props["96"]
    assert nghe_an["name"] == "Nghệ An"
    assert (nghe_an["tasks_total"], nghe_an["tasks_completed"]) == (100, 51)
    assert nghe_an["tasks_on_time"] == 49
    # the whole action programme by default …
    assert (ca_mau["tasks_total"], ca_mau["tasks_completed"]) == (123, 66)
    assert ca_mau["completion_pct"] == 53.66
    assert ca_mau["tasks_overdue"] == 0


def test_ca_mau_2025_slice_via_year_parameter(client):
    props = _by_code(client.get("/api/v1/provinces", params={"year": 2025}).json())
    ca_mau = props["96"]
    assert (ca_mau["tasks_total"], ca_mau["tasks_completed"]) == (65, 38)
    assert ca_mau["completion_pct"] == 58.46
    assert sum(p["tasks_total"] for p in props.values()) == 3430


def test_some_provinces_have_overdue_tasks_for_the_map_to_show(client):
    props = _by_code(client.get("/api/v1/provinces").json())
    overdue = {code for code, p in props.items() if p["tasks_overdue"] > 0}
    assert overdue, "the red class must be exercised by the demo"
    assert not overdue & {"40", "96"}


def test_nghe_an_has_130_communes_all_with_16_groups_done(client):
    fc = client.get("/api/v1/provinces/40/communes").json()
    assert len(fc["features"]) == 130
    assert all(f["properties"]["groups_done"] == 16 for f in fc["features"])
    assert all(f["properties"]["province_code"] == "40" for f in fc["features"])
    prov = _by_code(client.get("/api/v1/provinces").json())["40"]
    assert prov["communes"] == 130 and prov["communes_all_groups_done"] == 130


def test_every_commune_has_16_plan02_groups(engine):
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select count(distinct unit_code), min(n), max(n) from ("
                " select unit_code, count(distinct group_no) n from task"
                " where program = 'KH02' group by unit_code) t"
            )
        ).one()
    assert tuple(rows) == (3321, 16, 16)


def test_indicators_dak_lak_8th_and_nghe_an_reuse_74(engine):
    from sqlalchemy import text

    with engine.connect() as conn:
        rank = conn.execute(
            text(
                "select rank from indicator_value where indicator_code = 'service_index'"
                " and unit_code = '66' and period = '2025-Q3'"
            )
        ).scalar_one()
        ranks = conn.execute(
            text(
                "select array_agg(rank order by rank) from indicator_value"
                " where indicator_code = 'service_index' and period = '2025-Q3'"
            )
        ).scalar_one()
        reuse = conn.execute(
            text(
                "select value from indicator_value where indicator_code = 'data_reuse_rate'"
                " and unit_code = '40' and period = '2025-Q3'"
            )
        ).scalar_one()
    assert rank == 8
    assert ranks == list(range(1, 35))
    assert reuse == 74.0


def test_status_is_derived_for_the_as_of_date(client):
    """Before most deadlines fewer tasks are done; after year end the open ones are red."""
    early = client.get("/api/v1/summary", params={"as_of": "2025-06-30"}).json()
    late = client.get("/api/v1/summary", params={"as_of": "2026-01-15"}).json()
    assert early["tasks_completed"] < 1954
    assert late["tasks_completed"] == 1954
    assert late["tasks_overdue"] == 3430 - 1954
