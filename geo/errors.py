"""Domain exceptions of the import pipeline; ``api/errors.py`` maps them to HTTP statuses.

Why a hierarchy here and not HTTPException: geo/ never imports FastAPI, and the CLI needs
the same errors (with the same messages naming file, row/feature and field) as the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.ingest.report import ImportReport


class IocmapError(Exception):
    """Base of every domain error: carries a message meant for the person who sent the file."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(IocmapError):
    """A file we cannot use at all: unreadable, wrong format, no usable field, no CRS…"""

    status_code = 422

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


class ImportRejected(IocmapError):
    """The file was read but failed validation: nothing was written; the report says why."""

    status_code = 422

    def __init__(self, report: ImportReport) -> None:
        n = len(report.errors)
        super().__init__(f"import rejected: {n} error{'s' if n != 1 else ''} in {report.file}")
        self.report = report


class ImportBusy(IocmapError):
    """Another import of the same kind holds the lock longer than we are willing to wait."""

    status_code = 409


class Forbidden(IocmapError):
    """The writer may not change these units (a scoped token outside its province)."""

    status_code = 403


class FileTooLarge(IocmapError):
    """An upload over the configured size cap."""

    status_code = 413
