"""Tables of iocmap (SQLAlchemy 2 + GeoAlchemy2); the migrations in ``geo/migrations`` create them.

Why these shapes: every join and aggregate runs in PostGIS, so the schema keeps the
unit hierarchy, the display geometries and the raw task dates; task *status* is never
stored, it is derived for an as-of date by the SQL function ``task_status`` (see
``geo/read/progress.py``).

Why one module (over 400 lines): the tables are one schema that one test compares with the
migrated database (``tests/test_schema_matches_migrations.py``); kept together, a column
added by a migration is missed in one place only.
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base for all iocmap tables."""


class AdminUnit(Base):
    """A province/city (2-digit code) or a commune/ward/special zone (5-digit code)."""

    __tablename__ = "admin_unit"
    __table_args__ = (
        CheckConstraint("level in ('province', 'commune')", name="admin_unit_level"),
        Index("admin_unit_parent_idx", "parent_code"),
        Index("admin_unit_name_key_idx", "name_key"),
        # search on the compact key (geo/read/search.py; migration 0006_search_trgm)
        Index(
            "admin_unit_compact_key_trgm",
            text("(replace(name_key, ' '::text, ''::text)) gin_trgm_ops"),
            postgresql_using="gin",
        ),
    )

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    level: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # Tỉnh | Thành phố | Xã | Phường | Đặc khu
    parent_code: Mapped[str | None] = mapped_column(
        String(5), ForeignKey("admin_unit.code", deferrable=True, initially="DEFERRED")
    )
    area_km2: Mapped[float | None] = mapped_column(Float)  # official figure when known
    population: Mapped[int | None] = mapped_column(Integer)
    area_source: Mapped[str | None] = mapped_column(Text)  # file | official
    population_source: Mapped[str | None] = mapped_column(Text)  # file | official
    source_attributes: Mapped[dict | None] = mapped_column(JSONB)  # the file's other columns
    outline_kept: Mapped[bool] = mapped_column(Boolean, server_default=false())
    imported_by: Mapped[str | None] = mapped_column(Text)  # actor of the last boundary import
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    label_point = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    source: Mapped[str] = mapped_column(Text)
    geometry_quality: Mapped[str] = mapped_column(Text)  # approximate | official
    valid_from: Mapped[dt.date] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class UnitGeometryLevel(Base):
    """Topology-preserving simplified geometry of a unit for one display band."""

    __tablename__ = "unit_geometry_level"

    unit_code: Mapped[str] = mapped_column(
        String(5), ForeignKey("admin_unit.code", ondelete="CASCADE"), primary_key=True
    )
    band: Mapped[str] = mapped_column(String(8), primary_key=True)  # e.g. z6, z9, z12
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)


class Agency(Base):
    """A ministry or central body: holds tasks like a unit, has no territory or geometry.

    Codes are the letter abbreviations the bodies use in their document numbers
    (``BKHCN`` as in 1709/BKHCN-CĐSQG), ASCII with Đ → D; see ``geo/agencies.py``."""

    __tablename__ = "agency"
    __table_args__ = (CheckConstraint("code ~ '^[A-Z]{2,16}$'", name="agency_code_letters"),)

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # Bộ | Cơ quan ngang bộ | Cơ quan thuộc Chính phủ
    name_key: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(SmallInteger)


class Task(Base):
    """A Resolution 57 / Plan 02 task held by one unit; status is derived, never stored."""

    __tablename__ = "task"
    __table_args__ = (
        Index("task_unit_idx", "unit_code"),
        Index("task_program_year_idx", "program", "year"),
        Index("task_agency_idx", "agency_code"),
        CheckConstraint(
            "completed_at is null or start_date is null or completed_at >= start_date",
            name="task_completed_after_start",
        ),
        CheckConstraint("(unit_code is null) <> (agency_code is null)", name="task_holder"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(Text, unique=True)
    program: Mapped[str] = mapped_column(Text)  # NQ57 | KH02 | …
    group_no: Mapped[int | None] = mapped_column(SmallInteger)
    phase: Mapped[int | None] = mapped_column(SmallInteger)
    year: Mapped[int] = mapped_column(SmallInteger)  # the year the deadline falls in
    title: Mapped[str] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(String(5), ForeignKey("admin_unit.code"))
    agency_code: Mapped[str | None] = mapped_column(String(16), ForeignKey("agency.code"))
    lead_agency: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    completed_at: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)  # nguyên nhân chậm / khó khăn, vướng mắc
    proposal: Mapped[str | None] = mapped_column(Text)  # giải pháp, kiến nghị
    person_in_charge: Mapped[str | None] = mapped_column(Text)  # người phụ trách: name, title
    product: Mapped[str | None] = mapped_column(Text)  # sản phẩm
    authority: Mapped[str | None] = mapped_column(Text)  # cấp có thẩm quyền quyết định
    expected_at: Mapped[dt.date | None] = mapped_column(Date)  # dự kiến hoàn thành (0022)
    office_status: Mapped[str | None] = mapped_column(Text)  # the office's own words, kept
    # completed_at is only a bound (done without a date, by the sheet's report date)
    completed_at_bound: Mapped[bool] = mapped_column(Boolean, server_default=false())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class TaskDifficulty(Base):
    """A task's stated difficulty: its category (suggested by keyword rules or given) and
    the central body or task it waits on (``geo/difficulties.py``, migration 0023)."""

    __tablename__ = "task_difficulty"
    __table_args__ = (
        Index("task_difficulty_category_idx", "category"),
        Index("task_difficulty_waits_idx", "waits_on_task_id"),
        Index("task_difficulty_agency_idx", "waits_on_agency"),
    )

    task_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("task.id", ondelete="RESTRICT"), primary_key=True
    )
    category: Mapped[str | None] = mapped_column(Text)
    suggested: Mapped[bool] = mapped_column(Boolean, server_default=false())
    waits_on_agency: Mapped[str | None] = mapped_column(String(16), ForeignKey("agency.code"))
    waits_on_task_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("task.id", ondelete="RESTRICT")
    )
    waits_on_text: Mapped[str | None] = mapped_column(Text)
    waits_on_central: Mapped[bool] = mapped_column(Boolean, server_default=false())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class TaskEvent(Base):
    """Append-only history of every change to a task: who, when, from which file, old → new.

    ``at``, ``actor`` and ``token_id`` are stamped by the database (``history_stamp``,
    migration 0011), and a task with history cannot be deleted (``RESTRICT``)."""

    __tablename__ = "task_event"
    __table_args__ = (
        Index("task_event_task_idx", "task_id"),
        Index("task_event_import_run_idx", "import_run_id"),  # 0019
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, ForeignKey("task.id", ondelete="RESTRICT"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    token_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("api_token.id"))
    action: Mapped[str] = mapped_column(Text)  # create | update
    old: Mapped[dict | None] = mapped_column(JSONB)
    new: Mapped[dict] = mapped_column(JSONB)
    # 0019: the import run (stamped from ``iocmap.import_run``) and sheet row that set it
    import_run_id: Mapped[int | None] = mapped_column(BigInteger)
    source_row: Mapped[int | None] = mapped_column(Integer)


class ApiToken(Base):
    """An API token (only its SHA-256 is stored); revoked tokens stay for the audit trail."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("role in ('viewer', 'editor', 'admin')", name="api_token_role"),
        CheckConstraint(
            "scope_level is null or scope_level in ('province', 'commune', 'agency')",
            name="api_token_scope_level",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    token_prefix: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    scope_level: Mapped[str | None] = mapped_column(Text)
    scope_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # 0011


class Indicator(Base):
    """An indicator definition: what it measures and which direction is better."""

    __tablename__ = "indicator"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)  # points | %
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    level: Mapped[str] = mapped_column(Text)  # province | commune | both | national
    programme: Mapped[str | None] = mapped_column(Text)  # KH02-2: a Plan 02 phase-2 indicator
    green_at: Mapped[float | None] = mapped_column(Float)  # the value that turns it green


class IndicatorValue(Base):
    """One value of an indicator for one unit and period (``2025-Q3`` or ``2024``)."""

    __tablename__ = "indicator_value"
    __table_args__ = (
        UniqueConstraint("indicator_code", "unit_code", "period"),
        Index("indicator_value_period_idx", "indicator_code", "period"),
        Index(
            "indicator_value_national_uq",
            "indicator_code",
            "period",
            unique=True,
            postgresql_where=text("unit_code is null"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_code: Mapped[str] = mapped_column(Text, ForeignKey("indicator.code"))
    # null for an indicator of the ``national`` level (no unit)
    unit_code: Mapped[str | None] = mapped_column(String(5), ForeignKey("admin_unit.code"))
    period: Mapped[str] = mapped_column(Text)
    value: Mapped[float] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)  # 1 = best among units of its level
    # 0019: the import run and sheet row that set the value (NULL: demo or API)
    import_run_id: Mapped[int | None] = mapped_column(BigInteger)
    source_row: Mapped[int | None] = mapped_column(Integer)


class IndicatorValueEvent(Base):
    """Append-only history of indicator values (0019): every insert, update and delete of
    ``indicator_value``, appended by a trigger and stamped like ``task_event``."""

    __tablename__ = "indicator_value_event"
    __table_args__ = (
        CheckConstraint("action in ('set', 'delete')", name="indicator_value_event_action"),
        Index("indicator_value_event_key_idx", "indicator_code", "period", "unit_code", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str | None] = mapped_column(Text)
    token_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("api_token.id"))
    action: Mapped[str] = mapped_column(Text)
    indicator_code: Mapped[str] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(String(5))
    period: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    import_run_id: Mapped[int | None] = mapped_column(BigInteger)
    source_row: Mapped[int | None] = mapped_column(Integer)


class ImportFile(Base):
    """The original bytes of an import's file, by SHA-256 (0019; append-only)."""

    __tablename__ = "import_file"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="import_file_sha256_hex"),
        CheckConstraint("size = length(bytes)", name="import_file_size"),
        Index("import_file_at_idx", "at"),
    )

    sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    bytes: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DataState(Base):
    """One row: the data version (bumped by every import) and the reporting date."""

    __tablename__ = "data_state"
    __table_args__ = (CheckConstraint("id = 1", name="data_state_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    reporting_date: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ImportRun(Base):
    """One committed import of any kind: who sent which file, what it did (append-only)."""

    __tablename__ = "import_run"
    __table_args__ = (
        CheckConstraint(
            "kind in ('boundaries', 'tasks', 'indicators', 'targets', 'answers')",
            name="import_run_kind",
        ),
        Index("import_run_kind_at_idx", "kind", "at"),
        Index("import_run_at_idx", "at", "id"),  # the listing, newest first (0006)
        Index("import_run_file_idx", "file_sha256"),  # 0019
        CheckConstraint(
            "outcome is null or outcome in"
            " ('imported', 'no_changes', 'dry_run', 'rejected', 'refused', 'interrupted')",
            name="import_run_outcome",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    kind: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(Text)  # NULL: the caller did not say
    token_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("api_token.id"))
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    version: Mapped[int | None] = mapped_column(BigInteger)
    # 0006: dry runs and rejected imports are recorded too (outcome NULL: before 0006)
    dry_run: Mapped[bool] = mapped_column(Boolean, server_default=false())
    outcome: Mapped[str | None] = mapped_column(Text)
    version_before: Mapped[int | None] = mapped_column(BigInteger)
    # 0010: why a refused or interrupted import stopped (what the sender was told)
    reason: Mapped[str | None] = mapped_column(Text)
    # 0019: the file it read (``import_file``; NULL before 0019 or once pruned)
    file_sha256: Mapped[str | None] = mapped_column(Text)


class ImportRunUnit(Base):
    """Which units (or agencies) one committed import named: a unit's "last report"."""

    __tablename__ = "import_run_unit"
    __table_args__ = (Index("import_run_unit_code_idx", "unit_code"),)

    import_run_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("import_run.id"), primary_key=True
    )
    unit_code: Mapped[str] = mapped_column(String(16), primary_key=True)


class Target(Base):
    """A unit's published target, evaluated for an as-of date (``geo/read/targets.py``).

    ``subject`` is an indicator code (rank_max, value_min), a programme (completion_min:
    NQ57 | KH02) or an indicator programme (all_green: KH02-2)."""

    __tablename__ = "target"
    __table_args__ = (
        UniqueConstraint("unit_code", "subject", "kind"),
        CheckConstraint(
            "kind in ('rank_max', 'value_min', 'completion_min', 'all_green')", name="target_kind"
        ),
        CheckConstraint("(kind = 'all_green') = (threshold is null)", name="target_threshold"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(5), ForeignKey("admin_unit.code"))
    subject: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    threshold: Mapped[float | None] = mapped_column(Float)
    due: Mapped[dt.date] = mapped_column(Date)
    label: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Reminder(Base):
    """One reminder notice to one unit: who, when, which tasks (with their round), reply-by
    date (append-only, like ``task_event``)."""

    __tablename__ = "reminder"
    __table_args__ = (
        Index("reminder_unit_idx", "unit_code", "at"),
        Index("reminder_agency_idx", "agency_code", "at"),
        Index(
            "reminder_number_uq",
            "issuer_code",
            "number_year",
            "number",
            unique=True,
            postgresql_where=text("number is not null"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    token_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("api_token.id"))
    unit_code: Mapped[str | None] = mapped_column(String(5), ForeignKey("admin_unit.code"))
    agency_code: Mapped[str | None] = mapped_column(String(16), ForeignKey("agency.code"))
    program: Mapped[str] = mapped_column(Text)
    as_of: Mapped[dt.date] = mapped_column(Date)
    reply_by: Mapped[dt.date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(Text)
    tasks: Mapped[list] = mapped_column(JSONB)
    issuer_code: Mapped[str | None] = mapped_column(Text)
    number_year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
    doc_number: Mapped[str | None] = mapped_column(Text)  # "125/UBND-KGVX"
    reasons: Mapped[list | None] = mapped_column(JSONB)  # why the unit was selected
    escalated: Mapped[bool] = mapped_column(Boolean, server_default=false())  # automatic round
    leader: Mapped[str | None] = mapped_column(Text)  # leader in charge copied (escalations)


class UnitContact(Base):
    """Who takes notices for a province, commune or agency; ``is_leader`` marks the leader
    in charge of its area, copied on escalations. Personal data: never in public layers."""

    __tablename__ = "unit_contact"
    __table_args__ = (
        CheckConstraint("(unit_code is null) <> (agency_code is null)", name="unit_contact_holder"),
        Index("unit_contact_unit_idx", "unit_code"),
        Index("unit_contact_agency_idx", "agency_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    unit_code: Mapped[str | None] = mapped_column(String(5), ForeignKey("admin_unit.code"))
    agency_code: Mapped[str | None] = mapped_column(String(16), ForeignKey("agency.code"))
    role: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    is_leader: Mapped[bool] = mapped_column(Boolean, server_default=false())
    position: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_by: Mapped[str | None] = mapped_column(Text)


class ReminderAnswer(Base):
    """A unit's answer to a notice through its reply link (append-only, like the notice)."""

    __tablename__ = "reminder_answer"
    __table_args__ = (Index("reminder_answer_reminder_idx", "reminder_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("reminder.id", ondelete="RESTRICT")
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    answers: Mapped[list] = mapped_column(JSONB)
    import_run_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("import_run.id"))
    remote_addr: Mapped[str | None] = mapped_column(Text)


class Delivery(Base):
    """One notice's delivery on one channel (``email`` | ``webhook``): a queue row the worker
    claims with ``FOR UPDATE SKIP LOCKED`` (``geo/remind/deliver.py``)."""

    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint("channel in ('email', 'webhook')", name="delivery_channel"),
        CheckConstraint("status in ('queued', 'sent', 'failed', 'dead')", name="delivery_status"),
        UniqueConstraint("reminder_id", "channel", name="delivery_once"),
        Index(
            "delivery_due_idx",
            "next_attempt_at",
            postgresql_where=text("status in ('queued', 'failed')"),
        ),
        Index("delivery_status_idx", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("reminder.id", ondelete="RESTRICT")
    )
    channel: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="queued")
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    next_attempt_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    recipients: Mapped[list | None] = mapped_column(JSONB)


class EscalationRun(Base):
    """A day the escalation of silent holders ran (once per day, whichever worker)."""

    __tablename__ = "escalation_run"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    escalated: Mapped[int] = mapped_column(Integer, server_default="0")


class ReminderWithdrawal(Base):
    """A notice issued by mistake, withdrawn: who, when, why (append-only; the notice stays)."""

    __tablename__ = "reminder_withdrawal"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("reminder.id", ondelete="RESTRICT"), unique=True
    )
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(Text)
    token_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("api_token.id"))
    reason: Mapped[str] = mapped_column(Text)


class NoticeIssuer(Base):
    """What an issuing body's letters say in their header and signature block."""

    __tablename__ = "notice_issuer"

    code: Mapped[str] = mapped_column(Text, primary_key=True)  # province code, or "TW"
    parent: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    abbrev: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(Text)
    signer_title: Mapped[str] = mapped_column(Text)
    signer_name: Mapped[str] = mapped_column(Text, server_default="")
    archive: Mapped[str] = mapped_column(Text, server_default="VT")


class NoticeNumber(Base):
    """The last document number an issuer gave in a year (numbers run from 1 each year)."""

    __tablename__ = "notice_number"

    issuer_code: Mapped[str] = mapped_column(Text, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Programme(Base):
    """A programme tasks belong to (``geo/ingest/programmes.py``): NQ57 with provincial
    action programmes as children (their tasks count in NQ57), KH02 with its phases (an
    entry with ``phase``: its tasks are stored under the parent's code with that phase)."""

    __tablename__ = "programme"
    __table_args__ = (
        CheckConstraint("code ~ '^[A-Z0-9][A-Z0-9-]{0,23}$'", name="programme_code_form"),
        CheckConstraint(
            "phase is null or parent_code is not null", name="programme_phase_has_parent"
        ),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    parent_code: Mapped[str | None] = mapped_column(Text, ForeignKey("programme.code"))
    phase: Mapped[int | None] = mapped_column(SmallInteger)
    province_code: Mapped[str | None] = mapped_column(String(2))


class TaskAlias(Base):
    """An office's own code for a stored task, kept when a sheet row was matched to the
    task by its natural key, so that the office's next sheet matches by code."""

    __tablename__ = "task_alias"
    __table_args__ = (Index("task_alias_task_idx", "task_id"),)

    alias: Mapped[str] = mapped_column(Text, primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, ForeignKey("task.id", ondelete="CASCADE"))
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Meeting(Base):
    """A meeting's current choice (view, province), followed by every screen opened with
    its key (api/meetings.py); the presenter's secret is kept as a digest."""

    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint("length(key) BETWEEN 4 AND 64", name="meeting_key_length"),
        Index("meeting_updated_at", "updated_at"),
    )

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[dict] = mapped_column(JSONB)
    seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
