#!/bin/sh
# Read the database password from a Docker secret into PGPASSWORD (libpq uses it for
# IOCMAP_DATABASE_URL / IOCMAP_READ_DATABASE_URL without a password), then run the command.
set -eu
if [ -n "${PGPASSWORD_FILE:-}" ] && [ -z "${PGPASSWORD:-}" ]; then
  PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
  export PGPASSWORD
fi
exec "$@"
