"""An import killed with SIGKILL mid-transaction leaves the previous data intact, and the
next import (same kind, same lock) succeeds.

The paused import runs through ``tests/pause_import.py`` (the CLI with a hook injected);
production code has no environment-driven pause."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from tests.import_fixtures import rows, table_versions, write_xlsx

HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành", "Ngày hoàn thành"]


REPO = Path(__file__).resolve().parents[1]


def _import(url: str, path: Path, pause_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "IOCMAP_DATABASE_URL": url}
    if pause_at:
        cmd = [sys.executable, "-m", "tests.pause_import", pause_at, "import", "tasks", str(path)]
    else:
        cmd = [str(Path(sys.executable).parent / "iocmap"), "import", "tasks", str(path)]
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(condition, timeout_s: float = 30.0) -> None:
    """Poll ``condition`` until it holds (a wait on a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _tasks_lock_held(engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "select count(*) from pg_locks where locktype = 'advisory'"
                    " and classid = 57 and objid = 2"
                )
            ).scalar()
        )


def test_sigkill_during_an_import_loses_nothing(scratch_url, scratch, tmp_path):
    data = [[f"KILL-{i}", f"Nhiệm vụ {i}", "96", "31/12/2025", ""] for i in range(200)]
    data.append(["NQ57-96-0001", "", "96", "", "01/11/2025"])  # an update of an existing task
    sheet = write_xlsx(tmp_path / "nhiem_vu.xlsx", HEADER, data)
    before = table_versions(scratch)

    proc = _import(scratch_url, sheet, pause_at="swapped")  # all rows written, not committed
    deadline = time.monotonic() + 120
    for line in proc.stderr:
        if "iocmap-import-paused-at swapped" in line:
            break
        assert time.monotonic() < deadline
    else:
        raise AssertionError(f"import never reached the pause: {proc.stdout.read()}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    _wait_until(lambda: not _tasks_lock_held(scratch))  # the server rolled the import back
    assert table_versions(scratch) == before

    again = _import(scratch_url, sheet)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, out + err
    created = rows(scratch, "select count(*) n from task where external_id like 'KILL-%'")
    assert created[0].n == 200
