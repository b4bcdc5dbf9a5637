"""Every query parameter of every GET route, fed hostile values: never a 5xx (issue 21).

Why in-process Hypothesis beside the schemathesis run: schemathesis draws values from
the declared schema, so it rarely sends what broke the server — a NUL inside a CQL2-JSON
string, a geometry outside a projected ``filter-crs``'s domain, ``0001-01-01`` where a
quarter is subtracted. Here the values are chosen by *name* and *kind*: calendar-edge
dates for every date, CQL2 JSON built from escapes, NULs, huge numbers and edge dates for
``filter``, projected CRSs with far-away geometries, ``%``/``_`` and invisible characters
for text, and out-of-range integers. The route list comes from ``/openapi.json``, so a
new GET route is covered without editing this file. Deterministic and bounded (about
400 requests, well under a minute on the demo data).
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.settings import Settings

ADMIN = "fuzz-admin-token"

EDGE_DATES = [
    "0001-01-01", "9999-12-31", "2025-02-29", "2024-02-29", "1899-12-31", "1900-01-01",
    "2199-12-31", "2200-01-01", "0000-00-00", "-0001-01-01", "2025-13-01", "2025-11-13",
    "20251113", "2025-11-13T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
    "2025-11-13/0001-01-01", "../9999-12-31", "0001-01-01/..", "..",
]  # fmt: skip
HOSTILE_TEXT = [
    "", " ", "%", "_", "%%", "\\", "'", "\"", "\x00", "a\x00b", "\u200b", "\ufeff", "\u202e",
    "Ca\u0300 Mau", "'; select pg_sleep(5);--", "9" * 400, "-1", "0", "1e309", "nan",
    "-inf", "null", "[]", "{}", "x" * 5000, "Đ", "%00", "1,2,3,4", "-180,-90,180,90",
    "1e308,1e308,1e308,1e308", "nan,nan,nan,nan", "179,89,-179,-89",
]  # fmt: skip
CRSS = [
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/3405",
    "http://www.opengis.net/def/crs/EPSG/0/9210",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
    "http://www.opengis.net/def/crs/EPSG/0/32648",
    "EPSG:3405", "EPSG:0", "EPSG:99999999", "\x00",
]  # fmt: skip
PROPERTIES = ["name", "code", "province_code", "completion_rate", "geometry", "nope", "\x00"]
OPS = ["=", "<>", "<", ">=", "like", "between", "in", "isNull", "s_intersects", "and", "not"]

huge = st.sampled_from(["1e400", "-1e400", str(2**80), "1e-400", "NaN", "Infinity"])
json_text = st.text(alphabet=st.sampled_from(list("aĐ%_\\'\"\x00\u200b\ufeff\u0300\n")), max_size=8)
json_value = st.one_of(
    json_text.map(json.dumps),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    huge,
    st.sampled_from(EDGE_DATES).map(lambda d: json.dumps({"date": d})),
    st.sampled_from(EDGE_DATES).map(lambda d: json.dumps({"timestamp": d})),
    st.tuples(st.floats(-1e12, 1e12), st.floats(-1e12, 1e12)).map(
        lambda p: json.dumps({"type": "Point", "coordinates": list(p)})
    ),
    st.just('{"type":"Polygon","coordinates":[[[0,0],[1e300,0],[0,1e300],[0,0]]]}'),
    st.just('{"bbox":[1e30,1e30,-1e30,-1e30]}'),
)


@st.composite
def cql2_json(draw) -> str:
    """A CQL2-JSON document, written by hand so that huge numbers stay raw text."""
    op = draw(st.sampled_from(OPS))
    prop = json.dumps({"property": draw(st.sampled_from(PROPERTIES))})
    args = [prop] + draw(st.lists(json_value, min_size=0, max_size=3))
    if op in ("and", "not") and draw(st.booleans()):
        inner = draw(cql2_json())
        args = [inner, inner] if op == "and" else [inner]
    return '{"op":' + json.dumps(op) + ',"args":[' + ",".join(args) + "]}"


cql2_text = st.sampled_from([
    "name = 'a\x00b'", "name LIKE '%'", "name LIKE '\\'", "S_INTERSECTS(geometry,POINT(1e30 1e30))",
    "S_INTERSECTS(geometry,POINT(-170 89))", "completion_rate > 1e400", "code IN ()",
    "T_AFTER(valid_from, DATE('0001-01-01'))", "valid_from > DATE('9999-12-31')",
    "name = '" + "x" * 3000 + "'", "((((((((((((((((((((((((((((((((((((name = 'a'",
])  # fmt: skip


def value_for(name: str, schema: dict) -> st.SearchStrategy[str]:
    """Hostile values for one parameter, chosen by its name and declared type."""
    types = {s.get("type") for s in schema.get("anyOf", [schema])}
    fmt = {s.get("format") for s in schema.get("anyOf", [schema])}
    generic = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=20))
    if name == "filter":
        return st.one_of(cql2_json(), cql2_text, generic)
    if name in ("filter-crs", "bbox-crs", "crs"):
        return st.one_of(st.sampled_from(CRSS), generic)
    if "date" in fmt or name in ("as_of", "datetime", "from", "to", "reply_by"):
        return st.one_of(st.sampled_from(EDGE_DATES), st.dates().map(str), generic)
    if "integer" in types or "number" in types:
        return st.one_of(
            st.integers(-(2**70), 2**70).map(str), st.sampled_from(["1e400", "-0", "0x10"])
        )
    if "boolean" in types:
        return st.sampled_from(["true", "false", "2", "\x00", ""])
    return generic


def _routes(app) -> list[tuple[str, list[tuple[str, dict]]]]:
    spec = app.openapi()
    out = []
    for path, ops in sorted(spec["paths"].items()):
        if "get" not in ops:
            continue
        params = [
            (p["name"], p.get("schema", {}))
            for p in ops["get"].get("parameters", [])
            if p["in"] == "query"
        ]
        out.append((path, params))
    return out


PATH_VALUES = {
    "code": ["96", "31078", "40", "BKHCN", "%", "\x00", "9" * 50],
    "layer": ["communes", "provinces", "x"],
    "fmt": ["geojson", "csv", "gpkg", "zip"],
    "collectionId": ["communes", "provinces", "nope"],
    "featureId": ["96", "31078", "\x00"],
    "tileMatrixSetId": ["WebMercatorQuad", "x"],
    "tileMatrix": ["6", "99"],
    "tileRow": ["28", "-1"],
    "tileCol": ["50", str(2**70)],
    "z": ["6", "40"],
    "x": ["50", "-1"],
    "y": ["28", str(2**70)],
}


@pytest.fixture(scope="module")
def fuzz_client(engine, db_url: str):
    app = create_app(Settings(database_url=db_url, admin_token=ADMIN))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@st.composite
def requests(draw, routes) -> str:
    path, params = draw(st.sampled_from(routes))
    url = re.sub(
        r"\{([^}]+)\}",
        lambda m: quote(draw(st.sampled_from(PATH_VALUES.get(m.group(1), ["1"]))), safe=""),
        path,
    )
    # mostly one parameter at a time: a second bad one would mask the first with its 422
    chosen = (
        draw(st.lists(st.sampled_from(params), unique_by=lambda p: p[0], max_size=2))
        if params
        else []
    )
    query = "&".join(
        f"{quote(name, safe='')}={quote(draw(value_for(name, schema)), safe='')}"
        for name, schema in chosen
    )
    return url + ("?" + query if query else "")


def test_no_query_value_makes_a_server_error(fuzz_client) -> None:
    routes = _routes(fuzz_client.app)
    assert len(routes) > 30
    failures: list[str] = []

    @settings(
        max_examples=500,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(url=requests(routes), token=st.booleans())
    def probe(url: str, token: bool) -> None:
        headers = {"Authorization": f"Bearer {ADMIN}"} if token else {}
        r = fuzz_client.get(url, headers=headers)
        if r.status_code >= 500:
            failures.append(f"{r.status_code} {url[:300]}")
        assert r.status_code < 500, url

    try:
        probe()
    finally:
        assert not failures, failures[:10]


SWEEP_DATES = ["0001-01-01", "9999-12-31", "2025-02-29", "2200-01-01", "1899-12-31"]
SWEEP_FILTERS = [
    '{"op":"=","args":[{"property":"name"},"a\\u0000b"]}',
    '{"op":"like","args":[{"property":"name"},"\\u0000%"]}',
    '{"op":">","args":[{"property":"completion_rate"},1e400]}',
    '{"op":"=","args":[{"property":"code"},123456789012345678901234567890]}',
    '{"op":"s_intersects","args":[{"property":"geometry"},'
    '{"type":"Point","coordinates":[1e30,1e30]}]}',
    '{"op":"t_after","args":[{"property":"valid_from"},{"date":"0001-01-01"}]}',
    '{"op":">","args":[{"property":"valid_from"},{"timestamp":"9999-12-31T23:59:59Z"}]}',
    "S_INTERSECTS(geometry,POINT(1e30 1e30))",
    "name = 'a\x00b'",
]


def test_every_date_and_filter_parameter_at_the_edges(fuzz_client) -> None:
    """A sweep, not a sample: every date parameter of every GET route at each calendar
    edge, and every ``filter`` with each hostile document in each filter CRS."""
    failures = []
    for path, params in _routes(fuzz_client.app):
        url = re.sub(r"\{([^}]+)\}", lambda m: PATH_VALUES.get(m.group(1), ["1"])[0], path)
        names = {n for n, _ in params}
        cases: list[str] = []
        for name, schema in params:
            fmt = {s.get("format") for s in schema.get("anyOf", [schema])}
            if "date" in fmt or name in ("as_of", "datetime", "from", "to", "reply_by"):
                cases += [f"{name}={d}" for d in SWEEP_DATES]
        if "filter" in names:
            for doc in SWEEP_FILTERS:
                lang = "cql2-json" if doc.startswith("{") else "cql2-text"
                for crs in CRSS[:4]:
                    cases.append(f"filter-lang={lang}&filter={quote(doc)}&filter-crs={quote(crs)}")
        for query in cases:
            r = fuzz_client.get(f"{url}?{query}", headers={"Authorization": f"Bearer {ADMIN}"})
            if r.status_code >= 500:
                failures.append(f"{r.status_code} {url}?{query}")
    assert not failures, failures[:20]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/summary?as_of=0001-01-01",
        "/api/v1/summary?as_of=9999-12-31",
        "/api/v1/summary?as_of=2025-02-29",
        "/api/v1/series?from=0001-01-01",
        "/api/v1/series?to=9999-12-31",
        "/ogc/collections/communes/items?datetime=0001-01-01",
        "/ogc/collections/communes/items?filter-lang=cql2-json&filter="
        + quote('{"op":"=","args":[{"property":"name"},"a\\u0000b"]}'),
        "/ogc/collections/communes/items?filter-crs="
        + quote("http://www.opengis.net/def/crs/EPSG/0/3405")
        + "&filter="
        + quote("S_INTERSECTS(geometry,POINT(1e30 1e30))"),
    ],
)
def test_the_three_known_500s_are_4xx(fuzz_client, url: str) -> None:
    r = fuzz_client.get(url)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.json()["detail"]
