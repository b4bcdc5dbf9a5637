"""Map pages in headless Chromium: time to a drawn map, and the wall's memory over time.

    .venv/bin/python -m bench.maps_bench [--database-url URL] [--runs 5] [--cycles 1000]

What it measures (the issue's targets in brackets):
- national map ``/``: navigation start → polygons drawn and interactive (``IOC.drawnAt``,
  set by ioc-map.js), first request on a cold server cache and the median of N fresh
  browser contexts (no HTTP cache) on a warm one [< 2 s];
- province page ``/p/40`` the same way [< 1 s];
- wall ``/wall``: JS heap used (CDP ``Performance.getMetrics`` → ``JSHeapUsedSize`` after
  ``HeapProfiler.collectGarbage``) after 10 and after N refresh cycles at a 50 ms refresh
  interval (also after 100): in normal ETag mode (304s), with ``force=1`` (every cycle
  refetches and redraws everything: the worst case), and with rotation [growth ≤ 10 %].
The server is the real app under uvicorn on a free loopback port, in this process.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import threading
import time

import uvicorn
from playwright.sync_api import sync_playwright

from api.app import create_app
from api.settings import Settings

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def serve(database_url: str | None) -> tuple[str, uvicorn.Server, threading.Thread]:
    """The app on 127.0.0.1 and a free port (never 8000)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(database_url=database_url) if database_url else Settings())
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def time_to_drawn(browser, url: str) -> float:
    """Milliseconds from navigation start to the map drawn, in a fresh context (no cache)."""
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.goto(url, wait_until="load")
    deadline = time.monotonic() + 30
    while page.evaluate("() => window.IOC && IOC.drawnAt") in (None, False):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} never drew")
        page.wait_for_timeout(10)
    ms = float(page.evaluate("() => IOC.drawnAt"))
    ctx.close()
    return ms


def heap_after(page, cdp, cycles: int, timeout: float) -> float:
    """JS heap used (MB) after GC, once the wall has done ``cycles`` refreshes."""
    deadline = time.monotonic() + timeout
    while page.evaluate("() => (window.IOC && IOC.wall) ? IOC.wall.cycles : 0") < cycles:
        if time.monotonic() > deadline:
            raise RuntimeError(f"wall did not reach {cycles} cycles in {timeout:.0f} s")
        page.wait_for_timeout(100)
    for _ in range(3):
        cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["JSHeapUsedSize"] / 1e6


def wall_memory(browser, base: str, cycles: int, query: str) -> tuple[list[float], float]:
    """Heap (MB, after GC) at 10, 100 and ``cycles`` refreshes, and the seconds taken."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    t0 = time.monotonic()
    page.goto(f"{base}/wall?refresh=0.05&{query}", wait_until="load")
    heaps = [heap_after(page, cdp, n, n * 1.0 + 60) for n in (10, 100, cycles)]
    took = time.monotonic() - t0
    failures = page.evaluate("() => IOC.wall.failures")
    if failures:
        print(f"  (note: {failures} failed refreshes at the end)")
    page.close()
    return heaps, took


WALL_RUNS = (
    ("ETag (304 path), no rotation", "views=national&dwell=0"),
    ("force=1: full refetch + redraw every cycle", "views=national&dwell=0&force=1"),
    ("force=1 + rotation every 0.5 s", "views=national,north,overdue,dti&dwell=0.5&force=1"),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default=None, help="default: IOCMAP_DATABASE_URL / local")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cycles", type=int, default=1000)
    args = ap.parse_args()
    base, server, thread = serve(args.database_url)
    rows = []
    try:
        with sync_playwright() as pw:
            exe = shutil.which("chromium") or "/usr/bin/chromium"
            browser = pw.chromium.launch(executable_path=exe, headless=True, args=ARGS)
            pages = (("national /", "/", 2000), ("province /p/40", "/p/40", 1000))
            for name, path, target in pages:
                cold = time_to_drawn(browser, base + path)
                warm = [time_to_drawn(browser, base + path) for _ in range(args.runs)]
                med = statistics.median(warm)
                rows.append(
                    f"| {name} | {cold:,.0f} ms | {med:,.0f} ms (max {max(warm):,.0f}) "
                    f"| < {target:,} ms | {'ok' if med < target else 'MISSED'} |"
                )
            for mode, query in WALL_RUNS:
                (h10, h100, hn), took = wall_memory(browser, base, args.cycles, query)
                growth = 100 * (hn - h10) / h10
                rows.append(
                    f"| wall, {mode} | heap {h10:.2f} MB @10, {h100:.2f} MB @100 "
                    f"| {hn:.2f} MB @{args.cycles} ({took:.0f} s) | ≤ +10 % "
                    f"| {growth:+.1f} % {'ok' if growth <= 10 else 'MISSED'} |"
                )
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    print("| page | cold server | warm (median of runs) | target | result |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
