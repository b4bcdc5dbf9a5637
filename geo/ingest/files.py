"""The original bytes of every import, kept by SHA-256 (``import_file``, migration 0019).

Why PostgreSQL (bytea) and not a folder: one place, in the backups with the import log that
points at it, and locked the same way — the app role may insert and read a file, never
change or delete it (an ``*_append_only`` trigger; see ``geo/roles.py``). Content-addressed:
the same sheet sent twice is stored once. Bounded by the upload caps
(``IOCMAP_IMPORT_MAX_BYTES``, sheets ``IOCMAP_IMPORT_SHEET_MAX_BYTES``); files older than
``IOCMAP_IMPORT_FILES_KEEP_DAYS`` are deleted by the owner's ``iocmap imports prune-files``
(the import log keeps their SHA-256 and name).

A shapefile sent as parts (.shp, .shx, .dbf, .prj…) is kept as one ZIP of its parts.
"""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle(parts: Sequence[tuple[str, bytes]]) -> bytes:
    """One file's bytes; several parts (name, bytes) as one ZIP (sorted, fixed times: the
    same parts give the same bytes, the same SHA-256)."""
    if len(parts) == 1:
        return parts[0][1]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(parts):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def store_bytes(engine: Engine, data: bytes) -> str:
    """Keep ``data`` (once per content) in a transaction of its own; its SHA-256."""
    sha = digest(data)
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into import_file (sha256, bytes, size) values (:s, :b, :n)"
                " on conflict (sha256) do nothing"
            ),
            {"s": sha, "b": data, "n": len(data)},
        )
    return sha


SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def parts_of(path: Path) -> list[Path]:
    """What a command-line import reads: the file, or a shapefile and its sidecar parts;
    nothing for a folder (kept as no file)."""
    path = Path(path)
    if not path.is_file():
        return []
    if path.suffix.lower() != ".shp":
        return [path]
    return sorted(
        p
        for p in path.parent.glob(path.stem + ".*")
        if p.is_file() and p.stem == path.stem and p.suffix.lower() in SHAPEFILE_PARTS
    )


def store_parts(engine: Engine, parts: Sequence[tuple[str, bytes]]) -> str | None:
    """``store_bytes`` of an upload's parts (name, bytes), as they streamed in: the serving
    process never opens an uploaded file for reading (only the parsing sandbox does). None,
    logged, when it cannot be kept (the import goes on; its log then names no file)."""
    try:
        return store_bytes(engine, bundle(parts)) if parts else None
    except Exception:  # noqa: BLE001 - keeping the file must not block the import
        log.exception("could not keep the uploaded file %s", [name for name, _ in parts])
        return None


def store_paths(engine: Engine, paths: Sequence[Path], cap: int | None = None) -> str | None:
    """``store_parts`` of a command-line import's file (or a shapefile's parts); None when
    there is none or it is over ``cap`` bytes."""
    try:
        if not paths or (cap is not None and sum(Path(p).stat().st_size for p in paths) > cap):
            if paths:
                log.warning("not keeping %s: over the %s-byte upload cap", paths[0], cap)
            return None
        parts = [(Path(p).name, Path(p).read_bytes()) for p in paths]
    except OSError:
        log.exception("could not read %s to keep it", [str(p) for p in paths])
        return None
    return store_parts(engine, parts)


def stored_file(conn: Connection, import_id: int) -> dict | None:
    """The import run's kind, file name, scope facts and stored bytes (None: no such run).
    ``bytes`` is None when the run kept no file or retention removed it."""
    row = (
        conn.execute(
            text(
                "select r.id, r.kind, r.file, r.token_id, r.file_sha256, f.bytes, f.size,"
                " array(select unit_code from import_run_unit u where u.import_run_id = r.id)"
                "   as units"
                " from import_run r left join import_file f on f.sha256 = r.file_sha256"
                " where r.id = :i"
            ),
            {"i": import_id},
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def prune(owner_engine: Engine, keep_days: int) -> tuple[int, int]:
    """Delete stored files older than ``keep_days`` (as the owner: the app role may not);
    (files, bytes) removed. ``keep_days`` 0 keeps everything."""
    if keep_days <= 0:
        return 0, 0
    with owner_engine.begin() as conn:
        conn.execute(text("set local iocmap.allow_history_reset = 'on'"))
        row = conn.execute(
            text(
                "with gone as (delete from import_file"
                " where at < now() - make_interval(days => :d) returning size)"
                " select count(*), coalesce(sum(size), 0) from gone"
            ),
            {"d": keep_days},
        ).one()
    return int(row[0]), int(row[1])
