"""``/static``: our JS/CSS, Leaflet, fonts and the neighbour layer, compressed and cached.

Why (issue 24): on a phone over slow 4G the pages' first paint waited 4.5 s for ~500 KiB of
uncompressed JS/CSS fetched again on every visit. Here:

- **Versioned names.** Pages link ``/static/v/<version>/<file>``, ``<version>`` being a
  digest of every file under ``maps/assets`` (:func:`maps.assets_local.asset_version`).
  A versioned request for the current version is answered with
  ``Cache-Control: public, max-age=31536000, immutable``: a browser never asks again, and a
  new release links new names. The version covers the whole tree, so the relative links
  inside CSS (fonts, Leaflet's images) stay versioned too. Any other request (the bare
  ``/static/<file>`` kept for old links and the static export, or an old version) gets a
  short ``max-age`` and revalidates with its ETag.
- **Compression.** Text files (JS, CSS, SVG, JSON) are sent gzip-compressed to clients that
  accept it, with ``Vary: Accept-Encoding``. Each file is compressed once per process at
  level 9 (off the event loop) and kept in memory keyed by its path, size and mtime; the
  set of files is the fixed asset tree and the memo is bounded in entries and bytes (past
  the bound, files are sent uncompressed rather than recompressed per request). Fonts
  (woff2) and images are already compressed and are sent as they are.

nginx (``docker/nginx-locations.conf``) proxies ``/static/`` with one cached copy per
normalised ``Accept-Encoding`` and passes these headers through.
"""

from __future__ import annotations

import gzip
import os
from collections import OrderedDict

import anyio
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from maps.assets_local import asset_version

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".geojson", ".txt", ".html", ".map")
MAX_FILE = 4 << 20  # larger files are sent as they are (none of ours is near it)
MAX_ENTRIES = 256
MAX_BYTES = 16 << 20
_VERSIONED = "iocmap.static_versioned"


class AssetFiles(StaticFiles):
    """StaticFiles with versioned names, cache headers and gzip for text files."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._gz: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._gz_bytes = 0

    def get_path(self, scope: Scope) -> str:
        path = super().get_path(scope)
        parts = path.split(os.sep, 2)
        if len(parts) >= 2 and parts[0] == "v":
            scope[_VERSIONED] = parts[1] == asset_version()
            return parts[2] if len(parts) == 3 else "."
        scope[_VERSIONED] = False
        return path

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["cache-control"] = IMMUTABLE if scope.get(_VERSIONED) else SHORT
        if not isinstance(response, FileResponse) or response.stat_result is None:
            return response  # 304, redirect
        name = str(response.path)
        if not name.endswith(COMPRESSIBLE):
            return response
        response.headers["vary"] = "Accept-Encoding"
        request = Headers(scope=scope)
        if "gzip" not in request.get("accept-encoding", "").lower():
            return response
        body = await self._gzipped(name, response.stat_result)
        if body is None:
            return response
        headers = {
            k: v
            for k, v in response.headers.items()
            if k not in ("content-length", "accept-ranges", "etag", "content-type")
        }
        etag = response.headers["etag"][:-1] + '-gz"'
        headers |= {"content-encoding": "gzip", "etag": etag}
        asked = request.get("if-none-match", "").split(",")
        if etag in [t.strip().removeprefix("W/") for t in asked]:
            return Response(status_code=304, headers=headers)
        return Response(body, headers=headers, media_type=response.media_type)

    async def _gzipped(self, name: str, st: os.stat_result) -> bytes | None:
        if st.st_size > MAX_FILE:
            return None
        key = (name, st.st_size, st.st_mtime_ns)
        if (hit := self._gz.get(key)) is not None:
            return hit
        body = await anyio.to_thread.run_sync(_compress, name)
        # bounded: drop the oldest (a file edited many times in development)
        while self._gz and (len(self._gz) >= MAX_ENTRIES or self._gz_bytes + len(body) > MAX_BYTES):
            _, old = self._gz.popitem(last=False)
            self._gz_bytes -= len(old)
        self._gz[key] = body
        self._gz_bytes += len(body)
        return body


def _compress(name: str) -> bytes:
    with open(name, "rb") as f:
        return gzip.compress(f.read(), compresslevel=9, mtime=0)
