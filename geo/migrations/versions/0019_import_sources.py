"""Every upload kept, every change traceable to an import run and a sheet row

Revision ID: 0019_import_sources
Revises: 0018_meetings
Create Date: 2026-12-07

Why (issue 28): a figure must be checkable — which file, which row set it. Now:

- ``import_file`` holds the original bytes of every import (accepted, dry run or refused),
  content-addressed by SHA-256; ``import_run.file_sha256`` points at it. Append-only for the
  app role (SELECT, INSERT; a trigger refuses UPDATE, DELETE, TRUNCATE); only the owner's
  retention run (``iocmap imports prune-files``, with ``iocmap.allow_history_reset``) deletes;
- ``import_run`` ids are taken at the start of the import's transaction and published in
  the transaction-local setting ``iocmap.import_run``; a trigger stamps ``task_event`` and
  ``indicator_value`` rows written in that transaction with it (``import_run_id``); the
  importers write the sheet row (``source_row``; NULL = an API call or the demo loader);
- ``indicator_value_event``: the append-only history of indicator values (each insert,
  delete and change of value of ``indicator_value`` — not a rank recomputed alone —
  appended by a trigger, stamped with the token like
  ``task_event``), so a period's value can be read as it stood on any day.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019_import_sources"
down_revision = "0018_meetings"
branch_labels = None
depends_on = None

HATCH = """
create or replace function {name}() returns trigger
language plpgsql as $$
begin
  if tg_op in ('DELETE', 'TRUNCATE')
     and coalesce(current_setting('iocmap.allow_history_reset', true), '') = 'on'
     and pg_has_role(session_user,
                     (select relowner from pg_class where oid = tg_relid), 'USAGE') then
    if tg_level = 'ROW' then
      return old;
    end if;
    return null;
  end if;
  raise exception '% is append-only (% refused)', tg_table_name, tg_op
    using errcode = 'insufficient_privilege';
end
$$
"""

RUN_STAMP_FN = """
create or replace function import_run_source_stamp() returns trigger
language plpgsql as $$
declare
  run text := nullif(current_setting('iocmap.import_run', true), '');
begin
  if tg_op = 'UPDATE' then
    if new.value is not distinct from old.value
       and new.source_row is not distinct from old.source_row then
      return new;  -- a rank recomputed: the value is still the one its run set
    end if;
  end if;
  if run is not null then
    new.import_run_id := cast(run as bigint);
  elsif tg_op = 'UPDATE' then
    new.import_run_id := null;  -- changed outside an import: an API call, not that run
    new.source_row := null;
  end if;
  return new;
end
$$
"""

VALUE_LOG_FN = """
create or replace function indicator_value_log() returns trigger
language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    insert into indicator_value_event (actor, action, indicator_code, unit_code, period,
                                       value, rank, import_run_id, source_row)
    values (nullif(current_setting('iocmap.actor', true), ''), 'delete', old.indicator_code,
            old.unit_code, old.period, null, null,
            nullif(current_setting('iocmap.import_run', true), '')::bigint, null);
    return old;
  end if;
  insert into indicator_value_event (actor, action, indicator_code, unit_code, period,
                                     value, rank, import_run_id, source_row)
  values (nullif(current_setting('iocmap.actor', true), ''), 'set', new.indicator_code,
          new.unit_code, new.period, new.value, new.rank, new.import_run_id, new.source_row);
  return new;
end
$$
"""


def upgrade() -> None:
    op.create_table(
        "import_file",
        sa.Column("sha256", sa.Text(), primary_key=True),
        sa.Column("bytes", postgresql.BYTEA(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="import_file_sha256_hex"),
        sa.CheckConstraint("size = length(bytes)", name="import_file_size"),
    )
    op.create_index("import_file_at_idx", "import_file", ["at"])
    op.execute(HATCH.format(name="import_file_append_only"))
    op.execute(
        "create trigger import_file_append_only before update or delete on import_file"
        " for each row execute function import_file_append_only()"
    )
    op.execute(
        "create trigger import_file_append_only_truncate before truncate on import_file"
        " for each statement execute function import_file_append_only()"
    )
    op.add_column("import_run", sa.Column("file_sha256", sa.Text(), nullable=True))
    op.create_index("import_run_file_idx", "import_run", ["file_sha256"])

    for table in ("task_event", "indicator_value"):
        op.add_column(table, sa.Column("import_run_id", sa.BigInteger(), nullable=True))
        op.add_column(table, sa.Column("source_row", sa.Integer(), nullable=True))
    op.create_index("task_event_import_run_idx", "task_event", ["import_run_id"])
    op.execute(RUN_STAMP_FN)
    op.execute(
        "create trigger task_event_source_stamp before insert on task_event"
        " for each row execute function import_run_source_stamp()"
    )
    op.execute(
        "create trigger indicator_value_source_stamp before insert or update on indicator_value"
        " for each row execute function import_run_source_stamp()"
    )

    op.create_table(
        "indicator_value_event",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("api_token.id"), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("indicator_code", sa.Text(), nullable=False),
        sa.Column("unit_code", sa.String(5), nullable=True),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("import_run_id", sa.BigInteger(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.CheckConstraint("action in ('set', 'delete')", name="indicator_value_event_action"),
    )
    op.create_index(
        "indicator_value_event_key_idx",
        "indicator_value_event",
        ["indicator_code", "period", "unit_code", "at"],
    )
    op.execute(HATCH.format(name="indicator_value_event_append_only"))
    op.execute(
        "create trigger indicator_value_event_append_only before update or delete"
        " on indicator_value_event for each row"
        " execute function indicator_value_event_append_only()"
    )
    op.execute(
        "create trigger indicator_value_event_append_only_truncate before truncate"
        " on indicator_value_event for each statement"
        " execute function indicator_value_event_append_only()"
    )
    op.execute(
        "create trigger indicator_value_event_stamp before insert on indicator_value_event"
        " for each row execute function history_stamp()"
    )
    op.execute(VALUE_LOG_FN)
    op.execute(
        "create trigger indicator_value_log after insert or delete on indicator_value"
        " for each row execute function indicator_value_log()"
    )
    # a rank recomputed from the other units' values is no new value: not logged
    op.execute(
        "create trigger indicator_value_log_update after update on indicator_value"
        " for each row when (old.value is distinct from new.value"
        " or old.source_row is distinct from new.source_row"
        " or old.import_run_id is distinct from new.import_run_id)"
        " execute function indicator_value_log()"
    )
    # the values already stored start their history now (unknown source)
    op.execute(
        "insert into indicator_value_event (actor, action, indicator_code, unit_code, period,"
        " value, rank) select 'migration:0019', 'set', indicator_code, unit_code, period,"
        " value, rank from indicator_value"
    )


def downgrade() -> None:
    op.execute("drop trigger if exists indicator_value_log_update on indicator_value")
    op.execute("drop trigger if exists indicator_value_log on indicator_value")
    op.execute("drop function if exists indicator_value_log()")
    op.drop_table("indicator_value_event")
    op.execute("drop function if exists indicator_value_event_append_only()")
    op.execute("drop trigger if exists indicator_value_source_stamp on indicator_value")
    op.execute("drop trigger if exists task_event_source_stamp on task_event")
    op.execute("drop function if exists import_run_source_stamp()")
    op.drop_index("task_event_import_run_idx", table_name="task_event")
    for table in ("task_event", "indicator_value"):
        op.drop_column(table, "source_row")
        op.drop_column(table, "import_run_id")
    op.drop_index("import_run_file_idx", table_name="import_run")
    op.drop_column("import_run", "file_sha256")
    op.drop_table("import_file")
    op.execute("drop function if exists import_file_append_only()")
