"""The sandbox's children forked by a pre-imported zygote (``geo/ingest/zygote.py``): each
child still has its limits, no network and no secret, and what goes wrong with a zygote —
a child past its wall time, a zygote killed, a server killed — leaves no process behind
and never stops a file from being read (a new zygote, or a fresh interpreter, reads it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import pytest

from geo.errors import BadInput, LimitExceeded
from geo.ingest import sandbox, zygote

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def own_zygotes():
    """Each test starts with no zygote in this process and leaves none."""
    zygote.close_all()
    yield
    zygote.close_all()


def _selftest(tmp_path: Path, wall_seconds: float = 30, **args) -> dict:
    target = tmp_path / "x.bin"
    target.write_bytes(b"x")
    limits = sandbox.replace_limits(memory_mb=300, cpu_seconds=2, wall_seconds=wall_seconds)
    return sandbox.run("selftest", target, "x.bin", args, limits).result


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_children_come_from_one_zygote_each_with_its_limits_and_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("IOCMAP_DATABASE_URL", "postgresql://owner:secret@db/iocmap")
    monkeypatch.setenv("IOCMAP_ADMIN_TOKEN", "secret-token")
    first, second = _selftest(tmp_path), _selftest(tmp_path)
    z = zygote.running("selftest")
    assert z is not None and z != os.getpid()
    assert first["parent"] == second["parent"] == z  # forked, not a new interpreter each
    for got in (first, second):
        assert got["as"] == 300 and got["cpu"] == 2 and got["nofile"] == 64
        assert got["network"] != "open", got
        assert not [k for k in got["env"] if k.startswith("IOCMAP_") or "TOKEN" in k]
        assert got["modules"] == []  # the zygote imported nothing of the server
    environ = Path(f"/proc/{z}/environ").read_bytes()
    assert b"secret" not in environ and b"IOCMAP_" not in environ


def test_a_child_killed_at_its_wall_time_leaves_the_zygote_serving(tmp_path):
    with pytest.raises(LimitExceeded) as err:
        _selftest(tmp_path, wall_seconds=1, do="sleep")
    assert err.value.limit == "sandbox_wall_seconds"
    z = zygote.running("selftest")
    assert _selftest(tmp_path)["parent"] == z  # the same zygote forks the next child


def test_a_killed_zygote_takes_its_child_along_and_the_next_file_gets_a_new_one(tmp_path):
    _selftest(tmp_path)
    first = zygote.running("selftest")
    assert first is not None
    outcome: dict = {}

    def read_slowly() -> None:
        try:
            _selftest(tmp_path, wall_seconds=60, do="sleep")
        except (BadInput, LimitExceeded) as exc:
            outcome["error"] = exc

    reader = threading.Thread(target=read_slowly)
    started = time.monotonic()
    reader.start()
    time.sleep(1.0)  # the child is asleep in the zygote's care
    os.kill(first, signal.SIGKILL)
    reader.join(timeout=20)
    assert not reader.is_alive(), "a read whose zygote died must not hang"
    assert time.monotonic() - started < 20
    assert isinstance(outcome.get("error"), BadInput)  # reported, not a crash
    again = _selftest(tmp_path)
    assert again["parent"] not in (first, os.getpid())  # a new zygote


def test_a_killed_server_leaves_no_zygote_and_no_child(tmp_path):
    """A server process killed while its child reads: its zygote and the child go too, and
    the child's work folder goes with the next server's first read."""
    target = tmp_path / "x.bin"
    target.write_bytes(b"x")
    tmpdir = tmp_path / "tmp"  # the servers' temporary folder: nothing else writes there
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    script = (
        "import sys, threading, time\n"
        "from pathlib import Path\n"
        "from geo.ingest import sandbox, zygote\n"
        f"t = Path({str(target)!r})\n"
        "sandbox.run('selftest', t, 'x.bin', {})\n"
        "print(zygote.running('selftest'), flush=True)\n"
        "threading.Thread(target=sandbox.run, args=('selftest', t, 'x.bin', {'do': 'sleep'}),"
        " daemon=True).start()\n"
        "time.sleep(600)\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        z = int(server.stdout.readline())
        deadline = time.monotonic() + 10
        kids: list[int] = []
        while not kids and time.monotonic() < deadline:
            kids = [int(p) for p in Path(f"/proc/{z}/task/{z}/children").read_text().split()]
            time.sleep(0.05)
        assert kids, "the sleeping child was never forked"
    finally:
        server.kill()
        server.wait()
    assert _gone_within(z, 5), "the zygote outlived its server"
    assert all(_gone_within(k, 5) for k in kids), "a child outlived its server"
    left = list(tmpdir.glob(sandbox.WORK_PREFIX + "*"))
    assert len(left) == 1  # the killed server could not remove its child's folder

    next_server = (
        "from pathlib import Path\n"
        "from geo.ingest import sandbox\n"
        f"r = sandbox.run('selftest', Path({str(target)!r}), 'x.bin', {{}}).result\n"
        "print('network' in r)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", next_server], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "True", done.stderr
    assert list(tmpdir.glob(sandbox.WORK_PREFIX + "*")) == []


def test_without_the_zygote_each_child_is_a_fresh_interpreter(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_use_zygote", False)
    got = _selftest(tmp_path)
    assert got["parent"] == os.getpid() and got["modules"] == []
    assert zygote.running("selftest") is None  # none started


def test_files_read_at_once_each_get_their_own_child_and_result(tmp_path, monkeypatch):
    """Four reads at once (``sandbox_concurrent=4``) through one zygote: each gets its own
    child and its own file's rows back, none another's."""
    from geo.ingest.sheet_files import SheetLimits

    monkeypatch.setattr(sandbox, "_slots", threading.BoundedSemaphore(4))
    files = []
    for i in range(8):
        f = tmp_path / f"sheet_{i}.csv"
        f.write_text(f"ma_xa,so\n{i:05d},{i}\n", encoding="utf-8")
        files.append(f)
    args = {"limits": asdict(SheetLimits())}
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda f: sandbox.run("sheet_csv", f, f.name, args), files))
    for i, outcome in enumerate(outcomes):
        rows = sandbox.unpack_rows(outcome.result["rows"])
        assert rows[1][1] == [f"{i:05d}", str(i)], rows
    assert zygote.running("sheets") is not None
