"""A bounded HTTP load on loopback: a fixed number of requests, a time cap, every answer checked.

Why not wrk: we need each failure with its path and cause, the headers that say which
database answered and whether nginx's cache did, and a hook to kill a process mid-run.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

OK_STATUSES = (200, 304)


@dataclass
class LoadResult:
    """What the load saw; ``failures`` lists (path, cause) of every failed request."""

    requests: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    served_by_db: Counter = field(default_factory=Counter)
    cache_status: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms) or [0.0]

        def pct(p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 1)

        return {
            "requests": self.requests,
            "failed": len(self.failures),
            "failures": self.failures[:20],
            "statuses": dict(self.statuses),
            "served_by_db": dict(self.served_by_db),
            "nginx_cache": dict(self.cache_status),
            "elapsed_s": round(self.elapsed_s, 2),
            "rps": round(self.requests / self.elapsed_s, 1) if self.elapsed_s else None,
            "latency_ms": {
                "p50": pct(0.5),
                "p95": pct(0.95),
                "p99": pct(0.99),
                "max": round(lat[-1], 1),
                "mean": round(statistics.fmean(lat), 1),
            },
        }


def run(
    base_url: str,
    paths: Sequence[str],
    total: int,
    concurrency: int = 8,
    max_seconds: float = 60.0,
    on_response: Callable[[str, httpx.Response], None] | None = None,
    progress=None,
) -> LoadResult:
    """Send ``total`` GETs (round-robin over ``paths``) from ``concurrency`` threads.

    Stops at ``total`` or after ``max_seconds``, whichever comes first. Every third
    request of a path already seen carries its ETag in If-None-Match (a 304 is a success).
    Loopback only: ``base_url`` must be http://127.0.0.1. ``progress`` (a
    ``multiprocessing.Value``) counts finished requests for a watcher in another process.
    """
    if not base_url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"load targets loopback only, not {base_url}")
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(total))
    etags: dict[str, str] = {}
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        with httpx.Client(
            base_url=base_url, timeout=15.0, headers={"Accept-Encoding": "gzip"}
        ) as client:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                path = paths[i % len(paths)]
                headers = {}
                if i % 3 == 0 and (tag := etags.get(path)):
                    headers["If-None-Match"] = tag
                t0 = time.perf_counter()
                try:
                    r = client.get(path, headers=headers)
                    r.read()
                    cause = None if r.status_code in OK_STATUSES else f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    r, cause = None, f"{type(exc).__name__}: {exc}"
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    result.requests += 1
                    if progress is not None:
                        progress.value = result.requests
                    result.latencies_ms.append(ms)
                    if cause:
                        result.failures.append((path, cause))
                    if r is not None:
                        result.statuses[r.status_code] += 1
                        if db := r.headers.get("x-served-by-db"):
                            result.served_by_db[db] += 1
                        if cs := r.headers.get("x-cache-status"):
                            result.cache_status[cs] += 1
                        if r.status_code == 200 and (tag := r.headers.get("etag")):
                            etags[path] = tag
                if r is not None and on_response:
                    on_response(path, r)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=max_seconds + 30)
    result.elapsed_s = time.monotonic() - t0
    return result
