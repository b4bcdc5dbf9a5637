"""Start, stop and inspect the project-local PostGIS cluster.

Why: a newcomer (and CI) needs a real PostGIS without Docker and without touching the
machine's own clusters. We run Debian's PostgreSQL binaries on a private data directory
(``var/pg`` under the repository), on our own loopback port, with trust authentication
limited to 127.0.0.1. PostgreSQL refuses to run as root, so when we are root the server
runs as the ``postgres`` system user that Debian's package creates.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from geo.db import LOCAL_DB, LOCAL_PORT, local_url

DEFAULT_PORT = LOCAL_PORT
DEFAULT_DB = LOCAL_DB
REPO_ROOT = Path(__file__).resolve().parent.parent


class LocalDBError(RuntimeError):
    """The local cluster could not be set up; the message says what to do."""


@dataclass(frozen=True)
class Cluster:
    """Where the local cluster lives and how to reach it."""

    datadir: Path
    port: int
    database: str = DEFAULT_DB

    @property
    def url(self) -> str:
        return local_url(self.port, self.database)

    @property
    def logfile(self) -> Path:
        return self.datadir.parent / "postgres.log"


def _bindir() -> Path:
    """Newest installed PostgreSQL server binaries (Debian keeps them per version)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise LocalDBError(
        "PostgreSQL server binaries not found: run `make system` "
        "(installs postgresql-15 and postgresql-15-postgis-3)"
    )


def _as_root() -> bool:
    return os.geteuid() == 0


def _run_as_db_user(args: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a server binary as ourselves, or as ``postgres`` when we are root."""
    if _as_root():
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=False, capture_output=True, text=True, **kw)


def _postgres_can_use(path: Path) -> bool:
    """Whether the postgres user can reach ``path`` (a repo under /root cannot)."""
    if not _as_root():
        return True
    probe = path
    while not probe.exists():
        probe = probe.parent
    res = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(probe)],
        capture_output=True,
        check=False,
    )
    return res.returncode == 0


def cluster(root: Path | None = None) -> Cluster:
    """The cluster for this checkout: ``var/pg`` in the repo, its own port."""
    root = (root or REPO_ROOT).resolve()
    port = int(os.environ.get("IOCMAP_PG_PORT", DEFAULT_PORT))
    datadir = root / "var" / "pg" / "data"
    if not _postgres_can_use(root):
        # Fall back to a per-checkout folder the postgres user can reach.
        digest = hashlib.sha1(str(root).encode()).hexdigest()[:10]
        datadir = Path("/var/tmp") / f"iocmap-pg-{digest}" / "data"
    return Cluster(datadir=datadir, port=port)


def _ensure_owner(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if _as_root():
        pw = pwd.getpwnam("postgres")
        for p in (path.parent, path):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(path, 0o700)


def is_running(c: Cluster) -> bool:
    """True when something accepts connections on the cluster's port."""
    try:
        with socket.create_connection(("127.0.0.1", c.port), timeout=0.5):
            return True
    except OSError:
        return False


def init(c: Cluster) -> bool:
    """Create the data directory once; returns True when it was created now."""
    if (c.datadir / "PG_VERSION").exists():
        return False
    _ensure_owner(c.datadir)
    res = _run_as_db_user(
        [
            str(_bindir() / "initdb"),
            "-D",
            str(c.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
    )
    if res.returncode != 0:
        raise LocalDBError(f"initdb failed:\n{res.stdout}\n{res.stderr}")
    conf = c.datadir / "postgresql.conf"
    with conf.open("a") as fh:
        fh.write(
            "\n# iocmap local cluster\n"
            "listen_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\n"
            "max_connections = 200\n"
            "shared_buffers = 256MB\n"
            "work_mem = 32MB\n"
            "fsync = on\n"
            "timezone = 'UTC'\n"
        )
    (c.datadir / "pg_hba.conf").write_text(
        "# iocmap local cluster: loopback only\nhost all all 127.0.0.1/32 trust\n"
    )
    return True


# PostgreSQL's "non-durable settings" (server docs, 14.5): no fsync, commits not waited
# for, no full-page images. Why for the project-local cluster only: it holds the demo and
# the tests' databases, all of them rebuilt by `make demo` / `make test`, never data to
# keep (production is deploy/: compose or `make prod-local`, durable). Measured here: a
# test's scratch DROP DATABASE forces a checkpoint that fsyncs every file written since
# the last one — 0.7-3.9 s each, about 200 per `make test` — against 0.06-0.19 s without.
# What it costs: an operating-system crash (not a server crash) can corrupt the cluster;
# `make clean && make demo` rebuilds it.
NON_DURABLE = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
# PostGIS loaded once by the server and inherited by every backend it forks, rather than
# loaded by each new connection that touches a geometry: tests open thousands of short
# connections (an app, a scratch database, a CLI each). Measured: a connection's first
# PostGIS call 19 → 7 ms of server CPU (a plain `select 1` costs 7).
DEV_CLUSTER = (*NON_DURABLE, "-c shared_preload_libraries=postgis-3")


def start(c: Cluster, timeout: float = 30.0, durable: bool = True) -> None:
    """Start the server if it is not already up, and wait until it accepts connections.
    ``durable=False``: with ``NON_DURABLE`` and PostGIS preloaded (``DEV_CLUSTER``: the
    project-local dev/test cluster)."""
    if is_running(c):
        return
    c.logfile.parent.mkdir(parents=True, exist_ok=True)
    if _as_root():
        c.logfile.touch()
        pw = pwd.getpwnam("postgres")
        os.chown(c.logfile, pw.pw_uid, pw.pw_gid)
    res = _run_as_db_user(
        [
            str(_bindir() / "pg_ctl"),
            "-D",
            str(c.datadir),
            "-l",
            str(c.logfile),
            "-o",
            " ".join((f"-p {c.port}", *(() if durable else DEV_CLUSTER))),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
        ]
    )
    if res.returncode != 0:
        log_tail = c.logfile.read_text()[-2000:] if c.logfile.exists() else ""
        raise LocalDBError(f"pg_ctl start failed:\n{res.stdout}\n{res.stderr}\n{log_tail}")
    deadline = time.monotonic() + timeout
    while not is_running(c):
        if time.monotonic() > deadline:
            raise LocalDBError(f"PostgreSQL did not accept connections on port {c.port}")
        time.sleep(0.2)


def stop(c: Cluster, mode: str = "fast") -> bool:
    """Stop the server (fast shutdown; ``immediate`` for a cluster about to be deleted);
    returns False when it was not running."""
    if not (c.datadir / "postmaster.pid").exists():
        return False
    res = _run_as_db_user([str(_bindir() / "pg_ctl"), "-D", str(c.datadir), "-m", mode, "stop"])
    return res.returncode == 0


def ensure_database(c: Cluster, name: str | None = None) -> None:
    """Create the application database (idempotent) with PostGIS available."""
    import psycopg

    name = name or c.database
    with psycopg.connect(
        f"host=127.0.0.1 port={c.port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'create database "{name}"')  # name is ours, never user input


def up(root: Path | None = None) -> Cluster:
    """init + start + create database: everything `iocmap db up` promises (a dev and
    test cluster: started non-durable, see ``NON_DURABLE``)."""
    c = cluster(root)
    init(c)
    start(c, durable=False)
    ensure_database(c)
    return c


def status(root: Path | None = None) -> dict[str, object]:
    """What `iocmap db status` prints."""
    c = cluster(root)
    return {
        "datadir": str(c.datadir),
        "port": c.port,
        "initialised": (c.datadir / "PG_VERSION").exists(),
        "running": is_running(c),
        "url": c.url,
    }


def enable_replication(c: Cluster) -> None:
    """Let a standby on loopback stream from this cluster (a ``replication`` pg_hba entry).

    Why: ``all`` in pg_hba does not match replication connections; PostgreSQL 15's defaults
    (wal_level=replica, max_wal_senders=10) do the rest. Call before ``start``.
    """
    hba = c.datadir / "pg_hba.conf"
    line = "host replication all 127.0.0.1/32 trust\n"
    if line not in hba.read_text():
        with hba.open("a") as fh:
            fh.write(line)


def clone_standby(primary: Cluster, datadir: Path, port: int) -> Cluster:
    """A streaming replica of a running ``primary`` in ``datadir`` (``pg_basebackup -R``),
    ready to ``start`` on ``port``; hot_standby_feedback keeps its reads from being
    cancelled when the primary vacuums rows they still see."""
    if (datadir / "PG_VERSION").exists():
        raise LocalDBError(f"{datadir} already holds a cluster; remove it first")
    _ensure_owner(datadir)
    res = _run_as_db_user(
        [
            str(_bindir() / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(datadir),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        ]
    )
    if res.returncode != 0:
        raise LocalDBError(f"pg_basebackup failed:\n{res.stdout}\n{res.stderr}")
    with (datadir / "postgresql.conf").open("a") as fh:
        fh.write("\n# iocmap streaming replica\nhot_standby = on\nhot_standby_feedback = on\n")
    return Cluster(datadir=datadir, port=port, database=primary.database)
