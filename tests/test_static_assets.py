"""/static (api/static.py): pages link versioned names that browsers keep for a year, and
text files go out gzip-compressed; bare names stay short-lived (issue 24)."""

from __future__ import annotations

import re

import pytest

from maps.assets_local import ASSETS_DIR, asset_version

IMMUTABLE = "public, max-age=31536000, immutable"
GZ = {"Accept-Encoding": "gzip"}


def linked(client, path: str) -> list[str]:
    r = client.get(path)
    assert r.status_code == 200
    return re.findall(r"""(?:src|href)="(/static/[^"]+)\"""", r.text)


@pytest.mark.parametrize("path", ["/", "/p/79", "/wall", "/upload", "/reminders"])
def test_pages_link_the_current_version(client, path):
    refs = linked(client, path)
    assert refs and all(r.startswith(f"/static/v/{asset_version()}/") for r in refs), refs


def test_versioned_text_is_compressed_and_immutable(client):
    refs = linked(client, "/p/79")
    leaflet = next(r for r in refs if r.endswith("leaflet.js"))
    r = client.get(leaflet, headers=GZ)
    assert r.status_code == 200
    assert r.headers["cache-control"] == IMMUTABLE
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    raw = (ASSETS_DIR / "vendor/leaflet/leaflet.js").read_bytes()
    sent = int(r.headers["content-length"])
    assert sent < len(raw) / 3  # 145 KiB → ~42 KiB
    assert r.content == raw  # httpx decodes: the same bytes arrive
    # the compressed copy has its own validator, and answers 304 to it
    again = client.get(leaflet, headers={**GZ, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    # a client that does not take gzip gets the plain bytes, same cache rules
    plain = client.get(leaflet, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.content == raw and plain.headers["cache-control"] == IMMUTABLE
    assert plain.headers["etag"] != r.headers["etag"]


def test_fonts_are_cached_not_recompressed(client):
    refs = linked(client, "/")
    css = next(r for r in refs if r.endswith("fonts.css"))
    body = client.get(css, headers=GZ)
    assert body.headers["content-encoding"] == "gzip"
    font = re.search(r"url\(\./files/([^)]+\.woff2)\)", body.text)
    assert font, body.text[:300]
    woff = client.get(css.rsplit("/", 1)[0] + "/files/" + font.group(1), headers=GZ)
    assert woff.status_code == 200 and woff.headers["cache-control"] == IMMUTABLE
    assert "content-encoding" not in woff.headers  # woff2 is compressed already


@pytest.mark.parametrize("path", ["/static/js/ioc-map.js", "/static/v/000000000000/js/ioc-map.js"])
def test_unversioned_or_old_names_are_short_lived(client, path):
    r = client.get(path, headers=GZ)
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize(
    "path",
    [
        "/static/v/",
        f"/static/v/{asset_version()}",
        "/static/v/x/../../../etc/passwd",
        "/static/v/x/%2e%2e/%2e%2e/pyproject.toml",
        "/static/nope.js",
    ],
)
def test_bad_static_paths_are_404(client, path):
    r = client.get(path, headers=GZ)
    assert r.status_code == 404, (path, r.status_code)


def test_post_to_static_is_405(client):
    assert client.post(f"/static/v/{asset_version()}/js/ioc-map.js").status_code == 405


def test_the_wall_preloads_the_fonts_its_text_uses(client):
    """The wall asks for its text fonts with the page (a late font reflowed the alert card:
    Lighthouse CLS 0.114); each preloaded file is served."""
    import re

    page = client.get("/wall").text
    fonts = re.findall(r'<link rel="preload" href="([^"]+)" as="font" type="font/woff2"', page)
    assert len(fonts) == 9 and any("vietnamese-600" in f for f in fonts)
    for href in fonts:
        r = client.get(href)
        assert r.status_code == 200 and r.headers["content-type"].startswith("font/woff2")
