"""Stored reports: the files the scheduled run (``iocmap report scheduled``) writes, and
their listing (``GET /api/v1/reports``).

Each report is ``bao-cao_<period>[_<province>]_<as-of>.docx`` (and ``.pdf``) with a JSON
note beside it (period, as-of, province, created, files); a later run for the same period
and as-of date replaces them. Names are made here from checked parts only, and the
download route accepts nothing but a name of that shape, so no path leaves the folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

NAME = re.compile(r"^bao-cao_\d{4}-(?:Q[1-4]|\d{2})(?:_\d{2})?_\d{4}-\d{2}-\d{2}\.(?:docx|pdf)$")
LIST_CAP = 200


def file_stem(period: str, as_of: dt.date, province: str | None) -> str:
    where = f"_{province}" if province else ""
    return f"bao-cao_{period}{where}_{as_of.isoformat()}"


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def store(folder: Path, period: str, as_of: dt.date, province: str | None, docx: bytes,
          pdf: bytes | None) -> list[Path]:  # fmt: skip
    """Write the files and their note; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(period, as_of, province)
    written = [folder / f"{stem}.docx"]
    _atomic(written[0], docx)
    if pdf is not None:
        written.append(folder / f"{stem}.pdf")
        _atomic(written[1], pdf)
    note = {
        "period": period,
        "as_of": as_of.isoformat(),
        "province": province,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "files": [p.name for p in written],
    }
    _atomic(folder / f"{stem}.json", json.dumps(note, ensure_ascii=False).encode())
    return written


def listing(folder: Path, prefix: str = "/api/v1/reports/stored/") -> list[dict]:
    """Every stored report, newest first, each with its download links."""
    out: list[dict] = []
    if not folder.is_dir():
        return out
    for note in sorted(folder.glob("bao-cao_*.json"))[-LIST_CAP:]:
        try:
            meta = json.loads(note.read_text(encoding="utf-8"))
            files = [f for f in meta.get("files", []) if NAME.match(f) and (folder / f).is_file()]
        except (OSError, ValueError, AttributeError):
            continue  # a half-written or foreign note: not listed
        out.append(
            {
                "period": meta.get("period"),
                "as_of": meta.get("as_of"),
                "province": meta.get("province"),
                "created": meta.get("created"),
                "links": {f.rsplit(".", 1)[1]: prefix + f for f in files},
            }
        )
    return sorted(out, key=lambda r: str(r["created"]), reverse=True)
