"""iocmap against tipg on the same PostGIS and the same real-sized geometry, with wrk.

Why one module (≈530 lines): a benchmark is read top to bottom as one procedure (build the
data, start both servers, run each scenario, write results.md); splitting it would hide the
order the numbers depend on.

Run: ``make bench`` (= ``.venv/bin/python -m bench.run``). Steps: build the bench
database once (``iocmap_bench``, see bench/data.py), install tipg into its own venv
(var/bench-venv, so its pins never touch ours), start both servers with uvicorn
(2 workers, httptools + uvloop), time each one's first national request (cold), then
run wrk on loopback for every scenario and print one table (also written to
bench/results.md). Everything listens on 127.0.0.1 with free ports; every process
started here is stopped here.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import data
from bench.http import free_port, get
from geo.db import make_engine, normalise_url

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "var" / "bench-venv"
TIPG_VERSION = "1.6.1"
RESULTS = Path(__file__).resolve().parent / "results.md"
NORTH_Z6 = (6, 50, 28)  # the z=6 tile over Hà Nội and the northern provinces
PROVINCE = "40"  # Nghệ An, 130 communes
COMMUNE = "00004"  # Phường Ba Đình
CQL2_FILTER = f"completion_pct > 50 AND province_code = '{PROVINCE}'"


@dataclass
class Scenario:
    key: str
    title: str
    ours: str
    tipg: str | None
    duration: int = 10
    target: float | None = None  # required ratio of req/s
    connections: int | None = None  # None = the run's default (16)


SCENARIOS = [
    Scenario(
        "a",
        f"one province's communes with figures ({PROVINCE})",
        f"/api/v1/communes?province={PROVINCE}",
        f"/collections/tipg.communes/items?province_code={PROVINCE}&limit=1000",
        target=10,
    ),
    Scenario(
        "b",
        "all 3,321 communes, full resolution",
        "/api/v1/communes",
        "/collections/tipg.communes/items?limit=5000",
        duration=30,
        target=10,
        # 16 parallel 12–16 MB bodies on 2 cores: tipg finishes none within the run, and
        # wrk only counts finished requests. 4 connections give both a measurable rate.
        connections=4,
    ),
    Scenario(
        "c",
        "MVT tile z=6 over northern Vietnam",
        "/tiles/communes/{z}/{x}/{y}.mvt".format(**dict(zip("zxy", NORTH_Z6, strict=True))),
        "/collections/tipg.communes/tiles/WebMercatorQuad/{z}/{x}/{y}".format(
            **dict(zip("zxy", NORTH_Z6, strict=True))
        ),
        target=3,
    ),
    Scenario(
        "d",
        "one commune by code",
        f"/api/v1/communes/{COMMUNE}",
        f"/collections/tipg.communes/items/{COMMUNE}",
        target=3,
    ),
    # OGC API – Features Part 3 and sorting (issue 13): the same CQL2 text and sort keys
    Scenario(
        "f",
        "CQL2 filter: completion_pct > 50 AND province_code = '40'",
        "/ogc/collections/communes/items?limit=1000&filter=" + quote(CQL2_FILTER),
        "/collections/tipg.communes/items?limit=1000&filter-lang=cql2-text&filter="
        + quote(CQL2_FILTER),
        target=3,
    ),
    Scenario(
        "g",
        "sorted page: sortby=-completion_pct,code, 100 communes",
        "/ogc/collections/communes/items?limit=100&sortby=-completion_pct,code",
        "/collections/tipg.communes/items?limit=100&sortby=-completion_pct,code",
        target=3,
    ),
]


def ensure_tipg() -> Path:
    """tipg and uvicorn[standard] in their own venv (created once)."""
    uvicorn = VENV / "bin" / "uvicorn"
    marker = VENV / f".tipg-{TIPG_VERSION}"
    if not marker.exists():
        if not (VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [
                str(VENV / "bin" / "pip"),
                "install",
                "-q",
                f"tipg=={TIPG_VERSION}",
                "uvicorn[standard]",
            ],
            check=True,
        )
        marker.touch()
    return uvicorn


class Server:
    """A uvicorn process on a free loopback port, stopped by its own process group."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        env: dict[str, str],
        ready_path: str,
        ready_timeout: float = 60,
    ):
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full = [*cmd, "--host", "127.0.0.1", "--port", str(self.port)]
        self.log = open(ROOT / "var" / f"bench-{name}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            full,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait(ready_path, ready_timeout)

    def _wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see var/bench-{self.name}.log")
            try:
                status, _, _ = get(self.base + path, timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def timed_get(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    status, body, _ = get(url)
    if status != 200:
        raise RuntimeError(f"{url}: HTTP {status}: {body[:200]!r}")
    return (time.perf_counter() - start) * 1000, len(body)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", value)
    if not m:
        raise ValueError(value)
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class WrkResult:
    rps: float
    p50: float
    p99: float
    requests: int
    errors: str


def wrk(url: str, duration: int, connections: int, threads: int = 2) -> WrkResult:
    """wrk on loopback; latency percentiles from --latency."""
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "60s",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    err = re.search(r"(Socket errors:.*|Non-2xx or 3xx responses: \d+)", out)
    return WrkResult(rps, p50, p99, n, err.group(1) if err else "")


NGINX_SCENARIOS = ("d", "a")  # one commune; one province's communes
NGINX_TARGET = 0.5  # iocmap's warm hit at least half of what nginx does with the same bytes


def nginx_rows(ours: Server, workers: int, connections: int, duration: int) -> list[dict]:
    """iocmap's warm hit against nginx sending the same bytes as a static file (same
    worker count, same connections, identity bodies): the physical limit of the box."""
    from bench.static import StaticNginx

    chosen = [sc for sc in SCENARIOS if sc.key in NGINX_SCENARIOS]
    files = {}
    for sc in chosen:
        for _ in range(2 * workers):
            timed_get(ours.base + sc.ours)
        _, body, hdr = get(ours.base + sc.ours)
        files[f"/{sc.key}.body"] = (body, hdr.get("content-type", "application/octet-stream"))
    rows = []
    with StaticNginx(files, workers=workers) as nginx:
        for sc in chosen:
            print(f"({sc.key}) {sc.title}: nginx static vs iocmap, wrk {duration}s × 2 …")
            r_n = wrk(nginx.base + f"/{sc.key}.body", duration, connections)
            r_o = wrk(ours.base + sc.ours, duration, connections)
            size = len(files[f"/{sc.key}.body"][0])
            rows.append({"sc": sc, "nginx": r_n, "ours": r_o, "bytes": size})
    return rows


def nginx_report(rows: list[dict], workers: int, connections: int) -> str:
    lines = [
        "",
        f"## Against the physical limit: nginx serving the same bytes as a static file "
        f"({workers} worker(s) each, {connections} connections, identity bodies)",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | bytes | ratio (req/s) | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        sc, o, n = row["sc"], row["ours"], row["nginx"]
        ratio = o.rps / n.rps if n.rps else float("nan")
        ok = "✅" if ratio >= NGINX_TARGET else "❌"
        lines.append(
            f"| ({sc.key}) {sc.title} | nginx static | {n.rps:,.0f} | {n.p50:.1f} | "
            f"{n.p99:.1f} | {fmt_bytes(row['bytes'])} | | |"
        )
        lines.append(
            f"| | **iocmap** | **{o.rps:,.0f}** | {o.p50:.1f} | {o.p99:.1f} | "
            f"{fmt_bytes(row['bytes'])} | **{ratio:.2f}** | ≥ {NGINX_TARGET} {ok} |"
        )
    return "\n".join(lines)


def fmt_bytes(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default="iocmap_bench")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the bench data")
    ap.add_argument("--quick", action="store_true", help="3 s per scenario (smoke run)")
    ap.add_argument(
        "--nginx-only",
        action="store_true",
        help="only iocmap against nginx static (no tipg); prints, writes nothing",
    )
    ap.add_argument(
        "--only",
        help="comma-separated scenario keys (e.g. f,g): those rows against tipg only, "
        "printed and written to bench/results_ogc.md (results.md untouched)",
    )
    args = ap.parse_args()

    base_url = os.environ.get("IOCMAP_DATABASE_URL") or _local_url()
    url = make_url(normalise_url(base_url)).set(database=args.database)
    url_s = url.render_as_string(hide_password=False)
    plain_url = url_s.replace("postgresql+psycopg://", "postgresql://")

    print(f"bench database: {url.database}", flush=True)
    data.ensure_database(url_s)
    engine = make_engine(url_s)
    if args.rebuild or not data.is_loaded(engine):
        print("building real-sized data (densify + levels + figures, ~1–2 min)…", flush=True)
        data.load(engine)
    with engine.connect() as conn:
        as_of = conn.execute(text("select reporting_date from data_state")).scalar_one()
    data.make_tipg_table(engine, as_of)
    vertices = data.vertex_count(engine)
    print(f"communes: 3,321, vertices: {vertices:,}", flush=True)
    duration_scale = 0.3 if args.quick else 1.0
    if args.nginx_only:
        return _nginx_only(url_s, args, max(3, int(10 * duration_scale)))
    uvicorn_tipg = ensure_tipg()

    common = _uvicorn_flags(args.workers)
    servers: list[Server] = []
    rows: list[dict] = []
    try:
        tipg = Server(
            "tipg",
            [str(uvicorn_tipg), "tipg.main:app", *common],
            {
                "DATABASE_URL": plain_url,
                "TIPG_DB_SCHEMAS": '["tipg"]',
                "TIPG_MAX_FEATURES_PER_QUERY": "10000",
            },
            "/collections/tipg.communes",
        )
        servers.append(tipg)
        cold_tipg, _ = timed_get(tipg.base + SCENARIOS[1].tipg)
        ours = Server(
            "iocmap",
            [str(ROOT / ".venv" / "bin" / "uvicorn"), "api.main:app", *common],
            {
                "IOCMAP_DATABASE_URL": url_s,
                "IOCMAP_LOG_LEVEL": "WARNING",
                "IOCMAP_WORKERS": str(args.workers),
            },
            "/healthz",
        )
        servers.append(ours)
        cold_ours, _ = timed_get(ours.base + SCENARIOS[1].ours)
        # uncached but warm process: a new data version, after the 1 s version TTL
        with engine.begin() as conn:
            conn.execute(text("update data_state set version = version + 1"))
        time.sleep(1.2)
        rebuild_ms = min(timed_get(ours.base + SCENARIOS[1].ours)[0] for _ in range(1))

        chosen = [sc for sc in SCENARIOS if not args.only or sc.key in args.only.split(",")]
        for sc in chosen:
            dur = max(3, int(sc.duration * duration_scale))
            # warm both (every worker: a few requests each)
            for _ in range(2 * args.workers):
                timed_get(ours.base + sc.ours)
                timed_get(tipg.base + sc.tipg)
            _, ours_body, _ = get(ours.base + sc.ours)
            _, tipg_body, _ = get(tipg.base + sc.tipg)
            print(f"({sc.key}) {sc.title}: wrk {dur}s × 2 …", flush=True)
            conns = sc.connections or args.connections
            r_t = wrk(tipg.base + sc.tipg, dur, conns)
            r_o = wrk(ours.base + sc.ours, dur, conns)
            rows.append(
                {
                    "sc": sc,
                    "ours": r_o,
                    "tipg": r_t,
                    "ours_bytes": len(ours_body),
                    "tipg_bytes": len(tipg_body),
                    "connections": conns,
                }
            )
        if args.only:
            return _only_report(rows)
        # (b′) display-resolution sizes (ours only), gzip as a browser would get it
        sizes = {}
        for label, path in (
            ("provinces, national display (zoom=5)", "/api/v1/provinces?zoom=5"),
            ("communes, national display (zoom=6)", "/api/v1/communes?zoom=6"),
        ):
            _, body, hdr = get(ours.base + path, {"Accept-Encoding": "gzip"})
            raw = gzip.decompress(body) if hdr.get("content-encoding") == "gzip" else body
            sizes[label] = (len(raw), len(body))
        # the per-request version check, measured: a third server reading data_state always
        exact = Server(
            "iocmap-ttl0",
            [str(ROOT / ".venv" / "bin" / "uvicorn"), "api.main:app", *common],
            {
                "IOCMAP_DATABASE_URL": url_s,
                "IOCMAP_LOG_LEVEL": "WARNING",
                "IOCMAP_VERSION_TTL": "0",
            },
            "/healthz",
        )
        servers.append(exact)
        for _ in range(4):
            timed_get(exact.base + SCENARIOS[3].ours)
        r_exact = wrk(
            exact.base + SCENARIOS[3].ours, max(3, int(10 * duration_scale)), args.connections
        )
        exact.stop()
        servers.remove(exact)
        tipg.stop()
        servers.remove(tipg)
        near = nginx_rows(ours, args.workers, args.connections, max(3, int(10 * duration_scale)))
    finally:
        for s in servers:
            s.stop()
        engine.dispose()

    report = _report(rows, cold_ours, cold_tipg, rebuild_ms, sizes, r_exact, vertices, args)
    report += "\n" + nginx_report(near, args.workers, args.connections)
    print("\n" + report)
    RESULTS.write_text(report + "\n")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


def _only_report(rows: list[dict]) -> int:
    """The chosen rows alone, with the load average (the machine is shared)."""
    lines = [
        "# iocmap vs tipg — chosen rows "
        f"(`python -m bench.run --only {','.join(r['sc'].key for r in rows)}`)",
        "",
        f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | body | ratio |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        sc, o, t = row["sc"], row["ours"], row["tipg"]
        ratio = o.rps / t.rps if t.rps else float("inf")
        ok = "✅" if sc.target is None or ratio >= sc.target else "❌"
        lines.append(f"| ({sc.key}) {sc.title} | tipg | {t.rps:,.1f} | {t.p50:.1f} | "
                     f"{t.p99:.1f} | {fmt_bytes(row['tipg_bytes'])} | |")  # fmt: skip
        body = fmt_bytes(row["ours_bytes"])
        lines.append(f"| | **iocmap** | {o.rps:,.1f} | {o.p50:.1f} | {o.p99:.1f} | {body} | "
                     f"{ratio:.1f}× (≥ {sc.target}× {ok}) |")  # fmt: skip
    report = "\n".join(lines)
    print("\n" + report)
    (RESULTS.parent / "results_ogc.md").write_text(report + "\n")
    return 0


def _report(rows, cold_ours, cold_tipg, rebuild_ms, sizes, r_exact, vertices, args) -> str:
    lines = [
        "# iocmap vs tipg — results",
        "",
        f"Same PostGIS, same geometry (3,321 communes, {vertices:,} vertices), loopback, "
        f"wrk 2 threads, both servers uvicorn "
        f"{args.workers} workers (httptools + uvloop), identity bodies (no Accept-Encoding). "
        f"Machine: {os.cpu_count()} cores. Generated by `make bench` on "
        f"{time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | bytes | ratio (req/s) | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        sc, o, t = row["sc"], row["ours"], row["tipg"]
        ratio = o.rps / t.rps if t.rps else float("nan")
        ok = "✅" if ratio >= (sc.target or 0) and o.p99 <= t.p99 else "❌"
        lines.append(
            f"| ({sc.key}) {sc.title}, {row['connections']} conn. | tipg | {t.rps:,.1f} | "
            f"{t.p50:.1f} | {t.p99:.1f} | {fmt_bytes(row['tipg_bytes'])} | | |"
        )
        lines.append(
            f"| | **iocmap** | **{o.rps:,.1f}** | {o.p50:.1f} | {o.p99:.1f} | "
            f"{fmt_bytes(row['ours_bytes'])} | **{ratio:,.1f}×** | ≥{sc.target:g}× and p99 ≤ "
            f"tipg {ok} |"
        )
    ok_e = "✅" if cold_ours <= cold_tipg else "❌"
    lines.append(f"| (e) cold first national request | tipg | | {cold_tipg:.0f} | | | | |")
    lines.append(
        f"| | **iocmap** | | {cold_ours:.0f} | | | {cold_tipg / cold_ours:.1f}× faster | "
        f"≤ tipg {ok_e} |"
    )
    lines.append(
        f"| (e′) new data version, warm process (uncached rebuild) | iocmap | | "
        f"{rebuild_ms:.0f} | | | | |"
    )
    for label, (raw, gz) in sizes.items():
        limit = 300e3 if label.startswith("provinces") else 3e6
        ok = "✅" if gz <= limit else "❌"
        lines.append(
            f"| (b′) {label} | iocmap | | | | {fmt_bytes(raw)} raw, **{fmt_bytes(gz)} gzip** "
            f"| | ≤ {fmt_bytes(int(limit))} gz {ok} |"
        )
    d = next(r for r in rows if r["sc"].key == "d")["ours"]
    lines += [
        "",
        f"Version check per request, measured on (d): with the 1 s in-process version TTL "
        f"{d.rps:,.0f} req/s (p99 {d.p99:.1f} ms); reading `data_state` on every request "
        f"(`IOCMAP_VERSION_TTL=0`) {r_exact.rps:,.0f} req/s (p99 {r_exact.p99:.1f} ms).",
        "",
        "tipg reads a table with the same lean figures precomputed (its best case); iocmap "
        "computes the figures from the tasks for the as-of date and caches the bytes per "
        "data version. (c) iocmap cuts tiles from the stored z6 level, tipg from full "
        "resolution. (e) is each server's first request after start.",
    ]
    return "\n".join(lines)


def _nginx_only(url_s: str, args: argparse.Namespace, duration: int) -> int:
    """The nginx comparison alone (a few minutes less than the whole run, no tipg)."""
    ours = Server(
        "iocmap",
        [
            str(ROOT / ".venv" / "bin" / "uvicorn"),
            "api.main:app",
            *_uvicorn_flags(args.workers),
        ],
        {
            "IOCMAP_DATABASE_URL": url_s,
            "IOCMAP_LOG_LEVEL": "WARNING",
            "IOCMAP_WORKERS": str(args.workers),
        },
        "/healthz",
    )
    try:
        rows = nginx_rows(ours, args.workers, args.connections, duration)
    finally:
        ours.stop()
    print(nginx_report(rows, args.workers, args.connections))
    return 0


def _uvicorn_flags(workers: int) -> list[str]:
    """What both servers run with (ours is told the worker count by IOCMAP_WORKERS, to
    take its share of IOCMAP_DB_CONCURRENCY: uvicorn's --workers does not say it)."""
    return [
        "--workers",
        str(workers),
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def _local_url() -> str:
    from iocmap import devdb as localdb

    return localdb.up().url


if __name__ == "__main__":
    raise SystemExit(main())
