"""The `make prod-local` topology on loopback, from Debian packages and our own code:

    nginx ──► API process 1 ─┐  writes ──► PostGIS primary ──(streaming, pg_basebackup -R)──┐
          └─► API process 2 ─┴─ GETs  ──► PostGIS replica ◄────────────────────────────────┘

Why a module: `make prod-local`, its check and the test bring it up and tear it down the same
way. Everything lives under ``var/prod/<name>/`` on free loopback ports; a ``state.json``
there names every process and data directory, so a run that died half-way is cleaned up by
the next one (never the shared cluster on port 54329 and ``var/pg``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from deploy import nginx
from iocmap import devdb as localdb

REPO = Path(__file__).resolve().parent.parent
PROD_ROOT = REPO / "var" / "prod"
DATABASE = "iocmap"


def free_port() -> int:
    """A free loopback port (the OS picks; never 8000)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Topology:
    """Where each piece lives and listens; processes we started, by name."""

    root: Path
    nginx_port: int
    api_ports: list[int]
    primary: localdb.Cluster
    replica: localdb.Cluster
    detached: bool = False
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    def api_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.api_ports[i]}"

    @staticmethod
    def dsn(c: localdb.Cluster) -> str:
        """A libpq URL (the API's settings accept it)."""
        return f"postgresql://postgres@127.0.0.1:{c.port}/{c.database}"


def new(name: str = "local", api_count: int = 2, detached: bool = False) -> Topology:
    """A topology under ``var/prod/<name>`` with fresh free ports (nothing started yet)."""
    root = PROD_ROOT / name
    ports: list[int] = []
    while len(ports) < api_count + 3:
        if (p := free_port()) not in ports and p not in (8000, localdb.DEFAULT_PORT):
            ports.append(p)
    return Topology(
        root=root,
        nginx_port=ports[0],
        api_ports=ports[3:],
        primary=localdb.Cluster(root / "primary" / "data", ports[1], DATABASE),
        replica=localdb.Cluster(root / "replica" / "data", ports[2], DATABASE),
        detached=detached,
    )


# ---------------------------------------------------------------- state (crash recovery)


def _state_path(root: Path) -> Path:
    return root / "state.json"


def _save_state(t: Topology) -> None:
    state = {
        "owner_pid": None if t.detached else os.getpid(),
        "nginx_port": t.nginx_port,
        "api_ports": t.api_ports,
        "clusters": [str(t.replica.datadir), str(t.primary.datadir)],
        "cluster_ports": [t.replica.port, t.primary.port],
        "pids": {name: p.pid for name, p in t.procs.items()},
    }
    t.root.mkdir(parents=True, exist_ok=True)
    _state_path(t.root).write_text(json.dumps(state, indent=2))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _ours(pid: int, root: Path, ports: list[int]) -> bool:
    """Only signal a pid that still runs one of our commands (pids get reused)."""
    cmd = _cmdline(pid)
    return str(root) in cmd or any(f"--port {p}" in cmd for p in ports)


def _stop_pid(pid: int, sig: int = signal.SIGTERM, wait: float = 5.0) -> None:
    """Signal the process group we created, wait, then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + wait
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def teardown_root(root: Path, remove: bool = True) -> None:
    """Stop everything a state file names (ours only), then remove the directory."""
    path = _state_path(root)
    if path.exists():
        state = json.loads(path.read_text())
        ports = list(state.get("api_ports", [])) + [state.get("nginx_port", 0)]
        for name, pid in state.get("pids", {}).items():
            if _alive(pid) and _ours(pid, root, ports):
                _stop_pid(pid, signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        for datadir, port in zip(state["clusters"], state["cluster_ports"], strict=False):
            c = localdb.Cluster(Path(datadir), port, DATABASE)
            if c.datadir.is_relative_to(root) and (c.datadir / "postmaster.pid").exists():
                localdb.stop(c, "immediate" if remove else "fast")
    if remove:
        shutil.rmtree(root, ignore_errors=True)


def clean_stale(parent: Path = PROD_ROOT) -> list[Path]:
    """Tear down runs under ``parent`` whose owner process is gone (a killed test run)."""
    cleaned = []
    for path in sorted(parent.glob("*/state.json")):
        try:
            owner = json.loads(path.read_text()).get("owner_pid")
        except (OSError, ValueError):
            owner = 0
        if owner is not None and not _alive(owner):
            teardown_root(path.parent)
            cleaned.append(path.parent)
    return cleaned


def running_owner(root: Path) -> int | str | None:
    """Who holds ``root``: a live owner pid, "detached" (`prod_local up`), or None."""
    path = _state_path(root)
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text())
    except ValueError:
        return None
    owner = state.get("owner_pid")
    if owner is None:
        return "detached" if any(_alive(p) for p in state.get("pids", {}).values()) else None
    return owner if _alive(owner) and owner != os.getpid() else None


# ---------------------------------------------------------------- bring-up


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}):\n{_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s:\n{_tail(log)}")


def _tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else "(no log)"


def _wait_streaming(t: Topology, timeout: float = 30.0) -> None:
    """Until the primary sees its standby streaming."""
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(Topology.dsn(t.primary), autocommit=True) as conn:
            if conn.execute(
                "select 1 from pg_stat_replication where state = 'streaming'"
            ).fetchone():
                return
        time.sleep(0.1)
    raise RuntimeError(f"replica not streaming after {timeout:.0f} s:\n{_tail(t.replica.logfile)}")


def start_api(t: Topology, i: int) -> subprocess.Popen:
    """One uvicorn process: writes on the primary, GETs on the replica."""
    port = t.api_ports[i]
    log = t.root / f"api-{i + 1}.log"
    # Production defaults whatever the caller's environment (a test session sets its own).
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCMAP_")}
    env |= {
        "IOCMAP_DATABASE_URL": Topology.dsn(t.primary),
        "IOCMAP_READ_DATABASE_URL": Topology.dsn(t.replica),
        "IOCMAP_DB_CONCURRENCY": "5",  # one worker: 5 build slots, pool 7 + 5
        "IOCMAP_REPORTS_DIR": str(t.root / "reports"),  # what GET /api/v1/reports lists
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--http",
        "httptools",
        "--loop",
        "uvloop",
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "5",
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    t.procs[f"api-{i + 1}"] = proc
    _save_state(t)
    return proc


def start_reports(t: Topology, every_days: float = 7) -> subprocess.Popen:
    """The scheduled report run: the last complete quarter's report now and every
    ``every_days`` days after (``iocmap report scheduled --every-days``), into the folder
    the API processes list. A loop with a sleep, stopped with everything else by ``down``."""
    log = t.root / "reports.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCMAP_")}
    env |= {"IOCMAP_DATABASE_URL": Topology.dsn(t.primary)}
    cmd = [str(Path(sys.executable).with_name("iocmap")), "report", "scheduled",
           "--out", str(t.root / "reports"), "--every-days", f"{every_days:g}"]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    t.procs["reports"] = proc
    _save_state(t)
    return proc


def start_worker(t: Topology) -> subprocess.Popen:
    """The notices' delivery worker (``iocmap worker``) on the primary, with the caller's
    delivery settings (SMTP, webhook, escalation time); stopped with everything by ``down``."""
    log = t.root / "worker.log"
    keep = ("IOCMAP_SMTP_URL", "IOCMAP_MAIL_FROM", "IOCMAP_WEBHOOK_URL", "IOCMAP_WEBHOOK_SECRET",
            "IOCMAP_ESCALATE_AT")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCMAP_") or k in keep}
    env |= {"IOCMAP_DATABASE_URL": Topology.dsn(t.primary)}
    cmd = [str(Path(sys.executable).with_name("iocmap")), "worker", "--label", str(t.root)]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    t.procs["worker"] = proc
    _save_state(t)
    return proc


def up(t: Topology, say: Callable[[str], None] = lambda _m: None) -> Topology:
    """Bring the whole topology up; on any failure everything started so far is torn down."""
    if t.root.resolve() == (REPO / "var" / "pg").resolve() or t.primary.port == 54329:
        raise RuntimeError("refusing to touch the shared cluster")
    clean_stale(t.root.parent)
    if owner := running_owner(t.root):
        raise RuntimeError(
            f"{t.root} is in use by process {owner}; stop it first "
            f"(python -m deploy.prod_local down --name {t.root.name})"
        )
    if t.root.exists():
        teardown_root(t.root)
    t0 = time.monotonic()
    _save_state(t)
    try:
        _up(t, say)
    except BaseException:
        down(t)
        raise
    t.timings["up_s"] = round(time.monotonic() - t0, 2)
    return t


def _up(t: Topology, say: Callable[[str], None]) -> None:
    from geo.db import make_engine
    from geo.demo.loader import load_demo
    from geo.migrate import upgrade

    mark = time.monotonic()
    localdb.init(t.primary)
    localdb.enable_replication(t.primary)
    localdb.start(t.primary)
    localdb.ensure_database(t.primary)
    say(f"primary PostGIS on 127.0.0.1:{t.primary.port} ({t.primary.datadir})")
    url = t.primary.url
    upgrade(url)
    engine = make_engine(url, pool_size=2)
    try:
        counts = load_demo(engine)
    finally:
        engine.dispose()
    say(f"demo data loaded into the primary: {counts}")
    t.timings["primary_s"] = round(time.monotonic() - mark, 2)

    mark = time.monotonic()
    localdb.clone_standby(t.primary, t.replica.datadir, t.replica.port)
    localdb.start(t.replica)
    _wait_streaming(t)
    say(f"streaming replica on 127.0.0.1:{t.replica.port} ({t.replica.datadir})")
    t.timings["replica_s"] = round(time.monotonic() - mark, 2)

    mark = time.monotonic()
    for i in range(len(t.api_ports)):
        start_api(t, i)
    for i in range(len(t.api_ports)):
        _wait_http(t.api_url(i) + "/readyz", t.procs[f"api-{i + 1}"], t.root / f"api-{i + 1}.log")
        say(f"API process {i + 1} on {t.api_url(i)}")
    t.timings["api_s"] = round(time.monotonic() - mark, 2)

    mark = time.monotonic()
    conf = nginx.render(t.root / "nginx", t.nginx_port, t.api_ports)
    nginx.check(conf)
    log = t.root / "nginx" / "error.log"
    with (t.root / "nginx" / "stdout.log").open("ab") as out:
        t.procs["nginx"] = subprocess.Popen(
            nginx.command(conf), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _save_state(t)
    _wait_http(t.url + "/readyz", t.procs["nginx"], log)
    say(f"nginx on {t.url}")
    t.timings["nginx_s"] = round(time.monotonic() - mark, 2)


def kill_api(t: Topology, i: int) -> int:
    """SIGKILL one API process (a crash: no graceful shutdown); returns its pid."""
    proc = t.procs[f"api-{i + 1}"]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    return proc.pid


def down(t: Topology, remove: bool = True) -> float:
    """Stop nginx, the API processes, the replica and the primary; remove the files."""
    t0 = time.monotonic()
    for name, proc in sorted(t.procs.items(), key=lambda kv: kv[0] != "nginx"):
        if proc.poll() is None:
            _stop_pid(proc.pid, signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    for c in (t.replica, t.primary):
        if (c.datadir / "postmaster.pid").exists():
            localdb.stop(c, "immediate" if remove else "fast")  # its files go next anyway
    teardown_root(t.root, remove=remove)  # anything the state file still names
    t.timings["down_s"] = round(time.monotonic() - t0, 2)
    return t.timings["down_s"]


@contextlib.contextmanager
def running(
    name: str, api_count: int = 2, say: Callable[[str], None] = print
) -> Iterator[Topology]:
    """Up for the duration of a ``with`` block, torn down even when the block fails."""
    t = up(new(name, api_count), say)
    try:
        yield t
    finally:
        down(t)
