"""The worker's memory watch: over the soft limit it sheds the cache and trims once, not
every few seconds for memory a trim cannot give back; over its budget under a supervisor it
asks for a graceful exit (SIGTERM to itself); a lone worker never exits."""

from __future__ import annotations

import signal

import pytest

from api import memory
from api.memory import MemoryWatch, worker_budget


def test_worker_share_of_the_budget():
    assert worker_budget(900, 2) == 420 << 20
    assert worker_budget(900, 1) == 840 << 20


def test_soft_limit_sheds_once_until_the_worker_grows_again(monkeypatch):
    monkeypatch.setattr(memory, "trim", lambda: None)
    readings = iter([350, 340, 345, 349, 400, 399])  # MB, two reads per trim
    shed: list[int] = []
    watch = MemoryWatch(420 << 20, shed=lambda: shed.append(1), read=lambda: next(readings) << 20)
    watch.check()  # 350 > soft 336: shed, trim → 340
    assert shed == [1] and watch.floor == 340 << 20
    watch.check()  # 345: under floor + step: nothing
    watch.check()  # 349: nothing
    assert shed == [1]
    watch.check()  # 400 > 340 + 48: shed again → 399
    assert shed == [1, 1]


@pytest.mark.parametrize("supervised", ["1", "0"])
def test_over_budget_recycles_only_under_a_supervisor(monkeypatch, supervised):
    monkeypatch.setattr(memory, "trim", lambda: None)
    monkeypatch.setenv(memory.SUPERVISED_ENV, supervised)
    killed: list[int] = []
    monkeypatch.setattr(memory.os, "kill", lambda pid, sig: killed.append(sig))
    watch = MemoryWatch(420 << 20, shed=lambda: None, read=lambda: 500 << 20)
    watch.check()
    assert killed == ([signal.SIGTERM] if supervised == "1" else [])
    watch.check()  # once recycling, never twice
    assert len(killed) <= 1


def test_expensive_requests_past_their_slots_wait_then_get_503_with_retry_after():
    """A third download on a worker with two slots waits, then is told to come back; the
    last one out runs the ``after`` hook (the heap trim)."""
    import asyncio
    import concurrent.futures

    from fastapi import HTTPException

    from api.dbgate import WorkLimit

    trimmed: list[int] = []

    async def scenario() -> None:
        limit = WorkLimit("downloads", 2, 0.2, after=lambda: trimmed.append(1))
        held = asyncio.Event()

        async def hold() -> None:
            async with limit.slot():
                await held.wait()

        tasks = [asyncio.create_task(hold()) for _ in range(2)]
        await asyncio.sleep(0.05)
        try:
            async with limit.slot():
                raise AssertionError("a third slot was given")
        except HTTPException as exc:
            assert exc.status_code == 503 and exc.headers["Retry-After"] == "2"
        held.set()
        await asyncio.gather(*tasks)
        assert trimmed == [1]  # once, by the last one out
        async with limit.slot():  # free again
            pass

    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(asyncio.run, scenario()).result()
