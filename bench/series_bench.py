"""The series endpoints against a plain ``/api/v1/summary``: cold (first build after a
fresh start, i.e. a history replay in PostGIS) and warm (from the response cache).

Why in-process (Starlette's TestClient) and not wrk: what matters here is the cost of the
replay relative to the summary, not the HTTP stack, which ``bench/run.py`` measures;
both routes pay the same client overhead, so the ratios are fair.

Run: ``IOCMAP_DATABASE_URL=… .venv/bin/python -m bench.series_bench`` on a database
with the demo loaded (``iocmap demo``). Prints a Markdown table.
"""

from __future__ import annotations

import os
import statistics
import time

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

ROUTES = {
    "summary": ("/api/v1/summary", {}),
    "national weekly series, 2025": (
        "/api/v1/series",
        {"step": "week", "from": "2025-01-01", "to": "2025-12-31"},
    ),
    "national quarterly series, 2025": ("/api/v1/series", {"step": "quarter"}),
    "province weekly series (Nghệ An)": ("/api/v1/units/40/series", {"step": "week"}),
    "commune weekly series (00004)": ("/api/v1/units/00004/series", {"step": "week"}),
}
COLD_RUNS = 3
WARM_RUNS = 200


def _time(client: TestClient, path: str, params: dict) -> float:
    start = time.perf_counter()
    r = client.get(path, params=params)
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, r.text
    return elapsed


def measure(url: str) -> dict[str, tuple[float, float]]:
    """route → (median cold ms, median warm ms)."""
    out: dict[str, tuple[float, float]] = {}
    for name, (path, params) in ROUTES.items():
        cold = []
        for _ in range(COLD_RUNS):  # a fresh app each time: empty response cache
            with TestClient(create_app(Settings(database_url=url))) as client:
                cold.append(_time(client, path, params))
        with TestClient(create_app(Settings(database_url=url))) as client:
            _time(client, path, params)
            warm = [_time(client, path, params) for _ in range(WARM_RUNS)]
        out[name] = (1000 * statistics.median(cold), 1000 * statistics.median(warm))
    return out


def main() -> None:
    os.environ.setdefault("IOCMAP_LOG_LEVEL", "WARNING")
    results = measure(os.environ["IOCMAP_DATABASE_URL"])
    base_cold, base_warm = results["summary"]
    print("| route | cold ms | warm ms | cold ÷ summary | warm ÷ summary |")
    print("|---|---|---|---|---|")
    for name, (cold, warm) in results.items():
        ratios = f"{cold / base_cold:.2f} | {warm / base_warm:.2f}"
        print(f"| {name} | {cold:.1f} | {warm:.2f} | {ratios} |")


if __name__ == "__main__":
    main()
