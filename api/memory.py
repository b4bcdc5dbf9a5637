"""A memory budget per worker process, measured, not estimated.

Why: caches were bounded by what they counted (body bytes), while the process grew by what
building a response costs (geometry frames, parsed filters, allocator fragmentation) and
kept it. A watch task reads the worker's resident set every few seconds:

- over the *soft* limit (80 % of its share of ``IOCMAP_MEMORY_BUDGET_MB``) it empties the
  response cache, runs a full garbage collection and hands freed heap back to the system
  (glibc ``malloc_trim``);
- still over the *hard* limit (its whole share) it recycles: the worker stops accepting,
  finishes the requests it holds (uvicorn's graceful shutdown on SIGTERM) and exits; the
  supervisor starts a fresh one and the other workers serve meanwhile. Only under a
  supervisor (``iocmap serve`` with 2+ workers): a lone worker trims and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("iocmap.memory")
PAGE = os.sysconf("SC_PAGE_SIZE")
# set by `iocmap serve` for its workers: the pid of the supervisor that restarts them, or 0
SUPERVISED_ENV = "IOCMAP_SUPERVISED"
STEP = 48 << 20  # growth past the last trim's result that warrants another trim


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * PAGE


def pss_bytes(pid: int | str = "self") -> int:
    """Proportional set size (shared pages split between the processes that share them)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss_bytes(pid)


_libc: ctypes.CDLL | None = None


def trim() -> None:
    """Collect garbage and give free heap pages back to the system."""
    global _libc
    gc.collect()
    if _libc is None:
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name) if name else ctypes.CDLL(None)
    trim_heap = getattr(_libc, "malloc_trim", None)  # glibc only
    if trim_heap is not None:
        trim_heap(0)


def worker_budget(total_mb: int, workers: int) -> int:
    """A worker's share of the server's budget, in bytes (the supervisor keeps ~60 MB)."""
    return max(96, (total_mb - 60) // max(1, workers)) << 20


def supervisor_pid() -> int:
    """The pid of the supervisor that restarts this worker (``iocmap serve --workers 2+``),
    or 0 when nothing would restart it."""
    value = os.environ.get(SUPERVISED_ENV, "")
    return int(value) if value.isdigit() else 0


class MemoryWatch:
    """Checks this worker's RSS every ``interval`` s against its share of the budget."""

    def __init__(
        self,
        budget: int,
        shed: Callable[[], None],
        interval: float = 2.0,
        read: Callable[[], int] = rss_bytes,
    ) -> None:
        self.budget = budget
        self.soft = int(budget * 0.8)
        self.shed = shed
        self.interval = interval
        self.read = read
        self.trims = 0
        self.recycling = False
        # what a trim could not give back (code and libraries loaded since the start): the
        # next trim waits until the worker has grown a step past it, so the cache is not
        # emptied every few seconds for memory it does not hold
        self.floor = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="memory-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.check()

    def check(self) -> None:
        """One look: shed and trim over the soft limit; recycle over the hard one."""
        used = self.read()
        if used <= max(self.soft, self.floor + STEP) or self.recycling:
            return
        self.shed()
        trim()
        self.trims += 1
        after = self.read()
        self.floor = after
        log.warning(
            "memory: %.0f MB > soft %.0f MB; cache emptied and heap trimmed: %.0f MB",
            used / 2**20, self.soft / 2**20, after / 2**20,
        )  # fmt: skip
        if after > self.budget and supervisor_pid():
            self.recycling = True
            log.warning(
                "memory: %.0f MB over the worker's budget of %.0f MB: recycling this worker",
                after / 2**20, self.budget / 2**20,
            )  # fmt: skip
            os.kill(os.getpid(), signal.SIGTERM)  # graceful: in-flight requests finish
