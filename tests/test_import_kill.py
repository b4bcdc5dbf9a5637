"""An import killed with SIGKILL mid-transaction leaves the previous data intact, and the
next import (same kind, same lock) succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.import_fixtures import rows, table_checksums, write_xlsx

HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành", "Ngày hoàn thành"]


def _import(url: str, path: Path, pause_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "IOCMAP_DATABASE_URL": url}
    env.pop("IOCMAP_IMPORT_FAIL_AT", None)
    if pause_at:
        env["IOCMAP_IMPORT_PAUSE_AT"] = pause_at
    else:
        env.pop("IOCMAP_IMPORT_PAUSE_AT", None)
    exe = Path(sys.executable).parent / "iocmap"
    return subprocess.Popen(
        [str(exe), "import", "tasks", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_during_an_import_loses_nothing(scratch_url, scratch, tmp_path):
    data = [[f"KILL-{i}", f"Nhiệm vụ {i}", "96", "31/12/2025", ""] for i in range(200)]
    data.append(["NQ57-96-0001", "", "96", "", "01/11/2025"])  # an update of an existing task
    sheet = write_xlsx(tmp_path / "nhiem_vu.xlsx", HEADER, data)
    before = table_checksums(scratch)

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

    time.sleep(0.5)  # the server notices the dead client and rolls back
    assert table_checksums(scratch) == before

    again = _import(scratch_url, sheet)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, out + err
    created = rows(scratch, "select count(*) n from task where external_id like 'KILL-%'")
    assert created[0].n == 200
