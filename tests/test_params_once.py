"""Each request parameter is parsed once: the bounding box, the geometry band and the
output CRS of a layer request (and of a download) go through their parser one time, and
the parsed values travel on (``_layers.LayerParams``)."""

from __future__ import annotations

import sys
from collections import Counter

import pytest

from api import params
from api.routers import _out_crs

PARSERS = {
    "parse_bbox": params.parse_bbox,
    "pick_band": params.pick_band,
    "parse_output_crs": _out_crs.parse_output_crs,
}


@pytest.fixture
def calls(monkeypatch) -> Counter:
    """Counts calls of the parsers wherever a module of ours has bound them — only calls
    with this test's own values (a live server of the same process may be serving a page
    left open by another test meanwhile)."""
    seen: Counter = Counter()
    mine = {"parse_bbox": MINE_BBOX, "parse_output_crs": MINE_CRS, "pick_band": MINE_BANDS}
    for name, fn in PARSERS.items():

        def counted(*a, _fn=fn, _name=name, **kw):
            first = tuple(a) if _name == "pick_band" else (a[0] if a else None)
            if first in mine[_name]:
                seen[_name] += 1
            return _fn(*a, **kw)

        for mod in list(sys.modules.values()):
            if (getattr(mod, "__name__", "") or "").startswith("api.") and getattr(
                mod, name, None
            ) is fn:
                monkeypatch.setattr(mod, name, counted)
    return seen


MINE_BBOX = {"104.5,8.5,105.5,9.6", "102,8,110,24"}
MINE_CRS = {"EPSG:3405", "EPSG:4326", "EPSG:5897"}
MINE_BANDS = {(9, None), (None, "z6"), (None, "z9")}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/communes?province=96&bbox=104.5,8.5,105.5,9.6&zoom=9&crs=EPSG:3405&limit=5",
        "/api/v1/provinces?bbox=102,8,110,24&resolution=z6&crs=EPSG:4326",
    ],
)
def test_a_layer_request_parses_each_parameter_once(client, calls, url):
    r = client.get(url)
    assert r.status_code == 200, r.text
    assert calls == Counter({"parse_bbox": 1, "pick_band": 1, "parse_output_crs": 1})


def test_a_download_parses_each_parameter_once(client, calls):
    r = client.get(
        "/api/v1/download/communes.csv?province=96&bbox=104.5,8.5,105.5,9.6&resolution=z9&crs=EPSG:5897"
    )
    assert r.status_code == 200, r.text
    assert calls == Counter({"parse_bbox": 1, "pick_band": 1, "parse_output_crs": 1})


def test_a_bad_parameter_is_still_a_400_before_any_database_work(client):
    r = client.get("/api/v1/communes?bbox=1,2,3")
    assert r.status_code == 400 and "bbox" in r.text


def test_the_as_of_default_is_applied_in_one_dependency():
    """``as_of`` (the client's date, else the data's reporting date) is resolved by
    ``api.params.as_of_day`` only: a route that applied the default itself would drift
    from the others (issue 23 counted 21 copies)."""
    import re
    from pathlib import Path

    api_dir = Path(__file__).parents[1] / "api"
    copies = [
        f"{path.relative_to(api_dir.parent)}:{n}"
        for path in sorted(api_dir.rglob("*.py"))
        if path.name != "params.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bas_of or\b|resolve_as_of|as_of is None", line)
    ]
    assert not copies, copies
