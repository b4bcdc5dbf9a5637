"""Domain exceptions of the import pipeline; ``api/errors.py`` maps each to an HTTP status.

Why a hierarchy here and not HTTPException: geo/ never imports FastAPI, and the CLI needs
the same errors (with the same messages naming file, row/feature and field) as the API.
Why no status codes here: which status an error is, is the API's business; one map in
``api/errors.py`` decides it (and this module then imports nothing of the pipeline).
"""

from __future__ import annotations


class IocmapError(Exception):
    """Base of every domain error: carries a message meant for the person who sent the file."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(IocmapError):
    """A file we cannot use at all: unreadable, wrong format, no usable field, no CRS…"""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        field: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.field = field
        self.row = row

    def as_problem(self) -> dict:
        """The same shape as a report problem, so clients parse one list."""
        return {"file": self.file, "row": self.row, "field": self.field, "reason": self.message}


class LimitExceeded(BadInput):
    """A file over one of the reader's limits (rows, cells, bytes inflated…): named, with
    the limit's value, so the sender knows what to split or trim."""

    def __init__(
        self, message: str, *, file: str | None, limit: str, value: int, stage: str | None = None
    ) -> None:
        super().__init__(message, file=file)
        self.limit = limit
        self.value = value
        self.stage = stage  # where reading stopped (sniff, count, parse…): the sandbox's

    def as_problem(self) -> dict:
        out = super().as_problem() | {"limit": self.limit, "max": self.value}
        return out | ({"stage": self.stage} if self.stage else {})


class ImportBusy(IocmapError):
    """Another import of the same kind holds the lock longer than we are willing to wait."""


class Conflict(IocmapError):
    """The request is valid but the state moved: a preview whose selection has changed since,
    a notice already withdrawn."""


class NotFound(IocmapError):
    """The thing named (a notice, a preview) does not exist."""


class Forbidden(IocmapError):
    """The writer may not change these units (a scoped token outside its province)."""
