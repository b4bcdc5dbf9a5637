"""What a sandboxed file read costs before its first byte: a child forked by the zygote
(``geo/ingest/zygote.py``) against a fresh interpreter per file (``sandbox_zygote=false``,
what ``multiprocessing``'s spawn would do too), for each family of tasks.

Run: ``.venv/bin/python -m bench.sandbox_start [--runs N]``. Prints, per task, the median
wall time of one small read and the CPU the children used (server process excluded), and
the ratio fresh ÷ zygote; writes nothing. One run, on whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from geo.ingest import sandbox, zygote
from geo.ingest.sheet_files import SheetLimits
from geo.ingest.vector_files import VectorLimits


def _children_cpu() -> float:
    """CPU of this process's reaped children plus that of the zygotes and the children
    they reaped (a zygote's children are not ours)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = r.ru_utime + r.ru_stime
    for family, _ in set(sandbox.ZYGOTE_FAMILIES.values()):
        pid = zygote.running(family)
        if pid is not None:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def _cases(folder: Path) -> list[tuple[str, Path, dict]]:
    """One small legitimate file per task: a CSV sheet, an XLSX sheet, a GeoJSON layer."""
    import openpyxl

    csv = folder / "tasks.csv"
    csv.write_text("ma_xa,ten\n00004,Ba Đình\n", encoding="utf-8")
    xlsx = folder / "tasks.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["ma_xa", "ten"])
    book.active.append(["00004", "Ba Đình"])
    book.save(xlsx)
    layer = folder / "xa.geojson"
    square = [[[105.0, 21.0], [105.1, 21.0], [105.1, 21.1], [105.0, 21.1], [105.0, 21.0]]]
    layer.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"ma_xa": "00004"},
                        "geometry": {"type": "Polygon", "coordinates": square},
                    }
                ],
            }
        )
    )
    sheet = {"limits": asdict(SheetLimits())}
    vector = {"limits": asdict(VectorLimits()), "level": "commune", "layer": None}
    return [
        ("sheet_csv", csv, sheet),
        ("sheet_xlsx", xlsx, sheet),
        ("vector", layer, vector),
    ]


def _time(task: str, path: Path, args: dict, runs: int) -> tuple[float, float]:
    """Median wall seconds of one read, and children's CPU seconds per read."""
    walls = []
    cpu = _children_cpu()
    for _ in range(runs):
        start = time.perf_counter()
        sandbox.run(task, path, path.name, args)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), (_children_cpu() - cpu) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'task':<11} {'fresh':>9} {'zygote':>9} {'ratio':>6}   CPU per read (children)")
        for task, path, args in _cases(Path(tmp)):
            sandbox.configure(sandbox.current_limits(), use_zygote=False)
            fresh, fresh_cpu = _time(task, path, args, opts.runs)
            sandbox.configure(sandbox.current_limits(), use_zygote=True)
            sandbox.run(task, path, path.name, args)  # the zygote starts (once per server)
            forked, forked_cpu = _time(task, path, args, opts.runs)
            print(
                f"{task:<11} {1000 * fresh:7.0f}ms {1000 * forked:7.0f}ms {fresh / forked:5.1f}×"
                f"   {1000 * fresh_cpu:.0f} ms → {1000 * forked_cpu:.0f} ms"
            )
        zygote.close_all()


if __name__ == "__main__":
    main()
