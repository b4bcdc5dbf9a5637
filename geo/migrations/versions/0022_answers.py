"""A unit's answer through its reply link: the date it expects to finish, an import kind

Revision ID: 0022_answers
Revises: 0021_deliveries
Create Date: 2026-12-07

Why (issue 27): a notice is answered per task with "done on (date)" or "reason, proposal
and the date it expects to finish". The expected date is the unit's own word, kept beside
the deadline (which the plan sets and nobody's answer moves): ``task.expected_at``, imported
from sheets too ("Dự kiến hoàn thành"). An answer lands through the task-sheet import path
as its own kind, ``answers``, so the import log tells an answer from a sheet.

The history stamp (0011) marks any actor that is neither a live token nor a ``cli:`` login
``unverified:``. An answer has no token: its credential is the signed link, which the app
checks. The stamp now also names a notice's answer, from the session setting
``iocmap.reply`` (a reminder id), as "phản hồi phiếu nhắc <số>" — only for a notice that
exists and was not withdrawn, and with the notice's own number, never a text the app chose.
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_answers"
down_revision = "0021_deliveries"
branch_labels = None
depends_on = None


STAMP_FN = """
create or replace function history_stamp() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  secret text := nullif(current_setting('iocmap.token', true), '');
  reply text := nullif(current_setting('iocmap.reply', true), '');
  t_id integer;
  t_name text;
  r_name text;
begin
  if pg_has_role(session_user, (select relowner from pg_class where oid = tg_relid), 'USAGE')
  then
    return new;  -- the owner (demo loader, migrations) states its own actor and time
  end if;
  new.at := now();
  new.token_id := null;
  if secret is not null then
    select id, name into t_id, t_name from api_token
     where token_hash = encode(sha256(convert_to(secret, 'UTF8')), 'hex')
       and revoked_at is null
       and expires_at > now();
  end if;
  if t_id is null and reply is not null and reply ~ '^[0-9]{1,18}$' then
    select 'phản hồi phiếu nhắc ' || coalesce(r.doc_number, cast(r.id as text)) into r_name
      from reminder r
     where r.id = cast(reply as bigint)
       and not exists (select 1 from reminder_withdrawal w where w.reminder_id = r.id);
  end if;
  if t_id is not null then
    new.actor := 'token:' || t_name;
    new.token_id := t_id;
  elsif r_name is not null then
    new.actor := r_name;
  elsif new.actor is null or new.actor not like 'cli:%' then
    new.actor := 'unverified:' || coalesce(new.actor, session_user::text);
  end if;
  return new;
end
$$
"""

OLD_STAMP_FN = """
create or replace function history_stamp() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  secret text := nullif(current_setting('iocmap.token', true), '');
  t_id integer;
  t_name text;
begin
  if pg_has_role(session_user, (select relowner from pg_class where oid = tg_relid), 'USAGE')
  then
    return new;  -- the owner (demo loader, migrations) states its own actor and time
  end if;
  new.at := now();
  new.token_id := null;
  if secret is not null then
    select id, name into t_id, t_name from api_token
     where token_hash = encode(sha256(convert_to(secret, 'UTF8')), 'hex')
       and revoked_at is null
       and expires_at > now();
  end if;
  if t_id is not null then
    new.actor := 'token:' || t_name;
    new.token_id := t_id;
  elsif new.actor is null or new.actor not like 'cli:%' then
    new.actor := 'unverified:' || coalesce(new.actor, session_user::text);
  end if;
  return new;
end
$$
"""


def upgrade() -> None:
    op.execute(STAMP_FN)
    op.execute("revoke all on function history_stamp() from public")
    op.add_column("task", sa.Column("expected_at", sa.Date(), nullable=True))
    op.drop_constraint("import_run_kind", "import_run", type_="check")
    op.create_check_constraint(
        "import_run_kind",
        "import_run",
        "kind in ('boundaries', 'tasks', 'indicators', 'targets', 'answers')",
    )


def downgrade() -> None:
    op.execute(OLD_STAMP_FN)
    op.drop_constraint("import_run_kind", "import_run", type_="check")
    op.create_check_constraint(
        "import_run_kind", "import_run", "kind in ('boundaries', 'tasks', 'indicators', 'targets')"
    )
    op.drop_column("task", "expected_at")
