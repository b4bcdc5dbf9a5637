"""Issue 21's "also seen", for uploads: no upload folder outlives its request, whatever
way the request ends (success, refusal, fault, client gone, worker killed), and every
refused or dead import leaves an ``import_run`` row saying so; a long file name keeps its
extension and is accepted.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests import hostile_files as hostile
from tests.import_fixtures import rows, write_csv
from tests.test_pages_upload import serve

TOKEN = "attempts-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HEADER = ["Mã nhiệm vụ", "Tên nhiệm vụ", "Mã tỉnh", "Hạn hoàn thành"]


def _uploads(var: Path) -> list[Path]:
    """The upload folders left under an instance's private directory."""
    return sorted(var.glob("instances/*/uploads/upload-*"))


def _runs(engine, outcome: str) -> list:
    return rows(
        engine,
        "select kind, file, actor, outcome, reason from import_run where outcome = :o order by id",
        o=outcome,
    )


def _wait(condition, timeout_s: float = 60.0) -> None:
    """Poll ``condition`` (a wait on a condition, generous for a loaded 2-core box)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not reached in {timeout_s} s: {condition}"
        time.sleep(0.1)


@pytest.fixture
def client(scratch_url, tmp_path):
    settings = Settings(database_url=scratch_url, admin_token=TOKEN, var_dir=str(tmp_path / "var"))
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def test_long_file_names_keep_their_extension_and_are_accepted(client, tmp_path):
    sheet = write_csv(tmp_path / "s.csv", HEADER, [["LONG-1", "Tên dài", "96", "31/12/2026"]])
    name = "Báo cáo tiến độ nhiệm vụ chuyển đổi số " * 5 + ".csv"  # 196 characters
    assert len(name) > 120
    r = client.post(
        "/api/v1/imports/tasks?dry_run=true",
        headers=AUTH,
        files={"file": (name, sheet.read_bytes(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert r.json()["file"].startswith("Báo cáo tiến độ") and r.json()["created"] == 1


def test_success_refusal_and_fault_each_remove_the_folder_and_refusals_are_recorded(
    client, scratch, tmp_path, monkeypatch
):
    var = tmp_path / "var"
    good = write_csv(tmp_path / "ok.csv", HEADER, [["OK-1", "Tốt", "96", "31/12/2026"]])
    r = client.post(
        "/api/v1/imports/tasks?dry_run=true", headers=AUTH,
        files={"file": ("ok.csv", good.read_bytes(), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 200 and _uploads(var) == []

    bomb = hostile.styles_bomb(tmp_path / "styles.xlsx")
    r = client.post(
        "/api/v1/imports/tasks", headers=AUTH, files={"file": ("styles.xlsx", bomb.read_bytes())}
    )
    assert r.status_code == 413 and r.json()["errors"][0]["limit"] == "max_styles"
    assert _uploads(var) == []
    refused = _runs(scratch, "refused")
    assert [(x.kind, x.file) for x in refused] == [("tasks", "styles.xlsx")]
    assert "max_styles" in refused[0].reason and refused[0].actor

    from geo.ingest import tasks  # the route imports the importer when it runs

    def boom(*_a, **_k):
        raise RuntimeError("injected fault")

    monkeypatch.setattr(tasks, "import_tasks", boom)
    r = client.post(
        "/api/v1/imports/tasks", headers=AUTH,
        files={"file": ("ok.csv", good.read_bytes(), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 500 and _uploads(var) == []
    faults = _runs(scratch, "interrupted")
    assert [(x.file, "RuntimeError" in x.reason) for x in faults] == [("ok.csv", True)]


def _start_upload(port: int, name: str, total: int, sent: int) -> socket.socket:
    """An upload whose client sends the headers and ``sent`` bytes of a ``total``-byte
    body, then waits."""
    boundary = "attempt-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        (
            "POST /api/v1/imports/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {TOKEN}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {total}\r\n\r\n"
        ).encode()
        + head
        + b"a" * (sent - len(head))
    )
    return sock


def test_a_client_that_leaves_mid_upload_leaves_no_folder_and_a_record(
    scratch, scratch_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("IOCMAP_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("IOCMAP_VAR_DIR", str(tmp_path / "var"))
    with serve(scratch_url) as origin:
        port = int(origin.rsplit(":", 1)[1])
        sock = _start_upload(port, "bo_do.csv", 1_500_000, 200_000)
        _wait(lambda: len(_uploads(tmp_path / "var")) == 1)
        sock.close()  # the client goes away
        _wait(lambda: _uploads(tmp_path / "var") == [])
        _wait(lambda: len(_runs(scratch, "interrupted")) == 1)
    assert _runs(scratch, "interrupted")[0].kind == "tasks"


def test_a_killed_worker_leaves_no_folder_and_a_record(scratch, scratch_url, tmp_path):
    """``SIGKILL`` runs no ``finally``: the folder is found by a sweep (at a worker's
    start, and before each upload), recorded as interrupted and removed."""
    from tests.test_crowds import _serve, _upload

    var = tmp_path / "var"
    good = write_csv(tmp_path / "ok.csv", HEADER, [["KILL-1", "Tốt", "96", "31/12/2026"]])
    env = {"IOCMAP_ADMIN_TOKEN": TOKEN, "IOCMAP_VAR_DIR": str(var), "IOCMAP_WORKERS": "2"}
    with _serve(scratch_url, tmp_path, **env) as proc:
        port = proc.port  # type: ignore[attr-defined]
        sock = _start_upload(port, "giua_chung.csv", 1_500_000, 200_000)
        _wait(lambda: len(_uploads(var)) == 1 and (_uploads(var)[0] / "attempt.json").exists())
        manifest = json.loads((_uploads(var)[0] / "attempt.json").read_text())
        os.kill(manifest["pid"], signal.SIGKILL)  # the worker serving the upload
        sock.close()
        for _ in range(3):  # whichever worker answers sweeps first
            status, _ = _upload(port, "/api/v1/imports/tasks?dry_run=true", "ok.csv",
                                good.read_bytes(), TOKEN)  # fmt: skip
            if status == 200 and not _uploads(var):
                break
        _wait(lambda: _uploads(var) == [])
        assert proc.poll() is None  # the server itself lives on
    interrupted = _runs(scratch, "interrupted")
    assert len(interrupted) == 1 and str(manifest["pid"]) in interrupted[0].reason


def test_a_killed_server_takes_its_workers_along_and_starts_again(db_url, tmp_path):
    """``SIGKILL`` of ``iocmap serve`` itself (the OOM killer, ``kill -9``): its workers
    stop too and the port is free, so the service starts again. Orphaned workers used to
    serve on with no supervisor and hold the port ("Address already in use")."""
    from tests.test_crowds import _serve
    from tests.test_sandbox_zygote import _gone_within

    with _serve(db_url, tmp_path, IOCMAP_WORKERS="2") as proc:
        port = proc.port  # type: ignore[attr-defined]
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) >= 2  # the workers (and multiprocessing's tracker)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        try:
            assert all(_gone_within(int(pid), 15) for pid in children), "a worker outlived it"
        finally:  # no orphan outlives a failed run
            for pid in children:
                with contextlib.suppress(OSError):
                    os.kill(int(pid), signal.SIGKILL)
    with socket.socket() as again:  # as uvicorn binds
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_the_cli_uses_the_sandbox_and_records_a_refused_file(scratch, scratch_url, tmp_path):
    from typer.testing import CliRunner

    from iocmap.cli import app as cli

    bomb = hostile.runs_bomb(tmp_path / "runs.xlsx")
    result = CliRunner().invoke(
        cli, ["import", "tasks", str(bomb)], env={"IOCMAP_DATABASE_URL": scratch_url}
    )
    assert result.exit_code == 1
    assert "max_runs_per_string" in " ".join(result.output.split())
    refused = _runs(scratch, "refused")
    assert [(x.kind, x.file) for x in refused] == [("tasks", "runs.xlsx")]
    assert "max_runs_per_string" in refused[0].reason and refused[0].actor.startswith("cli")
