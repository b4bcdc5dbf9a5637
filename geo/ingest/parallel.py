"""An import's heavy geometry work, spread over the machine's cores in helper processes.

Why: a national commune layer spends most of its import in GEOS calls that each use one
core (grouped unions, per-unit unions, snap-rounding, three coverage simplifications). On
two cores, one helper process doing half of each step while this process does the other
half brings the whole import well under a minute.

Why processes and not threads: GEOS called from two threads on the same geometries
crashed the process (a segfault in ``coverage_simplify``, see ``topology.py``); a process
has its own copies. Why ``spawn`` and not ``fork``: the API server runs imports in a
thread of a threaded process, where forking is unsafe. Geometry arrays cross the process
boundary as WKB (vectorised: about 0.1 s for a national layer).

Never wrong, at worst slower: with no helper (one core, ``IOCMAP_IMPORT_PROCESSES=0``),
or when a helper cannot start or dies, the work runs in this process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
import shapely

log = logging.getLogger(__name__)

MAX_PROCESSES = 4


def default_processes() -> int:
    """Helpers to start when the caller does not say (``BoundaryOptions.processes``, from
    the ``import_processes`` setting): one core less than the machine has (this process
    keeps working too), at most ``MAX_PROCESSES``."""
    return max(0, min((os.cpu_count() or 1) - 1, MAX_PROCESSES))


class _Wkb:
    """A geometry array in transit (pickled as one vectorised WKB array)."""

    __slots__ = ("data",)

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


def _is_geometries(value: Any) -> bool:
    return (
        isinstance(value, np.ndarray)
        and value.dtype == object
        and value.size > 0
        and isinstance(value.flat[0], shapely.Geometry)
    )


def _pack(value: Any) -> Any:
    if _is_geometries(value):
        return _Wkb(shapely.to_wkb(value))
    if isinstance(value, tuple):
        return tuple(_pack(v) for v in value)
    return value


def _unpack(value: Any) -> Any:
    if isinstance(value, _Wkb):
        return shapely.from_wkb(value.data)
    if isinstance(value, tuple):
        return tuple(_unpack(v) for v in value)
    return value


def _remote(fn: Callable, args: tuple) -> Any:
    """What a helper runs: unpack, call, pack."""
    return _pack(fn(*_unpack(args)))


def _ready() -> bool:
    return True


class Job:
    """One call, in a helper or (no helper, or it failed) here."""

    def __init__(self, fn: Callable, args: tuple, future: Future | None) -> None:
        self.fn, self.args, self.future = fn, args, future

    def result(self) -> Any:
        if self.future is not None:
            try:
                return _unpack(self.future.result())
            except (BrokenProcessPool, OSError, EOFError) as exc:
                log.warning("import helper failed (%s); doing its share here", exc)
        return self.fn(*self.args)


class Workers:
    """Helper processes for one import (a context manager; ``Workers(0)``: none).

    ``fn`` must be a module-level function (helpers import it by name); geometry arrays
    in its arguments and results travel as WKB."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = default_processes() if processes is None else processes
        self._pool: ProcessPoolExecutor | None = None
        self._started = False

    def __enter__(self) -> Workers:
        return self

    def start(self) -> None:
        """Start the helpers now (they take ~0.5 s to be ready): call once the input is
        known to be worth it, before the first share is handed out. Idempotent."""
        if self._started or self.processes <= 0:
            return
        self._started = True
        try:
            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn")
            )
            for _ in range(self.processes):  # spawn them all now, not at the first share
                self._pool.submit(_ready)
        except (OSError, ValueError, RuntimeError) as exc:
            log.warning("no import helper process (%s); working in one process", exc)
            self._pool = None

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    @property
    def shares(self) -> int:
        """Into how many parts to cut a step: one per helper plus this process's."""
        self.start()
        return 1 + (self.processes if self._pool is not None else 0)

    def submit(self, fn: Callable, *args: Any) -> Job:
        """Run ``fn(*args)`` in a helper (or, with none, when ``result()`` is asked)."""
        future = None
        self.start()
        if self._pool is not None:
            try:
                future = self._pool.submit(_remote, fn, _pack(args))
            except (BrokenProcessPool, RuntimeError) as exc:
                log.warning("import helper unavailable (%s); working here", exc)
        return Job(fn, args, future)

    def map(self, fn: Callable, calls: Sequence[tuple]) -> list[Any]:
        """``[fn(*c) for c in calls]``: all but the last call in helpers, the last here."""
        jobs = [self.submit(fn, *c) for c in calls[:-1]]
        last = [fn(*calls[-1])] if calls else []
        return [j.result() for j in jobs] + last


INLINE = Workers(0)


def split(n: int, shares: int) -> list[np.ndarray]:
    """``range(n)`` cut into ``shares`` contiguous index blocks (none empty)."""
    return [b for b in np.array_split(np.arange(n), max(1, min(shares, n))) if len(b)]
