"""What every import shares: the report, the per-kind lock, the test hook, the transaction.

Why one report type for boundaries, tasks and indicators: the CLI prints it as a table and
the API returns it as JSON, so a person reading either sees the same counts and the same
problems, each naming the file, the row (or feature) and the field.

The transaction rule (see ``run_in_transaction``): an import takes a transaction-level
advisory lock for its kind, stages, validates and swaps in ONE transaction, and commits only
when nothing failed; a dry run rolls back at the very end, so it reports exactly what a real
run would have done.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Literal

from sqlalchemy import Connection, Engine, text

from geo.errors import ImportBusy

Kind = Literal["boundaries", "tasks", "indicators"]
Status = Literal["imported", "no_changes", "dry_run", "rejected"]
# pg_advisory_xact_lock(namespace, kind): 57 = Resolution 57, one key per import kind.
LOCK_NAMESPACE = 57
LOCK_KEYS: dict[str, int] = {"boundaries": 1, "tasks": 2, "indicators": 3}
# Test hook: IOCMAP_IMPORT_FAIL_AT=staged|swapped makes an import fail at that point.
FAIL_ENV = "IOCMAP_IMPORT_FAIL_AT"
# Test hook: IOCMAP_IMPORT_PAUSE_AT=staged|swapped makes an import stop there (printing
# "iocmap-import-paused-at <name>" on stderr) so a test can SIGKILL it mid-transaction.
PAUSE_ENV = "IOCMAP_IMPORT_PAUSE_AT"
Progress = Callable[[str, int, int], None]  # (step, done, total)


class InjectedFailure(RuntimeError):
    """Raised by the test hook: proves a failure after staging leaves the database as it was."""


@dataclass
class Problem:
    """One thing wrong with one row or feature: where (file, row, field) and why."""

    file: str
    reason: str
    row: int | None = None  # 1-based sheet row (header = 1) or feature index (0-based)
    field: str | None = None
    code: str | None = None
    value: str | None = None

    def where(self) -> str:
        """``file, row 5, column 'Hạn hoàn thành'`` — the place a person looks at."""
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)


@dataclass
class ImportReport:
    """The outcome of one import, printed by the CLI and returned as JSON by the API."""

    kind: str
    file: str
    dry_run: bool = False
    status: Status = "rejected"
    read: int = 0  # features or rows read
    repaired: int = 0  # geometries made valid / re-oriented / forced to MultiPolygon
    rejected: list[Problem] = field(default_factory=list)  # rows/features not imported
    errors: list[Problem] = field(default_factory=list)  # problems that block the import
    warnings: list[Problem] = field(default_factory=list)  # imported anyway, worth a look
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)  # codes in the database, not in the file
    notes: list[str] = field(default_factory=list)  # CRS, encoding, field mapping decisions
    fields: dict[str, str] = field(default_factory=dict)  # our field → the file's column
    version: int | None = None  # data version after the import (None: not bumped)
    rejects_file: str | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def rejected_count(self) -> int:
        """Rows/features not imported (one may carry several problems)."""
        return len({(p.row, p.code) for p in self.rejected})

    @property
    def ok(self) -> bool:
        return self.status != "rejected"

    def error(self, reason: str, **where) -> Problem:
        p = Problem(self.file, reason, **where)
        self.errors.append(p)
        return p

    def warn(self, reason: str, **where) -> Problem:
        p = Problem(self.file, reason, **where)
        self.warnings.append(p)
        return p

    def reject(self, reason: str, **where) -> Problem:
        p = Problem(self.file, reason, **where)
        self.rejected.append(p)
        return p

    def summary(self) -> str:
        """One line for logs and the CLI's last line."""
        if self.status == "rejected":
            return f"rejected: {len(self.errors)} error(s), nothing changed"
        if self.status == "no_changes":
            return "no changes: the database already holds this file's content"
        verb = "would create" if self.dry_run else "created"
        return (
            f"{verb} {self.created}, {'would update' if self.dry_run else 'updated'} "
            f"{self.updated}, unchanged {self.unchanged}"
            + (f", rejected {self.rejected_count}" if self.rejected else "")
            + ("" if self.version is None else f"; data version {self.version}")
        )

    def to_dict(self) -> dict:
        """JSON-ready (the API's response body)."""
        d = asdict(self)
        d["changed"] = self.changed
        d["rejected_count"] = self.rejected_count
        d["summary"] = self.summary()
        d["seconds"] = round(self.seconds, 3)
        return d


def lock_import(conn: Connection, kind: str, timeout_s: float | None = None) -> None:
    """Serialise imports of one kind: a transaction-level advisory lock, released at commit.

    ``timeout_s`` bounds the wait (``lock_timeout``); past it ``ImportBusy`` is raised."""
    if timeout_s is not None:
        conn.execute(text("select set_config('lock_timeout', :t, true)"), {"t": f"{timeout_s}s"})
    try:
        conn.execute(
            text("select pg_advisory_xact_lock(:ns, :k)"),
            {"ns": LOCK_NAMESPACE, "k": LOCK_KEYS[kind]},
        )
    except Exception as exc:  # lock_timeout → LockNotAvailable (55P03)
        if "lock timeout" in str(exc).lower() or "55P03" in str(exc):
            raise ImportBusy(f"another {kind} import is running; try again shortly") from exc
        raise
    if timeout_s is not None:
        conn.execute(text("select set_config('lock_timeout', '0', true)"))


def fail_point(name: str, fail_at: str | None) -> None:
    """The test hook: fail here when asked by argument or by ``IOCMAP_IMPORT_FAIL_AT``."""
    wanted = fail_at or os.environ.get(FAIL_ENV)
    if wanted == name:
        raise InjectedFailure(f"injected failure at '{name}' (test hook)")
    if os.environ.get(PAUSE_ENV) == name:
        print(f"iocmap-import-paused-at {name}", file=sys.stderr, flush=True)
        time.sleep(120)


@contextmanager
def import_transaction(
    engine: Engine, kind: str, report: ImportReport, lock_timeout_s: float | None = None
) -> Iterator[Connection]:
    """One transaction per import: locked per kind; rolled back on error, on a dry run and
    when the report carries errors; committed otherwise."""
    start = time.perf_counter()
    conn = engine.connect()
    trans = conn.begin()
    try:
        lock_import(conn, kind, lock_timeout_s)
        yield conn
        if report.dry_run or report.errors:
            trans.rollback()
        else:
            trans.commit()
    except BaseException:
        trans.rollback()
        raise
    finally:
        conn.close()
        report.seconds += time.perf_counter() - start


def finish(report: ImportReport) -> ImportReport:
    """Set the final status from what happened (rejected / dry run / no changes / imported)."""
    if report.errors:
        report.status = "rejected"
        report.version = None
    elif report.dry_run:
        report.status = "dry_run"
        report.version = None
    elif not report.changed:
        report.status = "no_changes"
    else:
        report.status = "imported"
    return report


def checksums(conn: Connection) -> dict[str, tuple[int, str]]:
    """Row count and md5 of every data table: equal before and after means nothing changed."""
    out = {}
    for table, order in (
        ("admin_unit", "code"),
        ("unit_geometry_level", "unit_code, band"),
        ("task", "id"),
        ("task_event", "id"),
        ("indicator_value", "id"),
        ("data_state", "id"),
    ):
        row = conn.execute(
            text(
                f"select count(*), coalesce(md5(string_agg(t::text, '|' order by {order})), '')"  # noqa: S608
                f" from {table} t"
            )
        ).one()
        out[table] = (int(row[0]), row[1])
    return out
