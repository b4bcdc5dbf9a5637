"""Crowds stop at nginx: through `make prod-local`, a cached single commune against nginx
serving the same bytes as a static file, and how soon a data change shows through the cache.

Why: a national event's crowd or 200 wall screens must be served at nginx speed; the API
behind it is only asked to revalidate (304) once a second. Run:

    .venv/bin/python -m bench.nginx_cache [--duration 15] [--connections 200]

It brings up the prod-local topology (primary + replica + 2 API processes + nginx, demo
data) under var/prod/bench-cache, measures, and tears it down. One run, this machine.
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import text

from bench.http import get
from bench.run import COMMUNE, wrk
from bench.static import StaticNginx
from deploy import topology
from geo.db import make_engine


def freshness(t: topology.Topology, url: str) -> float:
    """Seconds from a committed change of the commune's data until nginx answers it."""
    _, before, _ = get(url)
    engine = make_engine(t.primary.url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "update task set completed_at = coalesce(completed_at, date '2025-11-01')"
                    " - 1 where unit_code = :c"
                ),
                {"c": COMMUNE},
            )
            conn.execute(text("update data_state set version = version + 1"))
        mark = time.monotonic()
        while time.monotonic() - mark < 30:
            _, body, _ = get(url)
            if body != before:
                return time.monotonic() - mark
            time.sleep(0.02)
        return float("inf")
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--connections", type=int, default=200)
    args = ap.parse_args(argv)
    t = topology.new("bench-cache")
    topology.up(t, print)
    try:
        url = f"{t.url}/api/v1/communes/{COMMUNE}"
        status, body, headers = get(url)  # the plain bytes, as wrk asks for them
        assert status == 200, status
        for _ in range(3):  # warm the API's and nginx's caches
            get(url)
        cached = wrk(url, args.duration, args.connections)
        with StaticNginx({"/c.json": (body, "application/geo+json")}, workers=1) as n:
            static = wrk(n.base + "/c.json", args.duration, args.connections)
        lag = freshness(t, url)
        ratio = cached.rps / static.rps
        print(
            f"single commune ({len(body)} B), {args.connections} connections, {args.duration} s:\n"
            f"  through prod-local nginx cache: {cached.rps:,.0f} req/s, p99 {cached.p99:.1f} ms"
            f" {cached.errors}\n"
            f"  nginx static, same bytes:       {static.rps:,.0f} req/s, p99 {static.p99:.1f} ms\n"
            f"  ratio {ratio:.2f} (aim ≥ 0.8); a data change visible through the cache after"
            f" {lag:.2f} s (aim ≤ 2 s)"
        )
        return 0 if ratio >= 0.8 and lag <= 2 else 1
    finally:
        topology.down(t)


if __name__ == "__main__":
    raise SystemExit(main())
