"""Issue 21's acceptance for files, on a real server: ``iocmap serve`` with 2 workers.

Each hostile file of the issue's table is uploaded in turn (the large ones are written to
the test's temporary folder, never committed) while, from other processes and threads,
``/healthz`` is probed every 0.2 s, 20 clients poll ``/api/v1/summary`` and the RSS of the
whole process tree (server, workers and any parsing child) is sampled every 0.1 s. Each
upload must be a 4xx naming its limit within 5 s, ``/healthz`` must answer within 1 s
throughout, the tree must stay under 1 GB, no worker may die, the pollers see no error and
the stored data does not change.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests import hostile_files as hostile
from tests.import_fixtures import table_versions
from tests.test_crowds import _probe, _serve, _upload

pytestmark = pytest.mark.slow
TOKEN = "untrusted-server-admin-token"
REFUSE_WITHIN_S = 5.0
HEALTHZ_LIMIT_S = 1.0
RSS_LIMIT_MB = 1024
POLLERS = 20


def tree_rss_mb(root: int) -> tuple[float, set[int]]:
    """RSS of ``root`` and all its descendants (MB), and its direct children's pids."""
    out = subprocess.run(
        ["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True, check=False
    ).stdout
    procs = [tuple(int(x) for x in line.split()) for line in out.splitlines() if line.strip()]
    children: dict[int, list[int]] = {}
    rss = {}
    for pid, ppid, kb in procs:
        children.setdefault(ppid, []).append(pid)
        rss[pid] = kb
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / 1024, set(children.get(root, []))


def _poll(port: int, stop: threading.Event, errors: list, answers: list) -> None:
    """One keep-alive client asking for the summary until told to stop."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        try:
            conn.request("GET", "/api/v1/summary")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
            answers.append(1)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(repr(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        time.sleep(0.2)
    conn.close()


def test_hostile_files_of_issue_21_on_a_real_server(scratch, scratch_url: str, tmp_path: Path):
    files = []
    for case, (build, name, kind, limit) in hostile.LARGE_CASES.items():
        route = f"/api/v1/imports/{kind}" + ("?level=commune" if kind == "boundaries" else "")
        files.append((case, route, name, build(tmp_path / name), limit))
    before = table_versions(scratch)
    with _serve(scratch_url, tmp_path, IOCMAP_ADMIN_TOKEN=TOKEN, IOCMAP_WORKERS="2") as proc:
        port = proc.port  # type: ignore[attr-defined]
        for _ in range(2):  # both workers warm (the summary built once)
            assert _upload_ok(port)
        peak_rss, workers = tree_rss_mb(proc.pid)
        idle = {pid: round(tree_rss_mb(pid)[0]) for pid in workers}
        peak = [peak_rss]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.1):
                peak.append(tree_rss_mb(proc.pid)[0])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        errors: list = []
        answers: list = []
        pollers = [
            threading.Thread(target=_poll, args=(port, stop, errors, answers), daemon=True)
            for _ in range(POLLERS)
        ]
        for t in pollers:
            t.start()
        prober = _probe(port, 600)
        outcomes = {}
        for case, route, name, path, limit in files:
            body = path.read_bytes()
            first = len(peak)
            start = time.monotonic()
            status, answer = _upload(port, route, name, body, TOKEN)
            elapsed = time.monotonic() - start
            detail = json.loads(answer)
            during = max(peak[first - 1 :])  # the tree's peak while this file was handled
            outcomes[case] = (status, round(elapsed, 2), round(during))
            assert 400 <= status < 500, (case, status, answer[:300])
            assert detail["errors"][0]["limit"] == limit, (case, detail)
            assert detail["errors"][0]["file"] == name and name in detail["detail"]
            assert detail["errors"][0]["stage"] == "count" and "count" in detail["detail"]
            assert limit in detail["detail"] and detail["detail"].startswith("Tệp ")
            assert elapsed < REFUSE_WITHIN_S, f"{case}: {status} after {elapsed:.1f} s"
        time.sleep(2)
        prober.terminate()
        out, _ = prober.communicate(timeout=10)
        stop.set()
        for t in pollers:
            t.join(15)
        sampler.join(5)
        _, workers_after = tree_rss_mb(proc.pid)
    print(f"\nidle: tree {peak[0]:.0f} MB; per worker (MB): {idle}")
    print("issue-21 hostile files (status, seconds, tree peak MB meanwhile):", outcomes)
    print(f"tree RSS peak {max(peak):.0f} MB; summary answers {len(answers)}")
    samples = [(float(t), lat) for t, lat in (line.split() for line in out.splitlines())]
    slow = [(t, lat) for t, lat in samples if lat == "inf" or float(lat) > HEALTHZ_LIMIT_S]
    assert len(samples) >= 10 and not slow, f"/healthz slow or down at {slow[:10]}"
    assert max(peak) < RSS_LIMIT_MB, f"server tree peaked at {max(peak):.0f} MB"
    assert workers <= workers_after, "a worker died (its pid is gone)"
    assert errors == [], f"summary pollers saw {errors[:10]}"
    assert len(answers) > POLLERS
    assert table_versions(scratch) == before


def _upload_ok(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/api/v1/summary")
        response = conn.getresponse()
        response.read()
        return response.status == 200
    finally:
        conn.close()
