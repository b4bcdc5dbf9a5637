"""Version-keyed response cache and the one way a cached response is answered.

Why: the data only changes on import, and every import bumps ``data_state.version``.
Keying on (version, request) makes invalidation free and the ETag exact: a client
holding an ETag of the current version gets 304 without any work. Everything here runs
on the event loop and never blocks it: concurrent misses of one key await one build
("single flight", so 200 walls polling a cold page cost one build, not 200 threads), gzip
is done once per entry on demand, and the version itself is remembered for a short TTL,
refreshed by one reader at a time (see ``StateCache``), so a warm hit needs no database
connection and no worker thread.

One response path: ``request_key`` is the only cache key, ``etag_matches`` the only
conditional-GET test and ``render`` the only place the status, headers and body of a
cached answer are made; the routes (``api.deps.cached_response``) and the ASGI fast path
(``CacheFastPath``, before routing) both use them, so they cannot drift apart.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import parse_qsl

from starlette.responses import Response

if TYPE_CHECKING:
    from geo.read.progress import DataState

T = TypeVar("T")
Headers = list[tuple[bytes, bytes]]


class SingleFlight:
    """Concurrent callers of one key share one run of the work (asyncio, one event loop).

    The work runs as its own task, shielded: a client that disconnects cancels only its
    wait, never the build the others are waiting for. Errors reach every waiter and are
    not remembered (the next caller tries again).
    """

    def __init__(self) -> None:
        self._tasks: dict[Hashable, asyncio.Future] = {}

    async def do(self, key: Hashable, start: Callable[[], Awaitable[T]]) -> T:
        return await asyncio.shield(self.start(key, start))

    def start(self, key: Hashable, start: Callable[[], Awaitable[T]]) -> asyncio.Future:
        """The task running ``start()`` for ``key``: the one in flight, or a new one (made
        and registered at once, so callers within one loop iteration share it too)."""
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(start())
            self._tasks[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return task

    def _finished(self, key: Hashable, task: asyncio.Future) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" if all left


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
        "transient",
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
        self.route: Any = None  # the route that built it (metrics label the fast path with it)
        self.path_params: dict = {}
        self.gzip_min_bytes = gzip_min_bytes
        self._gz: bytes | None = None
        self._gz_lock = threading.Lock()
        self.transient = False  # one of many one-off answers (a CQL2 filter): a small share

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
    """An LRU bounded by entries and bytes; older versions simply age out.

    Reads and writes happen on the event loop; builds and gzip run wherever the caller's
    ``build``/``run`` puts them (a bounded thread lane, see ``api.dbgate``).
    """

    TRANSIENT_SHARE = 8  # one-off answers (distinct CQL2 filters) hold ≤ 1/8 of max_bytes

    def __init__(
        self, max_entries: int = 256, gzip_min_bytes: int = 1024, max_bytes: int = 512 << 20
    ) -> None:
        self.max_entries = max_entries
        self.gzip_min_bytes = gzip_min_bytes
        self.max_bytes = max_bytes
        # Why a share: every request of a crowd of distinct filters is a miss whose answer
        # is never asked again; unbounded, they would fill the cache (and the worker's
        # memory, which stays after the crowd) and push out the layers everyone shares
        self.transient_max = max_bytes // self.TRANSIENT_SHARE
        self._data: OrderedDict[tuple[int, str], Entry] = OrderedDict()
        self._flights = SingleFlight()
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

    async def get_or_build(
        self,
        version: int,
        key: str,
        build: Callable[[], Awaitable[bytes]],
        media_type: str,
        headers: dict[str, str] | None = None,
        transient: bool = False,
    ) -> Entry:
        """The cached entry, or await ``build``; concurrent callers of one key share a build.
        ``transient``: an answer unlikely to be asked again (a CQL2 filter), kept within
        ``transient_max`` bytes of its own kind."""
        entry = self.get(version, key)
        if entry is not None:
            return entry

        async def make() -> Entry:
            self.misses += 1
            body = await build()
            etag = self.etag_for(version, key)
            made = Entry(etag, body, media_type, self.gzip_min_bytes, headers)
            made.transient = transient
            with self._lock:
                self._data[(version, key)] = made
                self._evict()
            return made

        return await self._flights.do((version, key), make)

    async def ensure_gzip(self, entry: Entry, run: Callable[..., Awaitable[Any]]) -> None:
        """Compress ``entry`` once (``run`` puts the work on a thread), shared by waiters."""
        if entry.gzip_ready or not entry.compressible:
            return
        await self._flights.do(("gzip", id(entry)), lambda: run(lambda: entry.gzipped))
        with self._lock:  # the gzip copy is held too: count it against max_bytes
            self._evict()

    def _evict(self) -> None:
        total = sum(e.size for e in self._data.values())
        while self._data and (len(self._data) > self.max_entries or total > self.max_bytes):
            _, old = self._data.popitem(last=False)
            total -= old.size
        transient = [(k, e.size) for k, e in self._data.items() if e.transient]  # oldest first
        held = sum(size for _, size in transient)
        for k, size in transient:
            if held <= self.transient_max:
                break
            del self._data[k]
            held -= size

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class StateCache(Generic[T]):
    """The last value read (the data state), trusted for ``ttl`` seconds.

    Why: reading ``data_state`` costs a database round trip (plus a pool checkout and its
    pre-ping), more than serving a cached body. With a TTL of 1 s a new import is visible
    within about a second; ``ttl=0`` reads on every request (exact, for tests). One read is
    in flight at a time: requests arriving meanwhile await its result, so a crowd costs
    one connection per TTL, not one per request. Once the value is half a TTL old, the
    next request starts a read in the background, so under steady traffic the value is
    renewed before it expires and a crowd of cache hits is never sent through routing to
    wait for it; a value older than the TTL is never served.
    """

    def __init__(self, ttl: float, read: Callable[[], Awaitable[T]] | None = None) -> None:
        self.ttl = ttl
        self.read = read  # set by the app's lifespan (it needs the engine and the lane)
        self.last: T | None = None
        self._at = 0.0
        self._flight = SingleFlight()

    def fresh(self) -> T | None:
        """The value while it is younger than the TTL (renewed in the background past half)."""
        if self.ttl <= 0 or self.last is None:
            return None
        age = time.monotonic() - self._at
        if age >= self.ttl:
            return None
        if age >= self.ttl / 2 and self.read is not None:
            self._flight.start("state", self._refresh)  # no-op while one is in flight
        return self.last

    async def get(self) -> T:
        """The trusted value, else the result of the one read in flight (started if none)."""
        value = self.fresh()
        if value is not None:
            return value
        return await self._flight.do("state", self._refresh)

    async def _refresh(self) -> T:
        if self.read is None:
            raise RuntimeError("StateCache.read is not set")
        new = await self.read()
        self.last, self._at = new, time.monotonic()
        return new


def request_key(scope: Mapping[str, Any]) -> str:
    """Host + path + sorted query: THE cache key. The host is part of it because bodies
    hold absolute links; the fast path computes it from the raw scope, before routing."""
    host = ""
    for name, value in scope.get("headers") or ():
        if name == b"host":
            host = value.decode("latin-1")
            break
    raw = scope.get("query_string", b"")
    query = sorted(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else []
    return f"{host}{scope['path']}?{query}"


def gz_etag(etag: str) -> str:
    """The gzip body's validator: a different representation needs its own strong ETag."""
    return etag[:-1] + '-gz"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 If-None-Match (weak comparison): ``*`` or any listed tag equal to ``etag``
    or to its gzip twin. The one conditional-GET test of the service."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    accepted = (etag, gz_etag(etag))
    return any(tag.strip().removeprefix("W/") in accepted for tag in if_none_match.split(","))


def wants_gzip(accept_encoding: str, entry: Entry) -> bool:
    return "gzip" in accept_encoding and entry.compressible


def render(
    entry: Entry,
    state: DataState,
    accept_encoding: str,
    if_none_match: str,
    extra: Headers | None = None,
) -> tuple[int, Headers, bytes]:
    """Status, raw headers and body of a cached answer: 304 when the client's ETag is
    current, the gzip twin when accepted (it must be ready), 204 for an empty body."""
    gz = wants_gzip(accept_encoding, entry)
    headers: Headers = [
        (b"etag", (gz_etag(entry.etag) if gz else entry.etag).encode()),
        (b"vary", b"Accept-Encoding"),
        (b"cache-control", b"no-cache"),
        (b"x-data-version", str(state.version).encode()),
    ]
    if state.reporting_date:
        headers.append((b"x-data-as-of", state.reporting_date.isoformat().encode()))
    headers += [(k.lower().encode(), v.encode("latin-1")) for k, v in entry.headers.items()]
    headers += extra or []
    if etag_matches(if_none_match, entry.etag):
        return 304, headers, b""
    body = (entry.gzipped if gz else entry.body) or b""
    headers.append((b"content-type", _content_type(entry.media_type)))
    if not body:
        return 204, headers, b""
    if gz:
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode()))
    return 200, headers, body


class RawResponse(Response):
    """A response sent exactly as ``render`` made it (what the fast path sends too)."""

    def __init__(self, status: int, headers: Headers, body: bytes) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = headers


class CacheFastPath:
    """Serve a cached body before routing, validation and dependencies run.

    Why: a warm hit costs ~0.1 ms of work, but FastAPI's parameter validation and
    dependency solving add ~1 ms per request. An entry exists only if the route built it
    for exactly this host + path + query (so the request was valid) under the current data
    version; the version is the one ``StateCache`` trusts for its TTL, so with
    ``version_ttl = 0`` (exact mode) this path never answers and routing decides.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        app_state = scope["app"].state
        states: StateCache | None = getattr(app_state, "state_cache", None)
        cache: ResponseCache | None = getattr(app_state, "cache", None)
        state = states.fresh() if states is not None else None
        entry = cache.get(state.version, request_key(scope)) if state and cache else None
        if entry is None or state is None:
            await self.app(scope, receive, send)
            return
        req_headers = dict(scope["headers"])
        accept = req_headers.get(b"accept-encoding", b"").decode("latin-1")
        if wants_gzip(accept, entry) and not entry.gzip_ready:
            await self.app(scope, receive, send)  # the route compresses off the loop
            return
        if entry.route is not None:
            scope["route"], scope["path_params"] = entry.route, entry.path_params
        inm = req_headers.get(b"if-none-match", b"").decode("latin-1")
        status, headers, body = render(entry, state, accept, inm)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_type(media_type: str) -> bytes:
    """As Starlette would send it: text types get a charset."""
    if media_type.startswith("text/") and "charset" not in media_type:
        media_type += "; charset=utf-8"
    return media_type.encode()
