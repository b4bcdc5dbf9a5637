"""The server's memory under the loads of issue 21: distinct CQL2 filters from 200
connections, and 16 distinct downloads at once — the whole process tree's RSS sampled
throughout, /healthz probed, and the RSS a while after the load against idle.

    .venv/bin/python -m bench.memory_load [--duration 60] [--connections 200] [--port 8765]

It serves the demo database (`iocmap serve`, 2 workers, the default memory budget) on a
free loopback port and stops it afterwards. One run, this machine; numbers go into the note.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.http import free_port, get

ROOT = Path(__file__).resolve().parent.parent
LUA = """
math.randomseed(os.time())
request = function()
  local v = string.format("%.4f", math.random() * 300)
  local path = "/ogc/collections/communes/items?limit=100&filter=area_km2%20%3E%20"
  return wrk.format("GET", path .. v)
end
"""


def tree_rss(pid: int) -> int:
    """RSS of a process and all its descendants, in bytes."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        kids: list[str] = []
        # every thread's children: a worker starts its download writers from lane threads
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                kids += (task / "children").read_text().split()
        todo += [int(k) for k in kids]
    total = 0
    for p in pids:
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * os.sysconf(
                "SC_PAGE_SIZE"
            )
    return total


class Watch:
    """Samples the tree's RSS every 0.1 s and probes /healthz every 0.2 s."""

    def __init__(self, pid: int, base: str) -> None:
        self.pid, self.base = pid, base
        self.peak = 0
        self.healthz_max = 0.0
        self.healthz_fail = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._rss, self._hz)]

    def __enter__(self) -> Watch:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _rss(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            time.sleep(0.1)

    def _hz(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic()
            try:
                status, _, _ = get(self.base + "/healthz", timeout=5)
                if status != 200:
                    self.healthz_fail += 1
            except OSError:
                self.healthz_fail += 1
            self.healthz_max = max(self.healthz_max, time.monotonic() - t)
            time.sleep(0.2)


def downloads(base: str) -> dict:
    fmts = ["geojson", "gpkg", "fgb", "csv", "shp", "parquet", "xlsx"]
    crss = [4326, 3405, 3406, 5897, 5896, 5898, 5899, 4756]
    # every format twice or more (the first 16 of CRS × format): 14 of them written by a
    # child process (api/routers/downloads.py), 2 GeoJSON by the worker
    urls = [f"{base}/api/v1/download/communes.{f}?crs=EPSG:{c}" for c in crss for f in fmts][:16]
    codes: dict = {}

    def one(url: str) -> None:
        try:
            status, _, _ = get(url, timeout=300)
        except OSError as exc:
            status = type(exc).__name__
        codes[status] = codes.get(status, 0) + 1

    with cf.ThreadPoolExecutor(16) as ex:
        list(ex.map(one, urls))
    return codes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--connections", type=int, default=200)
    args = ap.parse_args(argv)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    exe = Path(sys.executable).parent / "iocmap"
    server = subprocess.Popen(
        [str(exe), "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(base + "/readyz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.5)
        time.sleep(3)
        idle = tree_rss(server.pid)
        with Watch(server.pid, base) as w, tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
            lua.write(LUA)
            lua.flush()
            out = subprocess.run(
                ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "30s",
                 "-s", lua.name, base + "/"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
        rps = next(line for line in out.splitlines() if "Requests/sec" in line).split()[-1]
        errors = next((line.strip() for line in out.splitlines() if "Socket errors" in line), "0")
        non2xx = next((line.strip() for line in out.splitlines() if "Non-2xx" in line), "0 non-2xx")
        time.sleep(10)
        after_filters = tree_rss(server.pid)
        print(
            f"CQL2: {args.connections} connections, {args.duration} s of distinct filters:"
            f" {rps} req/s,"
            f" {non2xx}, socket: {errors}; tree RSS idle {idle >> 20} MB, peak {w.peak >> 20} MB,"
            f" 10 s after {after_filters >> 20} MB; /healthz max {w.healthz_max:.2f} s,"
            f" failures {w.healthz_fail}"
        )
        with Watch(server.pid, base) as w:
            t = time.monotonic()
            codes = downloads(base)
            took = time.monotonic() - t
        time.sleep(10)
        after = tree_rss(server.pid)
        print(
            f"downloads: 16 distinct in parallel, {took:.0f} s, statuses {codes}; tree RSS peak"
            f" {w.peak >> 20} MB, 10 s after {after >> 20} MB (idle was {idle >> 20} MB);"
            f" /healthz max {w.healthz_max:.2f} s, failures {w.healthz_fail}"
        )
        return 0
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
