"""What every import shares: the report, the per-kind lock, the hook points, the transaction.

Why one report type for boundaries, tasks and indicators: the CLI prints it as a table and
the API returns it as JSON, so a person reading either sees the same counts and the same
problems, each naming the file, the row (or feature) and the field.

The transaction rule (see ``run_in_transaction``): an import takes a transaction-level
advisory lock for its kind, stages, validates and swaps in ONE transaction, and commits only
when nothing failed; a dry run rolls back at the very end, so it reports exactly what a real
run would have done. A committed import also writes one ``import_run`` row (kind, file,
actor, token, counts) in the same transaction: who changed the data is never lost.

Why the lock wait is bounded and says who holds it: an office uploading a sheet while a
large dry run holds the lock must hear within seconds which import is in the way, not wait
two minutes for a bare 409.

Hook points (``fail_point``) are where tests inject a failure or a pause; production code
passes no hook, and nothing is read from the environment.
"""

from __future__ import annotations

import getpass
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Literal

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from geo.errors import ImportBusy

Kind = Literal["boundaries", "tasks", "indicators", "targets", "answers"]
Status = Literal["imported", "no_changes", "dry_run", "rejected"]
# pg_advisory_xact_lock(namespace, kind): 57 = Resolution 57, one key per import kind.
LOCK_NAMESPACE = 57
# answers write tasks through the task path: they wait for a task import (same key)
LOCK_KEYS: dict[str, int] = {
    "boundaries": 1,
    "tasks": 2,
    "indicators": 3,
    "targets": 4,
    "answers": 2,
}
DEFAULT_LOCK_WAIT_S = 10.0  # how long an import waits for another of its kind (then 409)
Progress = Callable[[str, int, int], None]  # (step, done, total)
# Called at each named point of an import ("staged": rows written, "swapped": data changed,
# not committed); tests pass one to fail or pause there.
ImportHook = Callable[[str], None]


class InjectedFailure(RuntimeError):
    """Raised by a test hook: proves a failure after staging leaves the database as it was."""


@dataclass
class Problem:
    """One thing wrong with one row or feature: where (file, row, field) and why."""

    file: str
    reason: str
    row: int | None = None  # 1-based sheet row (header = 1) or feature index (0-based)
    field: str | None = None
    code: str | None = None
    value: str | None = None  # the cell as the user wrote it
    expected: str | None = None  # what would be accepted there

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
    # every header of the sheet: used (for which field) or ignored (with its likely field)
    columns: list[dict] = field(default_factory=list)
    # task sheets, per row: matched by code, by the office's alias, by natural key, or new
    matches: list[dict] = field(default_factory=list)
    # task sheets: the day the sheet reports on (its title block, the option, or the day of
    # the import), and the rows marked done without a completion date (done by that day)
    report_date: str | None = None
    undated: list[dict] = field(default_factory=list)
    # units (or agencies) the committed sheet reported for: data health's "last report";
    # recorded in import_run_unit, not part of the JSON body
    units_reported: list[str] = field(default_factory=list)
    lang: str = "vi"  # the language of the reasons (not part of the JSON body)
    # seconds = wall time of the whole import (the report's creation to ``finish``), and
    # per phase: prepare (read, parse, clean: before the transaction), lock_wait,
    # transaction (check, stage, write, commit), after (the transaction to ``finish``)
    phases: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter, repr=False, compare=False)
    _mark: float = field(default=0.0, repr=False, compare=False)
    _phase: str = field(default="prepare", repr=False, compare=False)

    def __post_init__(self) -> None:
        # the first phase starts when the import does: two clock reads differed by a few µs
        # on a loaded machine, and the phases no longer summed to ``seconds``
        self._mark = self.started

    def end_phase(self, next_phase: str | None = None) -> float:
        """Close the running phase (its seconds added to ``phases``) and start ``next_phase``."""
        now = time.perf_counter()
        self.phases[self._phase] = self.phases.get(self._phase, 0.0) + (now - self._mark)
        self._mark = now
        if next_phase is not None:
            self._phase = next_phase
        return now

    # the ``import_run`` row of this import (issue 28: every response names it) and the
    # stored file it read (``import_file``, by SHA-256)
    import_id: int | None = None
    file_sha256: str | None = None

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
        for private in ("units_reported", "lang", "started", "_mark", "_phase"):
            d.pop(private)
        d["phases"] = {k: round(v, 3) for k, v in self.phases.items()}
        d["changed"] = self.changed
        d["rejected_count"] = self.rejected_count
        d["summary"] = self.summary()
        d["seconds"] = round(self.seconds, 3)
        return d


def localise(reason: object, lang: str) -> tuple[str, str | None, str | None]:
    """A problem's reason → (text, the cell's value, what is expected) in ``lang``: a
    ``CellError`` (or anything with ``vi``/``expected`` attributes) carries both languages;
    plain text is shown as it is."""
    vi = getattr(reason, "vi", None)
    text_ = vi if lang != "en" and vi else str(reason)
    expected = getattr(reason, "expected_en" if lang == "en" else "expected", None)
    return text_, getattr(reason, "value", None), expected


def default_actor() -> str:
    """Who imports from the command line: ``cli:<login>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def _ascii_label(text_: str, limit: int = 63) -> str:
    """ASCII for ``application_name`` (PostgreSQL replaces other characters by ``?``)."""
    folded = unicodedata.normalize("NFKD", text_.replace("đ", "d").replace("Đ", "D"))
    out = "".join(ch for ch in folded if 32 <= ord(ch) < 127)
    return out[:limit]


def holder_label(kind: str, report: ImportReport, actor: str | None) -> str:
    """What a waiting import is told holds the lock: kind, dry run, actor, file."""
    dry = " dry run" if report.dry_run else ""
    return _ascii_label(f"iocmap {kind}{dry} by {actor or '?'}: {report.file}")


def lock_import(
    conn: Connection, kind: str, timeout_s: float | None = None, label: str | None = None
) -> None:
    """Serialise imports of one kind: a transaction-level advisory lock, released at commit.

    ``timeout_s`` bounds the wait (``lock_timeout``, None = wait for ever); past it
    ``ImportBusy`` names the holder (its ``label``, shown as the session's
    ``application_name``) and how long it has been running."""
    key = {"ns": LOCK_NAMESPACE, "k": LOCK_KEYS[kind]}
    if timeout_s is not None:
        conn.execute(text("select set_config('lock_timeout', :t, true)"), {"t": f"{timeout_s}s"})
    try:
        with conn.begin_nested():  # a timeout must not abort the import's transaction
            conn.execute(text("select pg_advisory_xact_lock(:ns, :k)"), key)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        raise ImportBusy(_busy_message(conn, kind, timeout_s or 0.0)) from exc
    if timeout_s is not None:
        conn.execute(text("select set_config('lock_timeout', '0', true)"))
    if label:
        conn.execute(text("select set_config('application_name', :n, true)"), {"n": label})


def _busy_message(conn: Connection, kind: str, waited_s: float) -> str:
    holder = conn.execute(
        text(
            "select a.application_name, a.pid,"
            " extract(epoch from clock_timestamp() - a.xact_start) as secs"
            " from pg_locks l join pg_stat_activity a on a.pid = l.pid"
            " where l.locktype = 'advisory' and l.granted and l.classid = :ns"
            " and l.objid = :k and l.objsubid = 2"
            " and l.database = (select oid from pg_database where datname = current_database())"
            " limit 1"
        ),
        {"ns": LOCK_NAMESPACE, "k": LOCK_KEYS[kind]},
    ).first()
    who = "another session"
    if holder is not None:
        name = holder.application_name or f"database session {holder.pid}"
        who = f"{name}, running for {float(holder.secs or 0):.0f} s"
    return (
        f"another {kind} import is running ({who}); waited {waited_s:g} s for it:"
        " try again when it has finished"
    )


def fail_point(name: str, hook: ImportHook | str | None = None) -> None:
    """A named point of every import where a test may fail or pause it.

    ``hook`` is a callable (called with the point's name) or, as a shorthand, the name of
    the point at which to raise ``InjectedFailure``. Production passes None."""
    if hook is None:
        return
    if callable(hook):
        hook(name)
    elif hook == name:
        raise InjectedFailure(f"injected failure at '{name}' (test hook)")


@contextmanager
def import_transaction(
    engine: Engine,
    kind: str,
    report: ImportReport,
    lock_timeout_s: float | None = None,
    *,
    actor: str | None = None,
    token_id: int | None = None,
) -> Iterator[Connection]:
    """One transaction per import: locked per kind; rolled back on error, on a dry run and
    when the report carries errors; committed otherwise, with its ``import_run`` row
    (``actor``: who, None if the caller does not say; ``token_id``: the API token). A dry
    run or a rejected import is recorded too, after the rollback, in a transaction of its
    own (the listing ``GET /api/v1/imports`` shows every attempt that reached the data)."""
    report.end_phase("lock_wait")
    conn = engine.connect()
    trans = conn.begin()
    try:
        lock_import(conn, kind, lock_timeout_s, holder_label(kind, report, actor))
        report.end_phase("transaction")
        before = conn.execute(text("select version from data_state where id = 1")).scalar()
        # the run's id is taken now and published to this transaction: the database stamps
        # the task events and indicator values written here with it (migration 0019)
        report.import_id = conn.execute(
            text(
                "select id, set_config('iocmap.import_run', cast(id as text), true),"
                " set_config('iocmap.actor', coalesce(cast(:actor as text), ''), true)"
                " from (select nextval('import_run_id_seq') as id) s"
            ),
            {"actor": actor},
        ).scalar_one()
        yield conn
        if report.dry_run or report.errors:
            trans.rollback()
            with conn.begin():
                record_run(conn, kind, report, actor, token_id, before)
        else:
            record_run(conn, kind, report, actor, token_id, before)
            trans.commit()
    except BaseException:
        trans.rollback()
        raise
    finally:
        conn.close()
        report.end_phase("after")


def run_outcome(report: ImportReport) -> str:
    """What an import came to, as ``import_run.outcome`` records it (``finish``'s rule)."""
    if report.errors:
        return "rejected"
    if report.dry_run:
        return "dry_run"
    return "imported" if report.changed else "no_changes"


def record_run(
    conn: Connection,
    kind: str,
    report: ImportReport,
    actor: str | None,
    token_id: int | None,
    version_before: int | None = None,
) -> None:
    """The audit row of one import (a committed one's is the transaction's last write),
    with the units a committed one reported for (data health's "last report")."""
    outcome = run_outcome(report)
    run_id = conn.execute(
        text(
            "insert into import_run (id, kind, file, actor, token_id, created, updated,"
            " unchanged, rejected, version, dry_run, outcome, version_before, file_sha256)"
            " values (coalesce(:id, nextval('import_run_id_seq')), :kind, :file, :actor,"
            " :token_id, :created, :updated, :unchanged, :rejected, :version, :dry_run,"
            " :outcome, :version_before, :sha) returning id"
        ),
        {
            "id": report.import_id,
            "sha": report.file_sha256,
            "kind": kind,
            "file": report.file,
            "actor": actor,
            "token_id": token_id,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected_count,
            "version": report.version if outcome in ("imported", "no_changes") else None,
            "dry_run": report.dry_run,
            "outcome": outcome,
            "version_before": version_before,
        },
    ).scalar_one()
    report.import_id = run_id
    if report.units_reported and outcome in ("imported", "no_changes"):
        conn.execute(
            text(
                "insert into import_run_unit (import_run_id, unit_code)"
                " select :r, u from unnest(cast(:units as text[])) as u"
            ),
            {"r": run_id, "units": sorted(set(report.units_reported))},
        )


def finish(report: ImportReport) -> ImportReport:
    """Set the final status from what happened (rejected / dry run / no changes / imported)
    and the wall time of the whole import."""
    report.seconds = report.end_phase() - report.started
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


DATA_TABLES = (
    "admin_unit",
    "unit_geometry_level",
    "task",
    "task_event",
    "indicator_value",
    "agency",
    "target",
    "data_state",
)


def row_versions(
    conn: Connection, tables: tuple[str, ...] = DATA_TABLES
) -> dict[str, tuple[int, int]]:
    """Row count and newest row version (``xmin``) of each table: equal before and after
    means nothing was written. Why not a digest of the rows: any insert or update makes a
    row version newer than every one before it and a delete lowers the count, so this sees
    every write (a rewrite to the same values too), and it reads no row as text — an md5 of
    the task history was 0.3 s of server CPU a call. ``tables``: names from our own code."""
    out = {}
    for table in tables:
        row = conn.execute(
            text(f"select count(*), coalesce(max(xmin::text::bigint), 0) from {table}")  # noqa: S608
        ).one()
        out[table] = (int(row[0]), int(row[1]))
    return out
