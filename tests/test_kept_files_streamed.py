"""The original bytes of an import are kept and read back in chunks (issue 28): a large
upload never sits whole in the serving process, and reads back byte for byte."""

from __future__ import annotations

import hashlib
import io
import tracemalloc

from geo.ingest import files


class _Generated(io.RawIOBase):
    """``size`` bytes made on the fly (never held whole), the same every time."""

    def __init__(self, size: int, seed: bytes = b"iocmap") -> None:
        self.left, self.block, self.n = size, hashlib.sha256(seed).digest() * 4096, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        out = (self.block * (n // len(self.block) + 1))[:n]
        self.left -= n
        return out


def _sha_of(size: int) -> str:
    h, src = hashlib.sha256(), _Generated(size)
    while chunk := src.read(1 << 20):
        h.update(chunk)
    return h.hexdigest()


def test_a_large_file_is_kept_in_chunks_and_reads_back_the_same(scratch):
    size = 48 << 20  # 48 MiB
    tracemalloc.start()
    try:
        sha = files.store_streams(scratch, [("lon.geojson", _Generated(size))])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sha == _sha_of(size)
    assert peak < 12 << 20, f"kept with a peak of {peak / 2**20:.1f} MiB in this process"
    # the same content again: kept once
    assert files.store_streams(scratch, [("again.geojson", _Generated(size))]) == sha
    with scratch.connect() as conn:
        from sqlalchemy import text

        rows = conn.execute(
            text("select count(*), max(size) from import_file where sha256 = :s"), {"s": sha}
        ).one()
    assert tuple(rows) == (1, size)
    h, total = hashlib.sha256(), 0
    for chunk in files.read_stored(scratch, sha, size):
        assert len(chunk) <= files.READ_CHUNK
        h.update(chunk)
        total += len(chunk)
    assert (h.hexdigest(), total) == (sha, size)


def test_a_shapefiles_parts_are_kept_as_one_zip_whatever_their_order(scratch):
    import zipfile

    parts = [("xa.shp", b"shp" * 1000), ("xa.dbf", b"dbf" * 500), ("xa.prj", b"GEOGCS[]")]
    streamed = files.store_streams(scratch, [(n, io.BytesIO(b)) for n, b in reversed(parts)])
    in_memory = files.bundle(parts)
    assert streamed == hashlib.sha256(in_memory).hexdigest()
    with zipfile.ZipFile(io.BytesIO(in_memory)) as zf:
        assert zf.namelist() == ["xa.dbf", "xa.prj", "xa.shp"]
        assert zf.read("xa.shp") == b"shp" * 1000
