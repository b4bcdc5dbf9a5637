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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)


CHUNK = 1 << 20  # bytes read, hashed and sent to the database at a time
READ_CHUNK = 4 << 20  # bytes of a stored file read back at a time


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _CopySink(io.RawIOBase):
    """A write-only stream into the ``bytes`` field of a ``COPY … FROM STDIN`` row, hashing
    and counting what passes: the file never needs to be whole in this process."""

    def __init__(self, copy) -> None:
        self.copy, self.sha, self.size = copy, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        data = bytes(b)
        self.sha.update(data)
        self.size += len(data)
        self.copy.write(data.hex())
        return len(data)


def _write_parts(out, parts: Sequence[tuple[str, BinaryIO]]) -> None:
    """One file's bytes into ``out``: a single part as is; several (name, stream) as one
    ZIP, sorted by name with fixed times (the same parts give the same bytes, the same
    SHA-256), written as a stream (data descriptors: ``out`` need not seek)."""
    if len(parts) == 1:
        while chunk := parts[0][1].read(CHUNK):
            out.write(chunk)
        return
    with zipfile.ZipFile(_Unseekable(out), "w", zipfile.ZIP_DEFLATED) as zf:
        for name, stream in sorted(parts, key=lambda p: p[0]):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as entry:
                while chunk := stream.read(CHUNK):
                    entry.write(chunk)


class _Unseekable(io.RawIOBase):
    """``out`` as a stream zipfile cannot seek (so the ZIP is the same whatever ``out`` is:
    a database row or memory)."""

    def __init__(self, out) -> None:
        self.out, self.pos = out, 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.pos

    def write(self, b) -> int:
        n = self.out.write(bytes(b))
        self.pos += len(b)
        return n if n is not None else len(b)


def bundle(parts: Sequence[tuple[str, bytes]]) -> bytes:
    """One file's bytes from in-memory parts (name, bytes), as ``store_streams`` keeps them."""
    out = io.BytesIO()
    _write_parts(out, [(name, io.BytesIO(data)) for name, data in parts])
    return out.getvalue()


def store_bytes(engine: Engine, data: bytes) -> str:
    """Keep ``data`` (once per content) in a transaction of its own; its SHA-256."""
    return store_streams(engine, [("file", io.BytesIO(data))])


def store_streams(engine: Engine, parts: Sequence[tuple[str, BinaryIO]]) -> str:
    """Keep one file's parts (name, readable stream) as ``_write_parts`` makes them, once
    per content; its SHA-256. Streamed: ``COPY`` into a temporary table in chunks while
    hashing, then one insert that skips a file already kept — memory here stays at a chunk
    whatever the file's size (a 200 MiB upload used to be held whole)."""
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            cur.execute(
                "create temp table if not exists import_file_in"
                " (bytes bytea, size bigint, sha256 text) on commit drop"
            )
            with cur.copy("copy import_file_in (bytes, size, sha256) from stdin") as copy:
                copy.write("\\\\x")  # the bytea's hex form, backslash escaped for COPY
                sink = _CopySink(copy)
                _write_parts(sink, parts)
                sha = sink.sha.hexdigest()
                copy.write(f"\t{sink.size}\t{sha}\n")
            cur.execute(
                "insert into import_file (sha256, bytes, size)"
                " select sha256, bytes, size from import_file_in"
                " on conflict (sha256) do nothing"
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


def store_parts(engine: Engine, parts: Sequence[tuple[str, BinaryIO]]) -> str | None:
    """``store_streams`` of an upload's parts (name, the request's spooled copy, read from
    its start): the serving process never opens the saved upload for reading (only the
    parsing sandbox does). None, logged, when it cannot be kept (the import goes on; its
    log then names no file)."""
    try:
        for _, stream in parts:
            stream.seek(0)
        return store_streams(engine, parts) if parts else None
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
        opened = [(Path(p).name, open(p, "rb")) for p in paths]  # noqa: SIM115
    except OSError:
        log.exception("could not read %s to keep it", [str(p) for p in paths])
        return None
    try:
        return store_parts(engine, opened)
    finally:
        for _, fh in opened:
            fh.close()


def stored_file(conn: Connection, import_id: int) -> dict | None:
    """The import run's kind, file name, scope facts, the stored file's size and first
    bytes (None: no such run). ``size`` is None when the run kept no file or retention
    removed it; the bytes are read with ``read_stored`` (in chunks)."""
    row = (
        conn.execute(
            text(
                "select r.id, r.kind, r.file, r.token_id, r.file_sha256, f.size,"
                " substring(f.bytes from 1 for 4) as head,"
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


def read_stored(engine: Engine, sha256: str, size: int) -> Iterator[bytes]:
    """A kept file's bytes in chunks of ``READ_CHUNK``, each read on its own short
    connection (the column is stored uncompressed, migration 0024: a slice is read
    without the rest)."""
    for start in range(0, size, READ_CHUNK):
        with engine.connect() as conn:
            chunk = conn.execute(
                text("select substring(bytes from :a for :n) from import_file where sha256 = :s"),
                {"a": start + 1, "n": READ_CHUNK, "s": sha256},
            ).scalar_one()
        yield bytes(chunk)


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
