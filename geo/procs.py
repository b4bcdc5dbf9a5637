"""Is this pid still the process we recorded? (pid and start time, from ``/proc``)

Why a start time: a folder or record names the process that owns it; once that process is
gone its pid is reused, and a pid alone would keep an orphan forever."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" where /proc is absent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def alive(pid: int, started: str = "") -> bool:
    """Whether ``pid`` runs and (when ``started`` is known) is the process that started then."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return not started or start_time(pid) == started


def die_with_parent(sig: int, parent: int | None = None) -> bool:
    """Have the kernel send ``sig`` to this process when the thread that started it ends
    (``PR_SET_PDEATHSIG``, Linux). Returns whether the parent (``parent``, else the one at
    the call) is still there once the kernel knows: False when it died first, and the
    caller should stop itself. Why: a process killed outright (``SIGKILL``, the OOM killer)
    runs no code, so its children learn of it only from the kernel."""
    import ctypes

    expected = os.getppid() if parent is None else parent
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig))  # PR_SET_PDEATHSIG
    return os.getppid() == expected
