"""Point Folium at the JS/CSS we serve ourselves instead of CDNs.

Why: operations centres often run on closed networks, so pages may reference only our
own ``/static/...`` files. Leaflet and the Be Vietnam Pro font are installed from the npm
registry at build time (``make assets`` → ``maps/vendor-assets.sh``, pinned in
``maps/package.json``) into ``maps/assets/vendor``; our own JS/CSS live in
``maps/assets/js`` and ``maps/assets/css``. Folium's default CDN lists are replaced.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from branca.element import Element, Figure

if TYPE_CHECKING:  # imported where a map is built, not by the server's start
    import folium

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
LEAFLET_JS = ("leaflet", "/static/vendor/leaflet/leaflet.js")
LEAFLET_CSS = ("leaflet_css", "/static/vendor/leaflet/leaflet.css")
FONT_CSS = ["vendor/be-vietnam-pro/fonts.css"]  # weights 400-700, one request
# Our own files per page kind, relative to the static root.
# Neighbouring countries (Natural Earth via npm world-atlas, public domain), cut to the
# region by maps/context-layer.js at `make assets` time.
CONTEXT_JS = "vendor/world-atlas/context.js"
PAGE_JS = {
    "map": [CONTEXT_JS, "js/ioc-common.js", "js/ioc-map.js"],
    "wall": [CONTEXT_JS, "js/ioc-common.js", "js/ioc-wall.js"],
}
# The wall's text fonts, fetched with the page rather than after its first paint: with
# ``font-display: swap`` the alert card reflowed when they came (Lighthouse CLS 0.114 on
# /wall, all of it that card). Every subset its Vietnamese text draws from (Đ and đ are in
# latin-ext) in the three weights ioc-wall.css uses (tests/test_wall_room.py checks that
# the browser fetches no other).
WALL_FONTS = [
    f"vendor/be-vietnam-pro/files/be-vietnam-pro-{subset}-{weight}-normal.woff2"
    for subset in ("vietnamese", "latin", "latin-ext")
    for weight in (400, 600, 700)
]
PAGE_CSS = {
    "map": [*FONT_CSS, "css/ioc-base.css", "css/ioc-map.css"],
    "wall": [*FONT_CSS, "css/ioc-base.css", "css/ioc-wall.css"],
}


@cache
def asset_version() -> str:
    """A digest of every file under ``maps/assets``: the version in ``/static/v/<version>/``.

    Computed once per process (~4 MB read at the first page); a release that changes any
    asset links new names, so browsers may keep the old ones forever (``api/static.py``)."""
    h = hashlib.sha256()
    for path in sorted(p for p in ASSETS_DIR.rglob("*") if p.is_file()):
        h.update(path.relative_to(ASSETS_DIR).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:12]


def served_static() -> str:
    """The static prefix of pages served by the app: versioned, cached for a year."""
    return f"/static/v/{asset_version()}/"


def offline_map(static: str = "/static/", **kwargs) -> folium.Map:
    """A folium Map whose only dependencies are our self-hosted Leaflet files."""
    import folium

    m = folium.Map(tiles=None, **kwargs)
    m.default_js = [("leaflet", f"{static}vendor/leaflet/leaflet.js")]
    m.default_css = [("leaflet_css", f"{static}vendor/leaflet/leaflet.css")]
    return m


def figure_of(m: folium.Map) -> Figure:
    """The page around a map (branca types ``get_root()`` as a bare Element, but a folium
    map always sits in a Figure, which has the ``header`` and ``html`` we write into)."""
    root = m.get_root()
    if not isinstance(root, Figure):
        raise TypeError(f"a folium map's root should be a branca Figure, not {type(root)}")
    return root


def add_page_assets(m: folium.Map, kind: str, static: str = "/static/") -> None:
    """Link our fonts, CSS and JS for a page kind (``map`` or ``wall``) into the head."""
    header = figure_of(m).header
    header.add_child(Element(f'<link rel="icon" href="{static}favicon.svg" type="image/svg+xml">'))
    for font in WALL_FONTS if kind == "wall" else []:
        header.add_child(
            Element(
                f'<link rel="preload" href="{static}{font}" as="font" type="font/woff2"'
                " crossorigin>"
            )
        )
    for css in PAGE_CSS[kind]:
        header.add_child(Element(f'<link rel="stylesheet" href="{static}{css}">'))
    for js in PAGE_JS[kind]:
        header.add_child(Element(f'<script src="{static}{js}"></script>'))
