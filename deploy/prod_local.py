"""`make prod-local`: nginx → 2 API processes → PostGIS primary + streaming replica, on loopback.

python -m deploy.prod_local            # up, serve until Ctrl-C, tear down (make prod-local)
python -m deploy.prod_local check      # up, bounded load + crash + write check, JSON, down
python -m deploy.prod_local up         # up and return (state in var/prod/local/state.json)
python -m deploy.prod_local down       # stop what `up` started, remove var/prod/local
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from deploy import topology


def _print(msg: str) -> None:
    print(f"[prod-local] {msg}", file=sys.stderr, flush=True)


def _banner(t: topology.Topology) -> None:
    _print(f"ready in {t.timings.get('up_s')} s — open {t.url}/  (readiness: {t.url}/readyz)")
    _print(f"API processes: {', '.join(t.api_url(i) for i in range(len(t.api_ports)))}")
    _print(f"primary (writes): {topology.Topology.dsn(t.primary)}")
    _print(f"replica (GETs):   {topology.Topology.dsn(t.replica)}")
    _print(f"logs and data: {t.root}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deploy.prod_local", description=__doc__)
    ap.add_argument("command", nargs="?", default="run", choices=["run", "check", "up", "down"])
    ap.add_argument("--name", default="local", help="directory under var/prod/")
    ap.add_argument("--requests", type=int, default=1500, help="check: number of requests")
    args = ap.parse_args(argv)
    root = topology.PROD_ROOT / args.name

    if args.command == "down":
        topology.teardown_root(root)
        _print(f"stopped and removed {root}")
        return 0

    t = topology.new(args.name, detached=args.command == "up")
    topology.up(t, _print)
    if args.command == "up":
        _banner(t)
        _print("left running: `python -m deploy.prod_local down` stops it")
        return 0
    try:
        if args.command == "check":
            from deploy.check import run_check

            report = run_check(t, total=args.requests)
            print(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            _banner(t)
            topology.start_reports(t)
            topology.start_worker(t)
            _print(f"delivery worker: iocmap worker (log {t.root / 'worker.log'})")
            _print(f"weekly report run: {t.root / 'reports'} (listed at {t.url}/api/v1/reports;"
                   f" log {t.root / 'reports.log'})")  # fmt: skip
            _print("Ctrl-C stops everything")
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored
                signal.signal(sig, lambda *_: stop.set())
            while not stop.wait(1.0):
                pass
    finally:
        _print(f"torn down in {topology.down(t)} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
