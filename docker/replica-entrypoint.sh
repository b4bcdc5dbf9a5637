#!/bin/bash
# The `replica` profile: on first start clone the primary with pg_basebackup -R (a streaming
# replica that follows it), then run PostgreSQL as a hot standby.
set -euo pipefail
export PGPASSWORD="$(cat /run/secrets/db_password)"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h db -U "$POSTGRES_USER" -q; do sleep 1; done
  pg_basebackup -h db -U "$POSTGRES_USER" -D "$PGDATA" -R -X stream -c fast
  printf "hot_standby = on\nhot_standby_feedback = on\n" >> "$PGDATA/postgresql.conf"
  chmod 700 "$PGDATA"
fi
exec postgres
