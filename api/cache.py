"""Version-keyed response cache: bytes computed once per data version, gzipped once.

Why: the data only changes on import, and every import bumps ``data_state.version``.
Keying on (version, request) makes invalidation free and the ETag exact: a client
holding an ETag of the current version gets 304 without any work. Concurrent misses of
the same key wait for one build (no thundering herd on a cold national layer), gzip is
done once per entry and only when a client asks for it (the cold path stays short), and
the version itself is remembered for a short TTL so a warm hit needs no database round
trip at all (see ``StateCache``).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar
from urllib.parse import parse_qsl

T = TypeVar("T")


class Entry:
    """One cached representation with its validator; the gzip twin is made on demand."""

    __slots__ = (
        "etag",
        "body",
        "media_type",
        "_gz",
        "_gz_lock",
        "gzip_min_bytes",
        "headers",
        "route",
        "path_params",
    )

    def __init__(
        self,
        etag: str,
        body: bytes,
        media_type: str,
        gzip_min_bytes: int,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.etag = etag
        self.body = body
        self.media_type = media_type
        self.headers = headers or {}
        self.route = None  # the route that built it (metrics label the fast path with it)
        self.path_params: dict = {}
        self.gzip_min_bytes = gzip_min_bytes
        self._gz: bytes | None = None
        self._gz_lock = threading.Lock()

    @property
    def compressible(self) -> bool:
        return len(self.body) >= self.gzip_min_bytes

    @property
    def gzip_ready(self) -> bool:
        return self._gz is not None

    @property
    def gzipped(self) -> bytes | None:
        """The gzip body (computed once, level 6); None for bodies under the threshold."""
        if not self.compressible:
            return None
        if self._gz is None:
            with self._gz_lock:
                if self._gz is None:
                    self._gz = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gz

    @property
    def size(self) -> int:
        return len(self.body) + len(self._gz or b"")


class ResponseCache:
    """A thread-safe LRU bounded by entries and bytes; older versions simply age out."""

    def __init__(
        self, max_entries: int = 256, gzip_min_bytes: int = 1024, max_bytes: int = 512 << 20
    ) -> None:
        self.max_entries = max_entries
        self.gzip_min_bytes = gzip_min_bytes
        self.max_bytes = max_bytes
        self._data: OrderedDict[tuple[int, str], Entry] = OrderedDict()
        self._building: dict[tuple[int, str], Future] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def etag_for(version: int, key: str) -> str:
        return f'"v{version}-{hashlib.sha1(key.encode()).hexdigest()[:16]}"'

    def get(self, version: int, key: str) -> Entry | None:
        """The entry if cached (counts a hit), else None; never builds."""
        with self._lock:
            entry = self._data.get((version, key))
            if entry is not None:
                self._data.move_to_end((version, key))
                self.hits += 1
            return entry

    def get_or_build(
        self,
        version: int,
        key: str,
        build: Callable[[], bytes],
        media_type: str,
        headers: dict[str, str] | None = None,
    ) -> Entry:
        """The cached entry, or build it now; concurrent callers of one key share a build."""
        k = (version, key)
        with self._lock:
            entry = self._data.get(k)
            if entry is not None:
                self._data.move_to_end(k)
                self.hits += 1
                return entry
            pending = self._building.get(k)
            if pending is None:
                self.misses += 1
                pending = self._building[k] = Future()
                owner = True
            else:
                owner = False
        if not owner:
            return pending.result()
        try:
            entry = Entry(
                self.etag_for(version, key), build(), media_type, self.gzip_min_bytes, headers
            )
        except BaseException as exc:  # errors are not cached; waiters see the same error
            with self._lock:
                self._building.pop(k, None)
            pending.set_exception(exc)
            raise
        with self._lock:
            self._building.pop(k, None)
            self._data[k] = entry
            self._evict()
        pending.set_result(entry)
        return entry

    def _evict(self) -> None:
        total = sum(e.size for e in self._data.values())
        while self._data and (len(self._data) > self.max_entries or total > self.max_bytes):
            _, old = self._data.popitem(last=False)
            total -= old.size

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class StateCache(Generic[T]):
    """The last value read (the data state), trusted for ``ttl`` seconds.

    Why: reading ``data_state`` costs a database round trip (plus a pool checkout and its
    pre-ping) on every request, more than serving a cached body. With a TTL of 1 s a new
    import is visible within a second; ``ttl=0`` reads on every request (exact, for tests).
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._value: T | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def fresh(self) -> T | None:
        """The remembered value while it is younger than the TTL."""
        if self.ttl > 0 and self._value is not None and time.monotonic() - self._at < self.ttl:
            return self._value
        return None

    def refresh(self, read: Callable[[], T]) -> T:
        """Read now (one reader at a time; others reuse its result)."""
        with self._lock:
            value = self.fresh()
            if value is not None:
                return value
            value = read()
            self._value, self._at = value, time.monotonic()
            return value


def request_key(scope: dict) -> str:
    """Host + path + sorted query of a request: the cache key of routes whose bodies hold
    absolute links, and the one the fast path below can compute without routing."""
    host = ""
    for name, value in scope.get("headers") or ():
        if name == b"host":
            host = value.decode("latin-1")
            break
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return f"{host}{scope['path']}?{sorted(query)}"


class CacheFastPath:
    """Serve a cached body before routing, validation and dependencies run.

    Why: a warm hit costs ~0.1 ms of work, but FastAPI's parameter validation and
    dependency solving add ~1 ms per request. An entry exists only if the route built it
    for exactly this host + path + query (so the request was valid) under the current data
    version; the version is the one ``StateCache`` trusts for its TTL, so with
    ``version_ttl = 0`` (exact mode) this path never answers and routing decides.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        app_state = scope["app"].state
        states: StateCache | None = getattr(app_state, "state_cache", None)
        cache: ResponseCache | None = getattr(app_state, "cache", None)
        state = states.fresh() if states is not None else None
        entry = cache.get(state.version, request_key(scope)) if state and cache else None
        if entry is None or (not entry.body and entry.media_type != VECTOR_TILE):
            await self.app(scope, receive, send)
            return
        if entry.route is not None:
            scope["route"], scope["path_params"] = entry.route, entry.path_params
        req_headers = dict(scope["headers"])
        gz = b"gzip" in req_headers.get(b"accept-encoding", b"") and entry.compressible
        if gz and not entry.gzip_ready:
            await self.app(scope, receive, send)  # the route compresses in a worker thread
            return
        etag = entry.etag[:-1] + '-gz"' if gz else entry.etag
        headers = [
            (b"etag", etag.encode()),
            (b"vary", b"Accept-Encoding"),
            (b"cache-control", b"no-cache"),
            (b"x-data-version", str(state.version).encode()),
        ]
        if state.reporting_date:
            headers.append((b"x-data-as-of", state.reporting_date.isoformat().encode()))
        headers += [(k.lower().encode(), v.encode("latin-1")) for k, v in entry.headers.items()]
        inm = req_headers.get(b"if-none-match", b"").decode("latin-1")
        if inm and (
            inm.strip() == "*"
            or any(
                t.strip().removeprefix("W/") in (entry.etag, entry.etag[:-1] + '-gz"')
                for t in inm.split(",")
            )
        ):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        body = entry.gzipped if gz else entry.body
        status = 204 if not body else 200
        headers.append((b"content-type", _content_type(entry.media_type)))
        if gz:
            headers.append((b"content-encoding", b"gzip"))
        if status == 200:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body or b""})


VECTOR_TILE = "application/vnd.mapbox-vector-tile"


def _content_type(media_type: str) -> bytes:
    """As Starlette would send it: text types get a charset."""
    if media_type.startswith("text/") and "charset" not in media_type:
        media_type += "; charset=utf-8"
    return media_type.encode()
