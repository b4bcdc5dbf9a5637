"""``iocmap maps build --out DIR``: standalone HTML maps with their data embedded.

Why: a briefing laptop or a closed network may have no iocmap server. The export holds
``index.html`` (34 provinces), ``p/{code}.html`` (each province's communes) and a
``static/`` copy of exactly the self-hosted JS/CSS/fonts the pages load, so the folder
opens from disk with no request leaving it. The click panel reads details embedded by
the build (fetched from the API in-process by an ASGI call, ``maps/inprocess.py``, so
they are the API's own answers):
provinces always, communes' task lists with ``--details``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from maps.assets_local import ASSETS_DIR
from maps.inprocess import InProcessAPI, in_process_api
from maps.mappage import assemble, render_map_page

STATIC_FILES = (
    "favicon.svg",
    "css",
    "js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/images",
    "vendor/leaflet/LICENSE",
    "vendor/be-vietnam-pro",
    "vendor/world-atlas/context.js",
    "vendor/world-atlas/LICENSE",
)


def copy_static(out: Path) -> None:
    """Copy the files the pages load (and their licences) into ``out/static``."""
    for rel in STATIC_FILES:
        src = ASSETS_DIR / rel
        dst = out / "static" / rel
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing: run `make assets` first")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def _details(api: InProcessAPI, level: str, codes: list[str], tasks: bool) -> dict:
    """API answers keyed by the path the page's JS asks for."""
    kind = "provinces" if level == "province" else "communes"
    out: dict = {}
    for code in codes:
        detail = api.get_json(f"/api/v1/{kind}/{code}")
        detail.pop("links", None)  # they point at a server the export does not have
        detail["geometry"] = None  # the page has the geometry already
        out[f"/{kind}/{code}"] = detail
        if tasks:
            body = api.get_json(f"/api/v1/units/{code}/tasks", {"limit": 500})
            body.pop("links", None)
            for task in body.get("tasks", []):
                task.pop("history_url", None)
            out[f"/units/{code}/tasks?limit=500"] = body
    return out


def _lean(api: InProcessAPI, province: str) -> dict:
    """Each commune's figures from the list endpoint (one request per province)."""
    fc = api.get_json("/api/v1/communes", {"province": province, "zoom": 0, "precision": 0})
    return {f"/communes/{f['id']}": {"properties": f["properties"]} for f in fc["features"]}


@contextmanager
def _quiet_access_log() -> Iterator[None]:
    """The build asks the API in-process hundreds of times: those are not visits, so
    they must not print access-log lines."""
    logger = logging.getLogger("iocmap.access")
    before = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = before


def build_site(
    app, out: Path, provinces: list[str] | None = None, lang: str = "vi", details: bool = False
) -> list[Path]:
    """Write the standalone maps into ``out``; returns the HTML files written."""
    out.mkdir(parents=True, exist_ok=True)
    copy_static(out)
    written: list[Path] = []
    with _quiet_access_log(), in_process_api(app) as api, app.state.engine.connect() as conn:
        from geo.read.progress import data_state

        state = data_state(conn)
        day = state.default_as_of()
        year = (state.reporting_date or day).year
        national = assemble(conn, as_of=day, reporting_year=year, lang=lang)
        codes = sorted(national.layer.names)
        built = sorted(provinces or codes)
        page = replace(
            national,
            static="static/",
            api=None,
            standalone=True,
            link_national="index.html",
            link_province="p/{code}.html",
            linked_provinces=built,  # the panel links only the commune maps written
            refine_path=None,
            embedded=_details(api, "province", codes, tasks=True),
        )
        path = out / "index.html"
        path.write_text(render_map_page(page), encoding="utf-8")
        written.append(path)
        (out / "p").mkdir(exist_ok=True)
        for code in built:
            base = assemble(conn, as_of=day, reporting_year=year, province_code=code, lang=lang)
            embedded = _lean(api, code)
            if details:
                embedded.update(_details(api, "commune", sorted(base.layer.names), True))
            page = replace(
                base,
                static="../static/",
                api=None,
                standalone=True,
                link_national="../index.html",
                link_province="{code}.html",
                refine_path=None,
                embedded=embedded,
            )
            path = out / "p" / f"{code}.html"
            path.write_text(render_map_page(page), encoding="utf-8")
            written.append(path)
    return written
