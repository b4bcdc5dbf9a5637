"""CQL2 as the standard writes it: each operator of the declared conformance classes (basic
CQL2, advanced comparison operators) in both encodings, in the forms of the standard's own
examples, returns exactly the rows a Python ground truth selects; malformed operators are a
400 naming the operator, never a Python message."""

from __future__ import annotations

import json

import pytest

P = {"property": "area_km2"}
N = {"property": "name"}
KIND = {"property": "kind"}


def area(test):
    """SQL's three-valued logic: a comparison with a missing area is not true."""
    return lambda p: p["area_km2"] is not None and test(p["area_km2"])


# (cql2-text, cql2-json, ground truth on a commune's properties)
CASES = [
    ("area_km2 > 100", {"op": ">", "args": [P, 100]}, area(lambda a: a > 100)),
    ("area_km2 <= 20.5", {"op": "<=", "args": [P, 20.5]}, area(lambda a: a <= 20.5)),
    ("kind = 'Phường'", {"op": "=", "args": [KIND, "Phường"]}, lambda p: p["kind"] == "Phường"),
    ("kind <> 'Xã'", {"op": "<>", "args": [KIND, "Xã"]}, lambda p: p["kind"] != "Xã"),
    (
        "area_km2 BETWEEN 100 AND 120",
        {"op": "between", "args": [P, 100, 120]},
        area(lambda a: 100 <= a <= 120),
    ),
    (
        "area_km2 NOT BETWEEN 1.234 AND 287.6",
        {"op": "not", "args": [{"op": "between", "args": [P, 1.234, 287.6]}]},
        area(lambda a: not 1.234 <= a <= 287.6),
    ),
    (
        "kind IN ('Phường', 'Đặc khu')",
        {"op": "in", "args": [KIND, ["Phường", "Đặc khu"]]},
        lambda p: p["kind"] in ("Phường", "Đặc khu"),
    ),
    (
        "name LIKE 'Ba %'",
        {"op": "like", "args": [N, "Ba %"]},
        lambda p: p["name"].startswith("Ba "),
    ),
    (
        "CASEI(name) LIKE CASEI('ba %')",
        {"op": "like", "args": [{"op": "casei", "args": [N]}, {"op": "casei", "args": ["ba %"]}]},
        lambda p: p["name"].lower().startswith("ba "),
    ),
    (
        "area_km2 > 100 AND kind = 'Xã' OR area_km2 < 2",
        {
            "op": "or",
            "args": [
                {
                    "op": "and",
                    "args": [{"op": ">", "args": [P, 100]}, {"op": "=", "args": [KIND, "Xã"]}],
                },
                {"op": "<", "args": [P, 2]},
            ],
        },
        lambda p: area(lambda a: a > 100)(p) and p["kind"] == "Xã" or area(lambda a: a < 2)(p),
    ),
    (
        "population IS NULL",
        {"op": "isNull", "args": [{"property": "population"}]},
        lambda p: p["population"] is None,
    ),
    (
        "NOT (population IS NULL)",
        {"op": "not", "args": [{"op": "isNull", "args": [{"property": "population"}]}]},
        lambda p: p["population"] is not None,
    ),
]


@pytest.fixture(scope="module")
def communes(client) -> list[dict]:
    r = client.get(
        "/ogc/collections/communes/items",
        params={"limit": 5000, "properties": "name,kind,area_km2,population"},
    )
    assert r.status_code == 200
    return [f["properties"] | {"code": f["id"]} for f in r.json()["features"]]


def _codes(client, flt: str, lang: str) -> set[str]:
    r = client.get(
        "/ogc/collections/communes/items",
        params={"limit": 5000, "filter": flt, "filter-lang": lang, "properties": "name"},
    )
    assert r.status_code == 200, (flt, r.text)
    return {f["id"] for f in r.json()["features"]}


@pytest.mark.parametrize(("text", "doc", "truth"), CASES, ids=[c[0] for c in CASES])
def test_both_encodings_return_the_ground_truth(client, communes, text, doc, truth):
    expected = {p["code"] for p in communes if truth(p)}
    assert _codes(client, text, "cql2-text") == expected
    assert _codes(client, json.dumps(doc, ensure_ascii=False), "cql2-json") == expected


def test_a_quote_written_twice_is_one_quote_in_a_text_literal(client, communes):
    """The standard's escape: 'Cư M''gar' is the commune named Cư M'gar."""
    named = {p["code"] for p in communes if p["name"] == "Cư M'gar"}
    assert named and _codes(client, "name = 'Cư M''gar'", "cql2-text") == named
    quoted = {p["code"] for p in communes if "'" in p["name"]}
    assert _codes(client, "name LIKE '%''%'", "cql2-text") == quoted


@pytest.mark.parametrize(
    ("doc", "op"),
    [
        ({"op": "between", "args": [P, 100]}, "between"),
        ({"op": ">", "args": [P]}, ">"),
        ({"op": "in", "args": [KIND]}, "in"),
        ({"op": "and", "args": [{"op": ">", "args": [P, 1]}]}, "and"),
    ],
)
def test_a_malformed_operator_is_a_400_naming_it(client, doc, op):
    r = client.get(
        "/ogc/collections/communes/items",
        params={"filter": json.dumps(doc), "filter-lang": "cql2-json"},
    )
    assert r.status_code == 400, r.text
    detail = r.json()["detail"]
    assert f"'{op}'" in detail
    assert "object is not" not in detail and "Traceback" not in detail


@pytest.mark.parametrize("day", ["2025-07-01", "2025-07-01T", "2025-07-01T00:00:00Z"])
def test_gdal_date_forms_are_read(client, communes, day):
    """GDAL 3.6 writes a date as '2025-07-01T' (in the filter and in datetime=)."""
    every = {p["code"] for p in communes}
    assert _codes(client, f"valid_from = '{day}'", "cql2-text") == every
    r = client.get("/ogc/collections/communes/items", params={"datetime": day, "limit": 1})
    assert r.status_code == 200, r.text
