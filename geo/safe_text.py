"""Text that leaves the service for a spreadsheet, a header or a stored name.

Why: a file name from an upload is stored as ``source`` and repeated in downloads and
headers; a cell that starts with ``=`` is a formula to Excel (``=HYPERLINK(...)``,
``=cmd|'/c calc'!A0``). Three rules, one place:

- ``file_label``: an upload's name as we store and show it: base name only, NFC, no
  control or format characters (no CR/LF, no bidi overrides), bounded length.
- ``header_value``: what may go in an HTTP header: printable ASCII only.
- ``spreadsheet_cell`` / ``neutralise_frame``: OWASP's CSV-injection rule: a text cell
  beginning with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading ``'``; numbers (and
  text that is just a number, such as ``-12.5``) stay as they are.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
MAX_LABEL_CHARS = 200


def file_label(name: str | None, default: str = "upload") -> str:
    """An uploaded file's name fit to store as ``source`` and to show anywhere."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]  # a client may send a path
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    return text[:MAX_LABEL_CHARS] or default


def header_value(text: str | None) -> str:
    """``text`` reduced to printable ASCII (``?`` for the rest), safe in any header."""
    return "".join(c if " " <= c <= "~" else "?" for c in text or "")[:500]


def spreadsheet_cell(value: object) -> object:
    """One cell with formula-looking text neutralised; everything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns are safe to open in a spreadsheet."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(spreadsheet_cell)
    out.columns = [spreadsheet_cell(c) for c in out.columns]
    return out
