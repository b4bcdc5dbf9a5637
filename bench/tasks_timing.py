"""Time `/api/v1/units/{code}/tasks?limit=500` on a running server (session 7 re-measure).

Usage: python -m bench.tasks_timing BASE_URL CODE [CODE ...]

Answers are cached per data version and URL, so "uncached" is the first request of each of
the five sort orders (five distinct URLs, each built by the database once); "cached" is the
median of 20 repeats of one URL afterwards. Prints one line per code: tasks, bytes, median
uncached ms, median cached ms. Run it against two servers on the same database (before and
after a change) while the machine is otherwise as quiet as it gets.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import urllib.request

SORTS = ("deadline", "-deadline", "status", "group_no", "title")


def _get(url: str) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as r:
        body = r.read()
    return (time.perf_counter() - t0) * 1000, body


def main() -> int:
    base, codes = sys.argv[1].rstrip("/"), sys.argv[2:]
    for code in codes:
        path = f"{base}/api/v1/units/{code}/tasks?limit=500"
        cold = []
        for s in SORTS:
            ms, body = _get(f"{path}&sort={s}")
            cold.append(ms)
        warm = [_get(f"{path}&sort=deadline")[0] for _ in range(20)]
        doc = json.loads(body)
        n = len(doc.get("tasks") or doc.get("items") or doc.get("features") or [])
        print(
            f"{code}\ttasks {n}\tbytes {len(body)}\tuncached {statistics.median(cold):.1f} ms"
            f"\tcached {statistics.median(warm):.1f} ms",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
