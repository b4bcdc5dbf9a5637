"""A clean, pre-imported process that forks the sandbox's children (``sandbox.py``).

Why: every file read in the sandbox used to start a fresh interpreter and import its
parser (openpyxl ~0.2 s of CPU; GDAL, shapely and numpy ~0.5 s) before reading a byte, so
an office's small sheet waited on imports, and the test suite spent minutes of CPU on
them. A *zygote* — Android's name, and what the ``forkserver`` of ``multiprocessing``
does — is started once, the same way a child used to be (a fresh ``python -P`` with the
clean environment, no server state, no secret), imports the parser, and then forks one
child per file. The child is a copy of an interpreter that has read nothing untrusted:
the isolation is that of a fresh interpreter, only without the imports.

What stays as it was: the child sets its own limits, leaves the network and dies with its
parent (``sandbox.child_main``); it runs in a session of its own, which the server kills
as a group at its wall time; nothing but JSON and the side file crosses back.

Why not ``multiprocessing``'s forkserver: it inherits the server's environment (the
database URL, tokens) and speaks pickle, which the sandbox never lets a child's bytes
reach. Here the server talks to the zygote in JSON lines over its stdin/stdout:

- server → zygote: ``{"id": n, "work": "/tmp/iocmap-sandbox-…"}``;
- zygote → server: ``started <id> <pid>`` or ``refused <id> <why>``, later
  ``exit <id> <code>`` (``code`` as ``subprocess`` gives it: negative for a signal).

One zygote per family of tasks (``sandbox.ZYGOTE_FAMILIES``), so a child's address
space — what ``RLIMIT_AS`` caps — holds what a fresh child of that task would have
imported, not every parser's libraries. This module knows nothing of the sandbox's tasks:
it is told what to import and which function (``"module:function"``) a child runs.
A zygote started when first needed leaves after ``IDLE_SECONDS`` with
no child (an idle server holds no extra process), and at once when the server's end of its
stdin closes (a killed server takes it along; its children follow by ``PDEATHSIG``).
Whenever a zygote cannot be used (it failed to start, died, or has a thread it cannot fork
safely), the server starts a fresh interpreter as before: slower, never less isolated.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# Threads an import may start that are safe to fork beside: jemalloc's background purge
# thread (GDAL's wheels link jemalloc, started by ``import pyogrio``) — jemalloc takes all
# its locks around ``fork`` (pthread_atfork) and the child starts its own when needed.
FORK_SAFE_THREADS = frozenset({"jemalloc_bg_thd"})
IDLE_SECONDS = 300.0
START_SECONDS = 30.0  # a zygote not ready by then is given up (a fresh child is started)


# --- the server's side -------------------------------------------------------------------
@dataclass
class _Pending:
    """One child the server asked for: its pid once started, its exit code once reaped."""

    started: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    pid: int | None = None
    code: int | None = None
    refused: str | None = None
    abandoned: bool = False  # given up waiting for its start: killed when it does start


class Child:
    """A forked child as the server sees it: ``pid`` (its process group) and ``wait``."""

    def __init__(self, pid: int, pending: _Pending) -> None:
        self.pid = pid
        self._pending = pending

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code (``subprocess``'s convention), ``None`` if the zygote died first.
        Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds, as ``Popen.wait``."""
        if not self._pending.done.wait(timeout):
            raise subprocess.TimeoutExpired(f"sandbox child {self.pid}", timeout or 0)
        return self._pending.code


class Zygote:
    """The server's handle on one family's zygote (started on first use, restarted after
    it leaves). Thread-safe: request threads fork children through it at the same time."""

    def __init__(
        self, family: str, preload: tuple[str, ...], entry: str, env: dict[str, str], cwd: Path
    ) -> None:
        self.family = family
        self._command = [sys.executable, "-P", "-m", "geo.ingest.zygote", entry, *preload]
        self._env = env
        self._cwd = cwd
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._broken = False  # a zygote that could not start is not tried again

    @property
    def pid(self) -> int | None:
        """The zygote's pid (the children's parent, which they check), if it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def fork(self, work: Path) -> Child | None:
        """A child forked for the request in ``work``; ``None`` when this family's zygote
        cannot be used (the caller then starts a fresh interpreter)."""
        with self._lock:
            proc = self._running()
            if proc is None:
                return None
            n = next(self._ids)
            pending = self._pending[n] = _Pending()
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps({"id": n, "work": str(work)}).encode() + b"\n")
                proc.stdin.flush()
            except OSError:
                self._pending.pop(n, None)
                return None
        if not pending.started.wait(START_SECONDS) or pending.pid is None:
            with self._lock:
                if pending.started.is_set():
                    self._pending.pop(n, None)
                else:  # a child forked after this would read the file beside a fresh one
                    pending.abandoned = True
            if pending.pid is not None:
                kill_group(pending.pid)
            if pending.refused:
                log.warning("sandbox zygote %s refused: %s", self.family, pending.refused)
            return None
        return Child(pending.pid, pending)

    def close(self) -> None:
        """Stop the zygote (its stdin closes: it kills its children and leaves)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    def _running(self) -> subprocess.Popen | None:
        """The zygote, started if it is not running (under ``_lock``)."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if self._broken:
            return None
        try:
            proc = subprocess.Popen(
                self._command, cwd=self._cwd, env=self._env, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
                start_new_session=True,
            )  # fmt: skip
            assert proc.stdout is not None
            # "ready" after its imports; a zygote that hangs there is given up (the lock is
            # held meanwhile, so no request waits longer than this for it)
            waited, _, _ = select.select([proc.stdout], [], [], START_SECONDS)
            ready = proc.stdout.readline() if waited else b""
        except OSError as exc:
            log.warning("sandbox zygote %s did not start: %s", self.family, exc)
            self._broken = True
            return None
        if not ready.startswith(b"ready"):
            log.warning("sandbox zygote %s did not start: %r", self.family, ready[:200])
            proc.kill()
            proc.wait()
            self._broken = True
            return None
        self._proc = proc
        threading.Thread(
            target=self._read, args=(proc,), name=f"zygote-{self.family}", daemon=True
        ).start()
        return proc

    def _read(self, proc: subprocess.Popen) -> None:
        """Hand the zygote's lines to the requests waiting on them; when it leaves, its
        unfinished children count as lost (``code`` None)."""
        assert proc.stdout is not None
        for line in proc.stdout:
            word, _, rest = line.decode("ascii", "replace").strip().partition(" ")
            ident, _, value = rest.partition(" ")
            with self._lock:
                pending = self._pending.get(int(ident)) if ident.isdigit() else None
                if pending is None:
                    continue
                if word == "started":
                    pending.pid = int(value)
                    pending.started.set()
                    if pending.abandoned:
                        kill_group(pending.pid)
                elif word == "refused":
                    pending.refused = value
                    self._pending.pop(int(ident), None)
                    pending.started.set()
                elif word == "exit":
                    pending.code = int(value)
                    self._pending.pop(int(ident), None)
                    pending.done.set()
        proc.wait()
        with self._lock:
            lost = list(self._pending.values())
            self._pending.clear()
            if self._proc is proc:
                self._proc = None
        for pending in lost:
            pending.started.set()
            pending.done.set()


def kill_group(pid: int) -> None:
    """SIGKILL the process group ``pid`` leads (a child and anything it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


_zygotes: dict[str, Zygote] = {}
_zygotes_lock = threading.Lock()


def get(
    family: str, preload: tuple[str, ...], entry: str, env: dict[str, str], cwd: Path
) -> Zygote:
    """This process's zygote for ``family`` (made on first use; started on first fork)."""
    with _zygotes_lock:
        zygote = _zygotes.get(family)
        if zygote is None:
            zygote = _zygotes[family] = Zygote(family, preload, entry, env, cwd)
        return zygote


def running(family: str) -> int | None:
    """The pid of this process's zygote for ``family``, if one runs (tests, benches)."""
    with _zygotes_lock:
        zygote = _zygotes.get(family)
    return zygote.pid if zygote is not None else None


def close_all() -> None:
    """Stop this process's zygotes (tests; a server leaving stops them by closing stdin)."""
    with _zygotes_lock:
        zygotes = list(_zygotes.values())
        _zygotes.clear()
    for zygote in zygotes:
        zygote.close()


# --- the zygote's side -------------------------------------------------------------------
def _unsafe_threads() -> list[str]:
    """Threads of this process besides the main one and those known to be fork-safe
    (forking beside any other thread could copy a lock it holds into the child)."""
    names = []
    try:
        for tid in os.listdir("/proc/self/task"):
            if int(tid) != os.getpid():
                with open(f"/proc/self/task/{tid}/comm") as f:
                    names.append(f.read().strip())
    except OSError:
        return ["unknown"]
    return [n for n in names if n not in FORK_SAFE_THREADS]


def _say(line: str) -> None:
    os.write(1, (line + "\n").encode("ascii", "replace"))


def _child(entry: str, work: str, zygote: int, control: list[int]) -> None:
    """In the forked child: leave the zygote's pipes and signals, then run ``entry`` as a
    fresh child would (``sandbox.child_main(work, parent=zygote)``); never returns."""
    code = 1
    try:
        os.setsid()  # a group of its own: the server kills it as one
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for fd in control:  # the wake-up pipe (stdin and stdout are replaced below)
            os.close(fd)
        os.chdir(work)
        out = os.open("stages", os.O_WRONLY | os.O_APPEND)
        err = os.open("stderr", os.O_WRONLY | os.O_APPEND)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in (null, out, err):
            os.close(fd)
        import importlib

        module, _, func = entry.partition(":")
        code = getattr(importlib.import_module(module), func)(Path(work), parent=zygote)
        sys.stdout.flush()
    except BaseException:  # noqa: BLE001 - reported as the exit code, never raised on
        import traceback

        with contextlib.suppress(BaseException):
            traceback.print_exc()
            sys.stderr.flush()
    finally:
        os._exit(code)


def main(entry: str, preload: list[str]) -> int:
    """The zygote: import, say ``ready``, then fork a child per request line (running
    ``entry``) until stdin closes (then kill the children left) or nothing happened for
    ``IDLE_SECONDS``."""
    import importlib

    for name in [entry.partition(":")[0], *preload]:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, str] = {}
    zygote = os.getpid()
    buffer = b""
    _say("ready")
    while True:
        ready, _, _ = select.select([0, wake_r], [], [], IDLE_SECONDS)
        if not ready and not children:
            return 0  # idle: the server starts another when it needs one
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            ident = children.pop(pid, None)
            if ident is not None:
                _say(f"exit {ident} {os.waitstatus_to_exitcode(status)}")
        if 0 not in ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:  # the server is gone
            for pid in children:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            return 0
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            ident = str(int(request["id"]))
            unsafe = _unsafe_threads()
            if unsafe:
                _say(f"refused {ident} the zygote runs threads {unsafe[:5]}")
                continue
            pid = os.fork()
            if pid == 0:
                _child(entry, str(request["work"]), zygote, [wake_r, wake_w])
            children[pid] = ident
            _say(f"started {ident} {pid}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
