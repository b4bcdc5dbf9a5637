"""The import report's ``seconds`` is the wall time of the whole import, and ``phases``
say where it went: a slow read/clean shows in ``prepare``, a slow write in
``transaction`` (the issue: "seconds" once timed only the final transaction)."""

from __future__ import annotations

import time

import pytest

from geo.ingest.boundaries import BoundaryOptions, import_boundaries
from tests.test_import_boundaries import CA_MAU, tm3_shapefile

SLOW = 0.8


def test_seconds_is_the_whole_import_and_phases_show_the_slow_one(scratch, tmp_path):
    shp, _ = tm3_shapefile(tmp_path, province=CA_MAU)

    def slow_clean(step: str, done: int, total: int) -> None:
        if step == "clean coverage":  # before the transaction
            time.sleep(SLOW)

    def slow_write(point: str) -> None:
        if point == "staged":  # inside the transaction
            time.sleep(2 * SLOW)

    t0 = time.perf_counter()
    report = import_boundaries(
        scratch, shp, "commune",
        BoundaryOptions(dry_run=True, progress=slow_clean, fail_at=slow_write),
    )  # fmt: skip
    wall = time.perf_counter() - t0
    assert report.status == "dry_run", report.errors
    assert set(report.phases) == {"prepare", "lock_wait", "transaction", "after"}
    assert report.phases["prepare"] >= SLOW
    assert report.phases["transaction"] >= 2 * SLOW
    assert report.seconds >= 3 * SLOW
    assert report.seconds <= wall  # no more than the caller waited …
    assert report.seconds == pytest.approx(sum(report.phases.values()), abs=1e-6)  # … all of it
    body = report.to_dict()
    assert body["seconds"] == round(report.seconds, 3)
    assert body["phases"]["transaction"] >= 2 * SLOW
    assert not {"started", "_mark", "_phase"} & set(body)
