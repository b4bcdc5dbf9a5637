"""Issue 21's acceptance for downloads, on a real server (``iocmap serve``, 2 workers):
distinct downloads in every writer format at once, while the whole process tree's RSS is
sampled every 0.1 s and ``/healthz`` probed every 0.2 s from a process of its own.

Every download answers 200; the tree stays under 1 GB; ``/healthz`` within 1 s; no
serving worker ever maps GDAL or Arrow (the files are written by a child process that
exits, ``api/routers/downloads.py``); and a few seconds after the load the tree is back
within 20 % of its idle size.
"""

from __future__ import annotations

import concurrent.futures as cf
import http.client
import time
from pathlib import Path

import pytest

from tests.test_crowds import _probe, _serve
from tests.test_untrusted_server import tree_rss_mb

pytestmark = pytest.mark.slow
RSS_LIMIT_MB = 1024
HEALTHZ_LIMIT_S = 1.0
BACK_TO_IDLE = 1.20  # after the load, RSS within 20 % of idle
SETTLE_S = 15.0  # how long the tree may take to get there
DOWNLOADS = [  # distinct (format, CRS): each one a file written by a child
    ("gpkg", 4326), ("fgb", 3405), ("parquet", 5897), ("shp", 3406),
    ("xlsx", 4326), ("csv", 3405), ("gpkg", 5899), ("geojson", 3406),
]  # fmt: skip
HEAVY_LIBRARIES = ("libgdal", "libarrow", "pyogrio", "pyarrow")


def _get(port: int, path: str, timeout: float = 120) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, len(response.read())
    finally:
        conn.close()


def _heavy_mapped(pid: int) -> list[str]:
    """The writer libraries a process has mapped (its code, loaded by an import)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return []
    return sorted({lib for lib in HEAVY_LIBRARIES if lib in maps})


def test_parallel_downloads_stay_out_of_the_workers_and_memory_returns(db_url: str, tmp_path: Path):
    with _serve(db_url, tmp_path, IOCMAP_WORKERS="2", IOCMAP_VAR_DIR=str(tmp_path / "var")) as proc:
        port = proc.port  # type: ignore[attr-defined]
        for _ in range(4):  # both workers answer once (the summary is built)
            assert _get(port, "/api/v1/summary")[0] == 200
        time.sleep(2)
        idle, workers = tree_rss_mb(proc.pid)
        assert len(workers) >= 2  # the workers (and uvicorn's spawn helper)
        prober = _probe(port, 120)
        peak = [idle]
        statuses = []
        with cf.ThreadPoolExecutor(len(DOWNLOADS) + 1) as ex:
            sampling = True

            def sample() -> None:
                while sampling:
                    peak.append(tree_rss_mb(proc.pid)[0])
                    time.sleep(0.1)

            sampler = ex.submit(sample)
            futures = [
                ex.submit(_get, port, f"/api/v1/download/communes.{fmt}?crs=EPSG:{crs}")
                for fmt, crs in DOWNLOADS
            ]
            statuses = [f.result()[0] for f in futures]
            sampling = False
            sampler.result()
        mapped = {pid: _heavy_mapped(pid) for pid in workers}
        deadline = time.monotonic() + SETTLE_S
        after, _ = tree_rss_mb(proc.pid)
        while after > BACK_TO_IDLE * idle and time.monotonic() < deadline:
            time.sleep(1)
            after, _ = tree_rss_mb(proc.pid)
        prober.terminate()
        out, _ = prober.communicate(timeout=10)
        _, workers_after = tree_rss_mb(proc.pid)
    print(
        f"\ndownloads {statuses}; tree idle {idle:.0f} MB, peak {max(peak):.0f} MB,"
        f" after {after:.0f} MB ({after / idle - 1:+.0%})"
    )
    assert statuses == [200] * len(DOWNLOADS)
    assert mapped == {pid: [] for pid in workers}, f"a serving worker loaded {mapped}"
    assert workers <= workers_after, "a worker died (its pid is gone)"
    assert max(peak) < RSS_LIMIT_MB, f"server tree peaked at {max(peak):.0f} MB"
    assert after <= BACK_TO_IDLE * idle, f"tree {after:.0f} MB after the load, idle {idle:.0f} MB"
    samples = [(float(t), lat) for t, lat in (line.split() for line in out.splitlines())]
    slow = [(t, lat) for t, lat in samples if lat == "inf" or float(lat) > HEALTHZ_LIMIT_S]
    assert len(samples) >= 10 and not slow, f"/healthz slow or down at {slow[:10]}"
