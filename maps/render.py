"""Helpers every page shares: Jinja templates, the embedded JSON config, the final HTML.

Why here: the map pages and the wall are Folium figures plus our own chrome (toolbar,
panel, legend, wall layout) rendered from ``maps/templates``; both embed a JSON config
the JS reads, and both get the same accessibility fixes to Folium's fixed page shell.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import jinja2
import orjson
from branca.element import MacroElement
from jinja2 import Template

from maps import theme

if TYPE_CHECKING:  # folium is imported where a map is built, not by the server's start
    import folium


@lru_cache(maxsize=1)
def env() -> jinja2.Environment:
    """The template environment (autoescaped HTML)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("maps", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(name: str, **context) -> str:
    """Render one of ``maps/templates``."""
    return env().get_template(name).render(theme=theme, **context)


def config_script(config: dict) -> str:
    """The page config as inert JSON (``</`` escaped so it cannot close the script)."""
    body = orjson.dumps(config).decode().replace("</", "<\\/")
    return f'<script type="application/json" id="ioc-config">{body}</script>'


HATCH_DEFS = f"""<svg class="ioc-defs" width="0" height="0" aria-hidden="true" focusable="false">
<defs><pattern id="ioc-hatch" patternUnits="userSpaceOnUse" width="7" height="7"
 patternTransform="rotate(45)"><rect width="7" height="7" fill="{theme.NO_DATA}"/>
<line x1="0" y1="0" x2="0" y2="7" stroke="{theme.HATCH_LINE}" stroke-width="2.5"/>
</pattern></defs></svg>"""


class InitScript(MacroElement):
    """Calls our JS once Folium has created the map and its layers (rendered after them)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this.fn }}({{ this._parent.get_name() }}, {{ this.layer_name }});
        {% endmacro %}"""
    )

    def __init__(self, fn: str, layer: folium.GeoJson | None) -> None:
        super().__init__()
        self._name = "IocInit"
        self.fn = fn
        self.layer_name = layer.get_name() if layer is not None else "null"


_FINAL_SCRIPT = re.compile(r"(</body>\s*<script>)(.*)(</script>\s*</html>\s*)$", re.DOTALL)


def finish(page_html: str, lang: str, title: str) -> str:
    """Fix Folium's fixed shell: document language, a title, and pinch-zoom allowed.

    Scripts do not block the first paint (issue 24: 4.5 s on a phone): every ``src``
    script is ``defer`` (run in page order once the HTML is parsed) and Folium's closing
    inline script, which needs Leaflet and our JS, runs at ``DOMContentLoaded``, after
    them. Its variables become locals of that function; nothing outside it names them."""
    page_html = page_html.replace("<html>", f'<html lang="{lang}">', 1)
    page_html = page_html.replace("<head>", f"<head>\n    <title>{html.escape(title)}</title>", 1)
    page_html = page_html.replace("<script src=", "<script defer src=")
    page_html = _FINAL_SCRIPT.sub(
        lambda m: (
            f"{m[1]}\ndocument.addEventListener('DOMContentLoaded', function () {{"
            f"{m[2]}}});\n{m[3]}"
        ),
        page_html,
        count=1,
    )
    return re.sub(r",\s*maximum-scale=1\.0,\s*user-scalable=no", "", page_html, count=1)
