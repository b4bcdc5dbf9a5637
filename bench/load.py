"""Bounded load run on loopback: many connections mixing map pages, GeoJSON, tiles and
task details; reports errors, throughput and the server's memory before/after.

    .venv/bin/python -m bench.load [--connections 200] [--duration 60] [--workers 2]

Why wrk with a Lua request mix: one client process can hold 200 keep-alive connections
on 2 cores, and the mix exercises every hot path at once (cache hits, 304s, SQL builds).
It stops by itself after ``--duration`` seconds and targets only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import ROOT, Server, get

DB_NAME = "iocmap_load"


def _rss_kb(pid: int) -> int:
    """Resident memory of a process and all its children (uvicorn workers)."""
    out = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return sum(int(x) for x in out.split())


def _paths(base: str) -> list[str]:
    """A realistic mix: map pages, layers, one commune's details and tasks, tiles."""
    import orjson

    _, body, _ = get(base + "/api/v1/communes?fields=code&limit=5000")
    codes = [f["id"] for f in orjson.loads(body)["features"]]
    rng = random.Random(57)
    sample = rng.sample(codes, 40)
    provinces = ["01", "40", "66", "79", "96", "31", "48", "92"]
    paths = ["/", "/p/40", "/wall", "/api/v1/summary", "/api/v1/provinces?zoom=5"]
    paths += [f"/api/v1/communes?province={p}&zoom=9&fields=code,completion_pct" for p in provinces]
    paths += [f"/api/v1/communes/{c}" for c in sample[:20]]
    paths += [f"/api/v1/units/{c}/tasks" for c in sample[20:]]
    paths += [f"/tiles/communes/6/{x}/{y}.mvt" for x in (50, 51, 52) for y in (27, 28, 29, 30)]
    paths += ["/api/v1/rankings?indicator=service_index&period=2025-Q3", "/api/v1/search?q=ca+mau"]
    return paths


LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Accept-Encoding"] = "gzip"})
end
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--database-url", default=None, help="default: a demo database 'iocmap_load'")
    args = ap.parse_args()

    from sqlalchemy.engine import make_url

    from bench.data import ensure_database
    from geo.db import make_engine
    from geo.demo.loader import load_demo
    from geo.migrate import upgrade
    from iocmap import devdb as localdb

    url = args.database_url or make_url(localdb.up().url).set(database=DB_NAME).render_as_string(
        hide_password=False
    )
    ensure_database(url)
    upgrade(url)
    engine = make_engine(url)
    load_demo(engine)
    engine.dispose()

    (ROOT / "var").mkdir(exist_ok=True)
    exe = str(Path(sys.executable).parent / "uvicorn")
    server = Server(
        "load",
        [exe, "api.main:app", "--workers", str(args.workers), "--log-level", "warning"],
        {"IOCMAP_DATABASE_URL": url, "IOCMAP_LOG_LEVEL": "WARNING"},
        "/readyz",
    )
    try:
        paths = _paths(server.base)
        for p in paths:  # warm every path once, so memory growth is not first-use growth
            get(server.base + p)
        rss_before = _rss_kb(server.proc.pid)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(LUA % ", ".join(f'"{p}"' for p in paths))
            script = fh.name
        t0 = time.monotonic()
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                script,
                server.base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        elapsed = time.monotonic() - t0
        rss_after = _rss_kb(server.proc.pid)
        ready, _, _ = get(server.base + "/readyz")
    finally:
        server.stop()

    print(out)
    n = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"\s50%\s+(\S+)", out).group(1)
    p99 = re.search(r"\s99%\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(x) for x in re.findall(r"\d+", sock.group(1))) if sock else 0
    )
    growth = 100.0 * (rss_after - rss_before) / rss_before
    table = (
        f"| connections | duration | requests | req/s | p50 | p99 | errors | RSS before → after |\n"
        f"|---|---|---|---|---|---|---|---|\n"
        f"| {args.connections} | {elapsed:.0f} s | {n} | {rps:.0f} | {p50} | {p99} | {errors} |"
        f" {rss_before / 1024:.0f} → {rss_after / 1024:.0f} MB ({growth:+.1f} %) |\n"
    )
    print(f"mix of {len(paths)} paths, {args.workers} uvicorn workers\n\n{table}")
    (ROOT / "bench" / "load_results.md").write_text(
        f"# Load run (bench/load.py)\n\nMix of {len(paths)} paths (pages, GeoJSON, commune "
        f"detail, task lists, MVT tiles, rankings, search), {args.workers} uvicorn workers, "
        f"wrk on loopback.\n\n{table}"
    )
    ok = errors == 0 and ready == 200
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
