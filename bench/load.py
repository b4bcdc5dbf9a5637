"""Bounded load runs on loopback: 200 connections on what the walls poll — ``/``,
``/wall``, ``/api/v1/summary`` — one path at a time, with 1 and with 2 workers, while
``/healthz`` is probed on fresh connections during the run and after it.

    .venv/bin/python -m bench.load [--connections 200] [--duration 60] [--workers 1,2]
                                   [--full-mix] [--database-url URL]

Why these paths: every wall display polls them, and they were the ones that starved the
service (a pooled connection and a worker thread per cache hit). ``--full-mix`` adds the
older 67-path mix (pages, GeoJSON, commune details, task lists, MVT tiles, rankings,
search). The server is started as production starts it (``iocmap serve --workers N``);
wrk holds the connections; everything stops by itself after ``--duration`` seconds and
targets only 127.0.0.1. Results go to ``bench/load_results.md``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.http import get
from bench.run import ROOT, Server

DB_NAME = "iocmap_load"
PAGE_PATHS = ["/api/v1/summary", "/", "/wall"]
HEALTHZ_LIMIT = 1.0
AFTER_SECONDS = 5.0


def _rss_kb(pid: int) -> int:
    """Resident memory of a process and all its children (uvicorn workers)."""
    out = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return sum(int(x) for x in out.split())


def _full_mix(base: str) -> list[str]:
    """The older mix: map pages, layers, one commune's details and tasks, tiles."""
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


class HealthProbe(threading.Thread):
    """``/healthz`` on a fresh connection every 0.2 s; latencies split at ``mark()``."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.during: list[float] = []
        self.after: list[float] = []
        self._target = self.during

    def mark(self) -> None:
        self._target = self.after

    def run(self) -> None:
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/healthz")
                ok = conn.getresponse().status == 200
                conn.close()
            except OSError:
                ok = False
            self._target.append(time.monotonic() - start if ok else float("inf"))
            self.stop.wait(0.2)


@dataclass
class Run:
    workers: int
    label: str
    requests: int
    rps: float
    p50: str
    p99: str
    errors: int
    health_during: float
    health_after: float
    rss: str
    load: str


def _wrk(base: str, paths: list[str], connections: int, duration: int) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA % ", ".join(f'"{p}"' for p in paths))
        script = fh.name
    try:
        return subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s"]
            + ["--latency", "-s", script, base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)


def _errors(out: str) -> int:
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(x) for x in re.findall(r"\d+", sock.group(1))) if sock else 0
    )


def measure(server: Server, workers: int, label: str, paths: list[str], args) -> Run:
    for p in paths:  # built once per worker, as after an import
        for _ in range(2 * workers):
            get(server.base + p)
    rss_before = _rss_kb(server.proc.pid)
    probe = HealthProbe(server.port)
    load_before = os.getloadavg()[0]
    probe.start()
    out = _wrk(server.base, paths, args.connections, args.duration)
    probe.mark()
    time.sleep(AFTER_SECONDS)
    probe.stop.set()
    probe.join(15)
    rss_after = _rss_kb(server.proc.pid)
    print(out, flush=True)
    return Run(
        workers=workers,
        label=label,
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50=re.search(r"\s50%\s+(\S+)", out).group(1),
        p99=re.search(r"\s99%\s+(\S+)", out).group(1),
        errors=_errors(out),
        health_during=max(probe.during, default=float("inf")),
        health_after=max(probe.after, default=float("inf")),
        rss=f"{rss_before / 1024:.0f} → {rss_after / 1024:.0f} MB",
        load=f"{load_before:.1f} → {os.getloadavg()[0]:.1f}",
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    ap.add_argument("--full-mix", action="store_true", help="also the older 67-path mix")
    ap.add_argument("--database-url", default=None, help="default: a demo database 'iocmap_load'")
    args = ap.parse_args()

    from sqlalchemy.engine import make_url

    from bench.data import ensure_database
    from geo.db import make_engine
    from geo.demo.loader import load_demo
    from geo.migrate import upgrade
    from iocmap import devdb as localdb

    url = args.database_url
    if not url:
        url = make_url(localdb.up().url).set(database=DB_NAME).render_as_string(hide_password=False)
        ensure_database(url)
        upgrade(url)
        engine = make_engine(url)
        load_demo(engine)
        engine.dispose()

    (ROOT / "var").mkdir(exist_ok=True)
    exe = str(Path(sys.executable).parent / "iocmap")
    runs: list[Run] = []
    for workers in [int(w) for w in args.workers.split(",")]:
        server = Server(
            f"load-{workers}",
            [exe, "serve", "--workers", str(workers)],
            {"IOCMAP_DATABASE_URL": url, "IOCMAP_LOG_LEVEL": "WARNING"},
            "/readyz",
            ready_timeout=180,  # workers import the app in parallel on a shared box
        )
        try:
            scenarios = [(p, [p]) for p in PAGE_PATHS]
            if args.full_mix:
                mix = _full_mix(server.base)
                scenarios.append((f"mix of {len(mix)} paths", mix))
            for label, paths in scenarios:
                print(f"{workers} worker(s), {label}: wrk -c{args.connections} …", flush=True)
                runs.append(measure(server, workers, label, paths, args))
                _write(_table(runs, args))
            ready, _, _ = get(server.base + "/readyz")
        finally:
            server.stop()
        if ready != 200:
            print(f"/readyz answered {ready} after the runs")
            return 1

    table = _table(runs, args)
    print(table)
    _write(table)
    ok = all(
        r.errors == 0 and r.health_during <= HEALTHZ_LIMIT and r.health_after <= HEALTHZ_LIMIT
        for r in runs
    )
    return 0 if ok else 1


NOTES = "<!-- notes: kept by bench/load.py -->"


def _write(table: str) -> None:
    """The new table, and the hand-written notes below the marker kept as they were."""
    path = ROOT / "bench" / "load_results.md"
    old = path.read_text() if path.exists() else ""
    notes = old[old.index(NOTES) :] if NOTES in old else ""
    path.write_text(table + ("\n" + notes if notes else ""))


def _table(runs: list[Run], args) -> str:
    lines = [
        "# Load runs (bench/load.py)",
        "",
        f"`iocmap serve --workers N` on loopback, wrk 2 threads, {args.connections} keep-alive "
        f"connections for {args.duration} s per row, gzip accepted, pages built once before "
        f"the run. `/healthz` is probed on a fresh connection every 0.2 s during the run and "
        f"for {AFTER_SECONDS:g} s after it (max latency shown; limit {HEALTHZ_LIMIT:g} s). "
        f"Machine: {os.cpu_count()} cores, shared with other work (load average before → "
        f"after each row). Generated on {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "| workers | path | requests | req/s | p50 | p99 | errors | /healthz max during |"
        " after | RSS | load avg |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in runs:
        ok = "✅" if r.health_during <= HEALTHZ_LIMIT and r.health_after <= HEALTHZ_LIMIT else "❌"
        lines.append(
            f"| {r.workers} | `{r.label}` | {r.requests:,} | {r.rps:,.0f} | {r.p50} | {r.p99} |"
            f" {r.errors} | {r.health_during:.3f} s {ok} | {r.health_after:.3f} s | {r.rss} |"
            f" {r.load} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
