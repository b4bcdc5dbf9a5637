"""Point Folium at the JS/CSS we serve ourselves instead of CDNs.

Why: operations centres often run on closed networks, so pages may reference only
``/static/...``. Leaflet is installed from the npm registry at build time
(``make assets``, pinned in ``maps/package.json``) into ``maps/assets/vendor``.
"""

from __future__ import annotations

from pathlib import Path

import folium

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
LEAFLET_JS = ("leaflet", "/static/vendor/leaflet/leaflet.js")
LEAFLET_CSS = ("leaflet_css", "/static/vendor/leaflet/leaflet.css")


def offline_map(**kwargs) -> folium.Map:
    """A folium Map whose only dependencies are our self-hosted Leaflet files."""
    m = folium.Map(tiles=None, **kwargs)
    m.default_js = [LEAFLET_JS]
    m.default_css = [LEAFLET_CSS]
    return m


def vendored() -> bool:
    """Whether `make assets` has put Leaflet in place."""
    return (ASSETS_DIR / "vendor" / "leaflet" / "leaflet.js").exists()
