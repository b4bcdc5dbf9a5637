"""Real responses over the demo data validate against the models in ``api/models.py``
(``Model.model_validate(body)``, as tipg does), and OpenAPI declares those models.

The models forbid unknown fields, so a field added to a response without documenting it
fails here; a field renamed or turned nullable fails too.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from api import models as m
from api.params import GEOJSON


def _valid(client, model: type[BaseModel], url: str, **params) -> BaseModel:
    r = client.get(url, params=params)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    try:
        return model.model_validate(r.json())
    except ValidationError as exc:  # name the URL: the failure is about this response
        raise AssertionError(f"{url} {params}: {exc}") from exc


def test_summary_matches_its_model(client):
    body = _valid(client, m.Summary, "/api/v1/summary")
    assert body.tasks_total == 3430 and body.tasks_completed == 1954
    assert len(body.provinces) == 34
    _valid(client, m.Summary, "/api/v1/summary", year=2024, as_of="2025-01-01")


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/provinces", {"zoom": 0, "precision": 2}),
        ("/api/v1/provinces", {"zoom": 0, "year": 2025, "period": "2025-Q3"}),
        ("/api/v1/provinces", {"fields": "code,completion_pct,service_index_rank"}),
        ("/api/v1/communes", {"province": "40", "zoom": 0, "period": "2025-Q3"}),
        ("/api/v1/communes", {"limit": 3, "offset": 3300, "zoom": 0}),
        ("/api/v1/provinces/40/communes", {"zoom": 0, "status": "completed"}),
        ("/api/v1/communes", {"q": "khong co ten nay"}),  # empty page
    ],
)
def test_unit_collections_match_their_model(client, url, params):
    fc = _valid(client, m.UnitCollection, url, **params)
    assert fc.numberReturned == len(fc.features)
    assert all(f.id == f.properties.code for f in fc.features if f.properties.code)


def test_indicator_properties_are_numbers_or_null(client):
    fc = _valid(client, m.UnitCollection, "/api/v1/provinces", zoom=0, period="2025-Q3")
    extra = fc.features[0].properties.model_extra or {}
    assert "service_index" in extra and "service_index_rank" in extra
    for f in fc.features:
        for name, value in (f.properties.model_extra or {}).items():
            kind = int if name.endswith("_rank") else float
            assert value is None or isinstance(value, kind | int), (f.id, name, value)


@pytest.mark.parametrize("layer", ["provinces", "communes"])
def test_unit_details_match_their_model(client, layer):
    listing = client.get(f"/api/v1/{layer}", params={"fields": "code", "zoom": 0}).json()
    codes = [f["id"] for f in listing["features"]]
    for code in (codes[0], codes[len(codes) // 2], codes[-1]):
        unit = _valid(client, m.UnitDetail, f"/api/v1/{layer}/{code}", zoom=0)
        assert unit.id == code and unit.properties.indicators, code
        assert (unit.properties.province is not None) == (layer == "communes")


@pytest.mark.parametrize("code", ["96", "00004"])
def test_tasks_and_history_match_their_models(client, code):
    tasks = _valid(client, m.TaskList, f"/api/v1/units/{code}/tasks", limit=1000)
    assert tasks.numberReturned == len(tasks.tasks) > 0
    _valid(client, m.TaskList, f"/api/v1/units/{code}/tasks", status="overdue")
    history = _valid(client, m.History, f"/api/v1/units/{code}/history", limit=1000)
    assert history.events and all(e.at.tzinfo is not None for e in history.events)


def test_indicators_values_and_rankings_match_their_models(client):
    listing = _valid(client, m.IndicatorList, "/api/v1/indicators")
    assert {i.code for i in listing.indicators} >= {"service_index", "dti", "online_rate"}
    for ind in listing.indicators:
        for period in ind.periods:
            values = _valid(client, m.IndicatorValues, f"/api/v1/indicators/{ind.code}/values",
                            period=period)  # fmt: skip
            assert values.values, (ind.code, period)
        ranked = _valid(client, m.Rankings, "/api/v1/rankings", indicator=ind.code)
        assert ranked.items[0].rank == 1
    _valid(client, m.Rankings, "/api/v1/rankings", indicator="online_rate", province="40")


@pytest.mark.parametrize("q", ["dak lak", "Đắk Lắk", "phuong ba dinh", "40", "zzzz"])
def test_search_matches_its_model(client, q):
    found = _valid(client, m.SearchResults, "/api/v1/search", q=q, limit=100)
    assert found.q == q


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/provinces?nope=1", 400),
        ("/api/v1/provinces?bbox=1,2,3", 400),
        ("/api/v1/provinces/99", 404),
        ("/api/v1/units/99999/tasks", 404),
        ("/api/v1/rankings?indicator=nope", 404),
        ("/api/v1/provinces?limit=abc", 422),
        ("/api/v1/communes/1", 422),
    ],
)
def test_error_bodies_match_the_error_model(client, url, status):
    r = client.get(url)
    assert r.status_code == status
    err = m.Error.model_validate(r.json())
    assert err.errors and all(e.param for e in err.errors), err


def test_openapi_declares_the_models_on_the_routes(client):
    spec = client.get("/openapi.json").json()
    declared = {
        "/api/v1/summary": ("application/json", "Summary"),
        "/api/v1/provinces": ("application/geo+json", "UnitCollection"),
        "/api/v1/provinces/{code}": ("application/geo+json", "UnitDetail"),
        "/api/v1/provinces/{code}/communes": ("application/geo+json", "UnitCollection"),
        "/api/v1/communes": ("application/geo+json", "UnitCollection"),
        "/api/v1/communes/{code}": ("application/geo+json", "UnitDetail"),
        "/api/v1/units/{code}/tasks": ("application/json", "TaskList"),
        "/api/v1/units/{code}/history": ("application/json", "History"),
        "/api/v1/indicators": ("application/json", "IndicatorList"),
        "/api/v1/indicators/{code}/values": ("application/json", "IndicatorValues"),
        "/api/v1/rankings": ("application/json", "Rankings"),
        "/api/v1/search": ("application/json", "SearchResults"),
        "/ogc/collections/{collectionId}/items": (GEOJSON, "OgcFeatureCollection"),
        "/ogc/collections/{collectionId}/items/{featureId}": (GEOJSON, "UnitFeature"),
    }
    for path, (media, name) in declared.items():
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        content.pop("text/html", None)  # OGC pages: the same document for a browser
        assert content == {media: {"schema": {"$ref": f"#/components/schemas/{name}"}}}, path
        schema = spec["components"]["schemas"][name]
        assert set(schema["properties"]) == set(getattr(m, name).model_fields), name


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 5},
        {"limit": 3, "offset": 3, "crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
        {"province_code": "96", "crs": "http://www.opengis.net/def/crs/EPSG/0/3405"},
    ],
)
def test_ogc_items_match_their_models(client, params):
    layer = "communes" if "province_code" in params else "provinces"
    page = _valid(client, m.OgcFeatureCollection, f"/ogc/collections/{layer}/items", **params)
    assert page.numberReturned == len(page.features) > 0
    code = page.features[0].id
    one = _valid(client, m.UnitFeature, f"/ogc/collections/{layer}/items/{code}")
    assert one.links and one.properties.code == code
