"""A MapLibre style per layer colours every unit as iocmap's own map does (the same classes
and colours), and the OGC tilesets link their TileJSON and the style."""

from __future__ import annotations

from maps.choropleth import colour_for
from maps.theme import NO_DATA


def evaluate(expr, props: dict):
    """The subset of the MapLibre expression language the style uses."""
    op = expr[0] if isinstance(expr, list) else None
    if op is None:
        return expr
    if op == "case":
        return evaluate(expr[2], props) if evaluate(expr[1], props) else evaluate(expr[3], props)
    if op == "has":
        return props.get(expr[1]) is not None
    if op == "get":
        return props.get(expr[1])
    if op == "to-number":
        return float(evaluate(expr[1], props))
    if op == "step":
        value, out = evaluate(expr[1], props), expr[2]
        for stop, colour in zip(expr[3::2], expr[4::2], strict=True):
            if value >= stop:
                out = colour
        return out
    raise AssertionError(f"unexpected operator {op}")


def test_style_colours_each_province_as_the_web_map(client):
    style = client.get("/tiles/provinces/style.json")
    assert style.status_code == 200, style.text
    doc = style.json()
    assert doc["version"] == 8 and doc["sources"]["iocmap"]["url"].endswith("/tiles/provinces.json")
    fill = next(layer for layer in doc["layers"] if layer["type"] == "fill")
    breaks, palette = doc["metadata"]["iocmap:breaks"], doc["metadata"]["iocmap:palette"]
    assert len(breaks) >= 3
    units = client.get("/api/v1/provinces?limit=50").json()["features"]
    for f in units:
        p = f["properties"]
        v = p["completion_pct"]
        expected = NO_DATA if v is None else colour_for(round(v, 2), breaks, palette)
        assert evaluate(fill["paint"]["fill-color"], {"completion_pct": v}) == expected, p["code"]
    assert client.get("/tiles/provinces/style.json?measure=nope").status_code == 400


def test_ogc_tilesets_link_tilejson_and_style(client):
    ts = client.get("/ogc/collections/communes/tiles/WebMercatorQuad").json()
    rels = {link["rel"]: link["href"] for link in ts["links"]}
    tj = client.get(rels["describedby"].replace("http://testserver", ""))
    assert tj.status_code == 200 and tj.json()["tilejson"] == "3.0.0"
    assert client.get(rels["stylesheet"].replace("http://testserver", "")).status_code == 200
