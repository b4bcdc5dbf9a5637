#!/bin/sh
# First start of the primary (official postgres entrypoint): let the `replica` profile's
# standby connect for streaming replication with the same password.
set -eu
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
