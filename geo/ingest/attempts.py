"""Every import attempt leaves a trace, and no upload folder outlives its request.

Why: an import that reached the data records itself (``report.import_transaction``), but
one refused before that — unreadable, over a limit, stopped by the parsing sandbox, a 403
or a 409 — or one whose request died (the client went away, the worker was killed) left
nothing, and a killed request left its upload folder behind (79 MB each). Now:

- ``record_attempt`` writes the ``import_run`` row of a refused (``refused``) or dead
  (``interrupted``) import, with the reason, in a transaction of its own;
- an upload folder carries ``attempt.json`` (kind, file, who, and the serving process's
  pid and start time) from its first moment; the request removes its folder on every way
  out, and ``sweep`` — run when a worker starts and before each upload — records and
  removes the folders whose process is gone (a worker killed by ``SIGKILL`` runs no
  ``finally``). The pid's start time guards against a reused pid.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from geo.procs import alive, start_time

log = logging.getLogger(__name__)
MANIFEST = "attempt.json"
MAX_REASON_CHARS = 1000
ORPHAN_AFTER_S = 3600.0  # a folder with no readable manifest is removed after this long


@dataclass
class Attempt:
    """What an upload folder says about the import it belongs to."""

    kind: str
    file: str
    actor: str | None
    token_id: int | None
    dry_run: bool
    pid: int = 0
    started: str = ""  # the process's start time (/proc), to tell a reused pid
    file_sha256: str | None = None  # the upload, once kept (``geo.ingest.files``)


def write_manifest(folder: Path, attempt: Attempt) -> None:
    """Mark ``folder`` as this process's upload for ``attempt`` (rewritten when the file's
    name becomes known)."""
    attempt.pid = os.getpid()
    attempt.started = start_time(attempt.pid)
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(asdict(attempt)))
    tmp.replace(folder / MANIFEST)


def record_attempt(
    engine: Engine, attempt: Attempt, outcome: str, reason: str | None = None
) -> int | None:
    """The ``import_run`` row of an import that did not reach the data (``refused``) or
    whose request died (``interrupted``), with the kept file; its id. Never raises: the
    caller is already failing (None when the trace could not be written)."""
    try:
        with engine.begin() as conn:
            return conn.execute(
                text(
                    "insert into import_run (kind, file, actor, token_id, created, updated,"
                    " unchanged, rejected, version, dry_run, outcome, version_before, reason,"
                    " file_sha256)"
                    " select :kind, :file, :actor, :token_id, 0, 0, 0, 0, null, :dry_run,"
                    " :outcome, (select version from data_state where id = 1), :reason, :sha"
                    " returning id"
                ),
                {
                    "kind": attempt.kind,
                    "file": attempt.file,
                    "actor": attempt.actor,
                    "token_id": attempt.token_id,
                    "dry_run": attempt.dry_run,
                    "outcome": outcome,
                    "reason": (reason or "")[:MAX_REASON_CHARS] or None,
                    "sha": attempt.file_sha256,
                },
            ).scalar_one()
    except Exception:  # noqa: BLE001 - a trace lost is logged, the answer still goes out
        log.exception("could not record the %s import of %s", outcome, attempt.file)
        return None


def sweep(uploads: Path, engine: Engine | None) -> int:
    """Record (``interrupted``) and remove every upload folder whose serving process is
    gone; remove folders without a manifest once old. Returns how many were removed."""
    removed = 0
    try:
        folders = [p for p in uploads.iterdir() if p.is_dir() and p.name.startswith("upload-")]
        for stale in uploads.glob("swept-upload-*"):  # a sweep that died half-way
            shutil.rmtree(stale, ignore_errors=True)
    except OSError:
        return 0
    for folder in folders:
        try:
            data = json.loads((folder / MANIFEST).read_text())
            attempt = Attempt(**data)
        except (OSError, ValueError, TypeError):
            try:
                old = time.time() - folder.stat().st_mtime > ORPHAN_AFTER_S
            except OSError:
                continue
            if old:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
            continue
        if attempt.pid == os.getpid() or alive(attempt.pid, attempt.started):
            continue
        claimed = folder.with_name("swept-" + folder.name)
        try:
            folder.rename(claimed)  # atomic: one sweeping worker records it, not two
        except OSError:
            continue
        shutil.rmtree(claimed, ignore_errors=True)
        removed += 1
        if engine is not None:
            record_attempt(
                engine,
                attempt,
                "interrupted",
                f"Tiến trình xử lý tệp tải lên đã dừng (pid {attempt.pid}) — the server"
                " process handling this upload stopped before it finished",
            )
    return removed
