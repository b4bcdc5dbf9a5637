"""Parse untrusted files in a short-lived child process with hard limits.

Why out of process: an uploaded sheet or boundary file is the first thing a hostile sender
controls, and its parsers (openpyxl's XML, GDAL's GeoJSON/Shapefile/GeoPackage readers)
allocate in proportion to what the file *says*, not to its size: 179 KB of ``<xf/>`` took a
serving worker past 1.6 GB; a feature of 100,000 properties held the GIL 67 s and the
worker was killed. In a child, the worst a file can do is hit the child's limits:

- ``RLIMIT_AS`` (address space: ``memory_mb``) — an allocation past it fails
  (``MemoryError``; GDAL's "out of memory"), never the server's memory;
- ``RLIMIT_CPU`` (``cpu_seconds``) and a wall-time kill of the child's process group
  (``wall_seconds``) — a parse that spins never holds a serving thread for long, and the
  serving worker's GIL is never taken at all;
- ``RLIMIT_NOFILE`` (``open_files``), ``RLIMIT_FSIZE`` (``output_mb``: the result it may
  write), ``RLIMIT_CORE`` 0;
- no network: the child enters a network namespace of its own (``unshare(CLONE_NEWNET)``;
  as a non-root user inside a new user namespace) where no interface is up, and in any
  case a Python audit hook refuses every socket connect/bind/getaddrinfo; GDAL's own
  network access is switched off by ``vector.harden_gdal``;
- a clean environment (no database URL, no token), ``PR_SET_PDEATHSIG`` so a killed
  server takes its children along, and a session of its own so the whole group is killed.

Why a fresh interpreter (``subprocess`` + ``python -m``) and not ``fork``: the server runs
imports in threads of a threaded process, where forking is unsafe, and a forked child would
inherit every open connection and secret of the server. The limits are set by the child on
itself before it reads a byte of the file (``preexec_fn`` is unsafe in threaded programs).

What crosses back is plain, bounded data: JSON (rows of cells with a table of unique
strings; attribute columns) plus, for vector files, one binary file of WKB. Never pickle:
a child compromised by a file must not get to run code in the server by what it writes.

A limit hit raises ``LimitExceeded`` (413) naming the limit, the file and the stage
(``sniff``, ``count``, ``parse``, ``return``); a file the parser cannot read, or a crash,
raises ``BadInput`` (422). The child's work is registered in ``TASKS`` by name.

The same mechanism writes download files (task ``download``, ``api/routers/downloads.py``):
not for untrusted bytes but for memory — geopandas, pyarrow and GDAL's writers load in the
child and every byte of it goes back to the system when it exits, so a serving worker never
holds them. The child writes the file as ``result.bin``; ``run(output=...)`` renames it
into place without reading it.

Why one module (≈500 lines) for both sides: the parent and the child speak one protocol —
the request file, the stage lines, the result and error shapes, the cell tags, which
signal means which limit — and a change to either side must be made to the other in the
same place.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from geo.errors import BadInput, ImportBusy, IocmapError, LimitExceeded
from geo.ingest import zygote
from geo.procs import alive, die_with_parent, start_time

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the directory holding the ``geo`` package
# name → "module:function" run in the child; each takes (path, name, args) and returns
# (json-able result, bytes written to the side file or None)
TASKS: dict[str, str] = {
    "sheet_xlsx": "geo.ingest.sheet_files:xlsx_task",
    "sheet_csv": "geo.ingest.sheet_files:csv_task",
    "vector": "geo.ingest.vector_files:vector_task",
    "selftest": "geo.ingest.sandbox:selftest_task",
    # not a parser: a download file written from rows the server read (api/routers/downloads)
    "download": "api.routers._download_files:write_task",
}
# task → (family, modules its zygote imports: what that task's child imports anyway); a
# task not listed gets a fresh interpreter. Not the downloads: their children exist so that
# a file's writers (GDAL, Arrow) leave the server's process tree once the file is written,
# and a zygote holding them would stay in it.
_SHEETS = ("sheets", ("geo.ingest.sheet_files", "openpyxl"))
ZYGOTE_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sheet_xlsx": _SHEETS,
    "sheet_csv": _SHEETS,
    "vector": ("vector", ("geo.ingest.vector_files", "pyogrio", "shapely", "numpy")),
    "selftest": ("selftest", ()),
}
CHILD_ENTRY = "geo.ingest.sandbox:child_main"  # what a zygote's child runs
# what the child inherits: nothing secret, only what Python and GDAL need to start
ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PROJ_DATA", "PROJ_LIB", "GDAL_DATA")
ENV_FIXED = {
    "OPENBLAS_NUM_THREADS": "1",  # one thread each: threads reserve address space
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
    "GDAL_NUM_THREADS": "1",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".iocmap-never",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
}
WORK_PREFIX = "iocmap-sandbox-"  # each child's work folder (request, stages, stderr, result)
ORPHAN_GRACE_S = 600.0  # a work folder with no request yet is its server's for this long
NEAR_CAP = 0.75  # a child that failed with its peak memory past this share of its cap
STAGES_VI = {
    "start": "khởi động",
    "sniff": "nhận dạng tệp",
    "count": "đếm trước khi đọc",
    "parse": "đọc dữ liệu",
    "return": "trả kết quả",
}


@dataclass(frozen=True)
class SandboxLimits:
    """What one child may use. Defaults: a national task sheet (53,000 rows) or a national
    commune layer (3,321 communes) reads well within them; see docs/untrusted-files.md."""

    memory_mb: int = 1024  # RLIMIT_AS of the child (address space, not RSS)
    cpu_seconds: int = 120  # RLIMIT_CPU
    wall_seconds: float = 180.0  # killed after this, whatever it is doing
    open_files: int = 64  # RLIMIT_NOFILE
    output_mb: int = 512  # RLIMIT_FSIZE: the largest result file it may write
    concurrent: int = 1  # children per serving process at once (others wait, then 409)


_limits = SandboxLimits()
_slots = threading.BoundedSemaphore(_limits.concurrent)
_use_zygote = True  # children forked by a pre-imported zygote (``zygote.py``), else fresh


def configure(limits: SandboxLimits, use_zygote: bool = True) -> None:
    """Set this process's limits (the API from ``Settings``, the CLI likewise), and
    whether children come from a zygote (``sandbox_zygote``) or a fresh interpreter."""
    global _limits, _slots, _use_zygote
    _limits = limits
    _slots = threading.BoundedSemaphore(max(1, limits.concurrent))
    _use_zygote = use_zygote


def current_limits() -> SandboxLimits:
    return _limits


# --- the parent side ---------------------------------------------------------------------
@dataclass
class Outcome:
    """What a child handed back: its JSON result and the side file's bytes (or None)."""

    result: Any
    blob: bytes | None


def run(
    task: str,
    path: Path,
    name: str,
    args: dict | None = None,
    limits: SandboxLimits | None = None,
    output: Path | None = None,
    bounded: bool = True,
) -> Outcome:
    """Run ``TASKS[task]`` on ``path`` in a limited child; its result, or the domain error
    it raised (re-raised here), or a ``LimitExceeded``/``BadInput`` saying which limit
    stopped it at which stage.

    ``output``: the side file the child wrote (``result.bin``) is moved there instead of
    being read into this process (a download file; the work folder is made beside it so
    the move is a rename). ``bounded=False``: the caller bounds its children itself (the
    downloads' work limit), the imports' slot is not taken."""
    if task not in TASKS:
        raise ValueError(f"unknown sandbox task {task!r}")
    lim = limits or _limits
    slots = _slots  # the one acquired is the one released, even if reconfigured meanwhile
    if bounded and not slots.acquire(timeout=lim.wall_seconds):
        raise ImportBusy(
            f"Tệp {name}: máy chủ đang đọc một tệp khác, hãy thử lại sau — another file is"
            " being read; try again shortly"
        )
    where = Path(tempfile.gettempdir()) if output is None else Path(output).parent
    _sweep_once(where)
    work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=where))
    try:
        resolved = Path(path).resolve()
        outcome = _run_child(task, resolved, name, args or {}, lim, work, output is not None)
        if output is not None:
            os.replace(work / "result.bin", output)
        return outcome
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if bounded:
            slots.release()


def sweep_orphans(where: Path, grace_seconds: float = ORPHAN_GRACE_S) -> int:
    """Remove the work folders in ``where`` whose server process is gone; how many. Why: a
    server killed while its child reads (SIGKILL, the OOM killer) takes its zygote and child
    along but cannot remove their folder, and each would stay until the machine restarts. A
    folder is its server's while that process lives (``request.json`` names it); one with
    no request yet is left alone for ``grace_seconds`` (its server is writing it)."""
    removed = 0
    for folder in where.glob(WORK_PREFIX + "*"):
        try:
            request = json.loads((folder / "request.json").read_text())
            owner, started = int(request["parent"]), str(request.get("parent_started", ""))
        except (OSError, ValueError, KeyError, TypeError):
            owner, started = None, ""
        if owner is not None and alive(owner, started):
            continue
        if owner is None:
            try:
                if time.time() - folder.stat().st_mtime < grace_seconds:
                    continue
            except OSError:
                continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += not folder.exists()
    if removed:
        log.info("removed %d work folders of killed servers in %s", removed, where)
    return removed


_swept: set[Path] = set()
_swept_lock = threading.Lock()


def _sweep_once(where: Path) -> None:
    """``sweep_orphans`` once per process and folder: a server that was killed left its
    folders before this process started, not while it runs."""
    with _swept_lock:
        if where in _swept:
            return
        _swept.add(where)
    try:
        sweep_orphans(where)
    except OSError as exc:  # never stops a read
        log.warning("could not sweep %s: %s", where, exc)


def _run_child(
    task: str,
    path: Path,
    name: str,
    args: dict,
    lim: SandboxLimits,
    work: Path,
    output: bool = False,
) -> Outcome:
    request = {
        "task": task, "path": str(path), "name": name, "args": args, "limits": asdict(lim),
        "parent": os.getpid(),  # a zygote's child is told its zygote instead (child_main)
        "parent_started": start_time(os.getpid()),  # whose folder it is (``sweep_orphans``)
    }  # fmt: skip
    (work / "request.json").write_text(json.dumps(request))
    env = child_env()
    (work / "stages").touch()
    (work / "stderr").touch()
    family = ZYGOTE_FAMILIES.get(task) if _use_zygote else None
    forker = zygote.get(*family, CHILD_ENTRY, env, ROOT) if family else None
    proc: zygote.Child | subprocess.Popen | None = forker.fork(work) if forker else None
    if proc is None:  # no zygote for it (or none could start): a fresh interpreter
        with (work / "stages").open("wb") as out, (work / "stderr").open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "geo.ingest.sandbox", str(work)],
                cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                close_fds=True, start_new_session=True,
            )  # fmt: skip
    killed_at_wall = False
    try:
        code = proc.wait(timeout=lim.wall_seconds)
    except subprocess.TimeoutExpired:
        killed_at_wall = True
        zygote.kill_group(proc.pid)
        code = proc.wait()
    except BaseException:  # the request was cancelled: the child goes with it
        zygote.kill_group(proc.pid)
        proc.wait()
        raise
    zygote.kill_group(proc.pid)  # anything the child left running in its group
    stage = _last_stage(work / "stages")
    if killed_at_wall:
        raise sandbox_limit(name, stage, "sandbox_wall_seconds", int(lim.wall_seconds))
    result_file = work / "result.json"
    if code == 0 and result_file.exists():
        try:
            payload = json.loads(result_file.read_bytes())
        except ValueError as exc:
            raise BadInput(f"{name}: the reader's result is unreadable", file=name) from exc
        log.info(
            "sandbox %s on %s: %s at stage %s, child peak %.0f MB", task, name,
            "refused" if "error" in payload else "read", stage, payload.get("peak_mb", 0),
        )  # fmt: skip
        if "error" in payload:
            raise _error_from(payload["error"], name, stage)
        if output:
            return Outcome(payload["result"], None)  # the caller moves result.bin
        blob_file = work / "result.bin"
        blob = blob_file.read_bytes() if blob_file.exists() else None
        return Outcome(payload["result"], blob)
    tail = (work / "stderr").read_bytes()[-2000:].decode("utf-8", "replace")
    log.warning("sandbox %s on %s: exit %s at %s: %s", task, name, code, stage, tail)
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        raise sandbox_limit(name, stage, "sandbox_cpu_seconds", lim.cpu_seconds)
    if code == -signal.SIGXFSZ:
        raise sandbox_limit(name, stage, "sandbox_output_mb", lim.output_mb)
    if "MemoryError" in tail or "out of memory" in tail.lower() or "bad_alloc" in tail:
        raise sandbox_limit(name, stage, "sandbox_memory_mb", lim.memory_mb)
    raise BadInput(
        f"Tệp {name}: trình đọc dừng bất thường ở bước {STAGES_VI.get(stage, stage)} —"
        f" {name}: the reader stopped (exit {code}) at stage '{stage}'; the file is not"
        " readable",
        file=name,
    )


def _address_space_exhausted(exc: BaseException) -> bool:
    """The child's address-space cap, met where no ``MemoryError`` is raised: a library
    loaded late fails to map ("failed to map segment from shared object"), a ``mmap`` or
    thread start fails with ENOMEM. Its RSS stays low, so the peak test cannot see it."""
    text_ = str(exc)
    return (
        getattr(exc, "errno", None) == errno.ENOMEM
        or "failed to map segment" in text_
        or "Cannot allocate memory" in text_
    )


def child_env() -> dict[str, str]:
    """What a child (and a zygote) starts with: nothing secret, what Python and GDAL need."""
    env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ} | ENV_FIXED
    env["PYTHONPATH"] = str(ROOT)
    return env


def _last_stage(path: Path) -> str:
    try:
        lines = path.read_bytes()[-4096:].decode("ascii", "replace").split()
    except OSError:
        return "start"
    return lines[-1] if lines else "start"


def sandbox_limit(name: str, stage: str, limit: str, value: int) -> LimitExceeded:
    """The refusal for a child stopped by one of its limits: file, limit, stage."""
    what_vi = {
        "sandbox_memory_mb": f"bộ nhớ ({value:,} MB)",
        "sandbox_cpu_seconds": f"thời gian xử lý ({value:,} giây CPU)",
        "sandbox_wall_seconds": f"thời gian đọc ({value:,} giây)",
        "sandbox_output_mb": f"dung lượng kết quả ({value:,} MB)",
        "sandbox_open_files": f"số tệp mở ({value:,})",
    }.get(limit, f"{limit}={value:,}")
    return LimitExceeded(
        f"Tệp {name}: vượt giới hạn {what_vi} ở bước {STAGES_VI.get(stage, stage)} — {name}:"
        f" over the limit {limit}={value:,} at stage '{stage}'; nothing was imported",
        file=name,
        limit=limit,
        value=value,
        stage=stage,
    )


def _error_from(err: dict, name: str, stage: str) -> IocmapError:
    """The child's domain error, rebuilt here (only known kinds; text bounded)."""
    message = str(err.get("message") or "")[:2000]
    file = err.get("file") or name
    kind = err.get("type")
    if kind == "memory":
        return sandbox_limit(name, stage, "sandbox_memory_mb", int(err.get("value") or 0))
    if kind == "LimitExceeded":
        return LimitExceeded(
            _with_stage(message, file, stage), file=file, limit=str(err.get("limit")),
            value=int(err.get("value") or 0), stage=stage,
        )  # fmt: skip
    row = err.get("row")
    return BadInput(
        message, file=file, field=err.get("field"), row=row if isinstance(row, int) else None
    )


def _with_stage(message: str, file: str, stage: str) -> str:
    """A limit message with the Vietnamese lead and the stage it was hit at."""
    vi = STAGES_VI.get(stage, stage)
    if message.startswith("Tệp "):
        return f"{message} [bước {vi} / stage '{stage}']"
    return f"Tệp {file}: vượt giới hạn ở bước {vi} — {message} [stage '{stage}']"


# --- cells across the boundary -----------------------------------------------------------
def pack_rows(rows: list[tuple[int, list[object]]]) -> dict:
    """Rows of cells as plain JSON: each text once in ``strings`` (a sheet repeats its
    texts — one shared string referenced by a million cells must not become a million
    copies), other values tagged."""
    index: dict[str, int] = {}
    strings: list[str] = []
    out = []
    for row_no, cells in rows:
        packed: list[object] = []
        for v in cells:
            if v is None:
                packed.append(None)
            elif isinstance(v, str):
                i = index.get(v)
                if i is None:
                    i = index[v] = len(strings)
                    strings.append(v)
                packed.append(i)
            else:
                packed.append(_tag(v))
        out.append([row_no, packed])
    return {"strings": strings, "rows": out}


def _tag(v: object) -> list:
    if isinstance(v, bool):
        return ["b", v]
    if isinstance(v, int):
        return ["i", str(v)]  # as text: beyond 2**53 JSON readers lose digits
    if isinstance(v, float):
        return ["f", repr(v)]
    if isinstance(v, dt.datetime):
        return ["dt", v.isoformat()]
    if isinstance(v, dt.date):
        return ["d", v.isoformat()]
    if isinstance(v, dt.time):
        return ["t", v.isoformat()]
    if isinstance(v, dt.timedelta):
        return ["td", v.total_seconds()]
    if isinstance(v, bytes):
        return ["s", base64.b64encode(v).decode()]
    return ["s", str(v)]


_UNTAG: dict[str, Callable[[Any], object]] = {
    "b": bool,
    "i": int,
    "f": float,
    "dt": dt.datetime.fromisoformat,
    "d": dt.date.fromisoformat,
    "t": dt.time.fromisoformat,
    "td": lambda s: dt.timedelta(seconds=float(s)),
    "s": str,
}


def unpack_rows(data: dict) -> list[tuple[int, list[object]]]:
    """``pack_rows`` undone (texts shared again, as the parser had them)."""
    strings = data["strings"]
    out: list[tuple[int, list[object]]] = []
    for row_no, packed in data["rows"]:
        cells: list[object] = []
        for v in packed:
            if v is None:
                cells.append(None)
            elif isinstance(v, int):
                cells.append(strings[v])
            else:
                cells.append(_UNTAG[v[0]](v[1]))
        out.append((int(row_no), cells))
    return out


# --- the child side ----------------------------------------------------------------------
def stage(name: str) -> None:
    """Tell the parent which stage the child is in (what a kill is reported at)."""
    sys.stdout.write(name + "\n")
    sys.stdout.flush()


def _set_limits(lim: dict) -> None:
    import resource

    mem = int(lim["memory_mb"]) << 20
    cpu = int(lim["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    files = int(lim["open_files"])
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))
    out = int(lim["output_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_FSIZE, (out, out))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _die_with_parent(parent: int) -> None:
    """The kernel kills this child when the server thread that started it goes (a killed
    worker leaves no parser running); a child whose parent is already gone stops."""
    if not die_with_parent(signal.SIGKILL, parent):  # it died before the kernel was told
        os._exit(3)


CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def _isolate_network() -> str:
    """No network for the child: a network namespace of its own when the kernel allows it
    (root: directly; others: inside a new user namespace), plus an audit hook that refuses
    Python-level sockets in any case. Returns what was achieved (for the self-test)."""
    import ctypes

    how = "audit-hook"
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) == 0:
            how = "netns"
        elif libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
            how = "userns+netns"
    refused = ("socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto")

    def hook(event: str, _args: tuple) -> None:
        if event in refused:
            raise PermissionError(f"network access is refused while reading a file ({event})")

    sys.addaudithook(hook)
    return how


def selftest_task(path: Path, name: str, args: dict) -> tuple[dict, bytes | None]:
    """For tests: report the limits in force, or misbehave as asked."""
    import resource
    import socket

    what = args.get("do")
    stage("parse")
    if what == "allocate":
        hoard = [bytearray(1 << 20) for _ in range(int(args.get("mb", 4096)))]
        return {"allocated": len(hoard)}, None
    if what == "map":  # the address-space cap met by a mapping (a late library load)
        import mmap

        mmap.mmap(-1, int(args.get("mb", 4096)) << 20)
    if what == "spin":
        while True:
            pass
    if what == "sleep":
        import time

        time.sleep(3600)
    if what == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    network = "open"
    try:
        socket.create_connection(("127.0.0.1", int(args.get("port", 9))), timeout=1).close()
    except PermissionError:
        network = "refused"
    except OSError as exc:
        network = f"unreachable ({exc.errno})"
    return {
        "as": resource.getrlimit(resource.RLIMIT_AS)[0] >> 20,
        "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0],
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "network": network,
        "isolation": args.get("isolation"),
        "parent": os.getppid(),  # the zygote that forked it, or the server that started it
        "env": sorted(os.environ),
        "modules": sorted(m for m in ("openpyxl", "pyogrio", "sqlalchemy") if m in sys.modules),
    }, None


def child_main(work: Path, parent: int | None = None) -> int:
    """The child: limits first, then the task; its result or error as JSON in ``work``.
    ``parent``: the process it must die with (the zygote that forked it; by default the
    server that started it)."""
    request = json.loads((work / "request.json").read_text())
    _die_with_parent(int(request["parent"]) if parent is None else parent)
    isolation = _isolate_network()
    _set_limits(request["limits"])
    stage("start")
    name = request["name"]
    try:
        module, _, func = TASKS[request["task"]].partition(":")
        fn = getattr(__import__(module, fromlist=[func]), func)
        args = dict(request["args"])
        if request["task"] == "selftest":
            args["isolation"] = isolation
        result, blob = fn(Path(request["path"]), name, args)
        stage("return")
        if blob is not None:
            (work / "result.bin").write_bytes(blob)
        payload: dict = {"result": result}
    except MemoryError:
        payload = {"error": {"type": "memory", "value": request["limits"]["memory_mb"]}}
    except LimitExceeded as exc:
        payload = {
            "error": _as_dict(exc, "LimitExceeded") | {"limit": exc.limit, "value": exc.value}
        }
    except BadInput as exc:
        payload = {"error": _as_dict(exc, "BadInput")}
    except IocmapError as exc:
        payload = {"error": {"type": "BadInput", "message": exc.message, "file": name}}
    except Exception as exc:  # noqa: BLE001 - whatever a malformed file makes a parser raise
        reason = (str(exc) or type(exc).__name__).splitlines()[0][:200]
        payload = (
            {"error": {"type": "memory", "value": request["limits"]["memory_mb"]}}
            if _address_space_exhausted(exc)
            else {
                "error": {
                    "type": "BadInput",
                    "file": name,
                    "message": f"Tệp {name}: không đọc được — {name}: not readable ({reason})",
                }
            }
        )
    payload["peak_mb"] = _peak_mb()
    cap = int(request["limits"]["memory_mb"])
    if "error" in payload and payload["peak_mb"] > NEAR_CAP * cap:
        # a parser that ran out of memory often says so as its own error ("unknown
        # error", "out of memory"): near the cap, the cap is the reason
        payload["error"] = {"type": "memory", "value": cap}
    (work / "result.json").write_text(json.dumps(payload, ensure_ascii=False))
    return 0


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM), for the parent's log."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _as_dict(exc: BadInput, kind: str) -> dict:
    return {
        "type": kind,
        "message": exc.message,
        "file": exc.file,
        "field": exc.field,
        "row": exc.row,
    }


def replace_limits(**changes: Any) -> SandboxLimits:
    """The configured limits with some changed (tests, the CLI's flags)."""
    return replace(_limits, **changes)


if __name__ == "__main__":
    sys.exit(child_main(Path(sys.argv[1])))
