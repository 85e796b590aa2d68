#!/usr/bin/env bash
# One database and one role per service; each role owns its database and nothing else,
# and no other role may connect to it (services never read each other's tables).
#
# Run by the postgres image's entrypoint on the first start (empty data volume) with
# <SERVICE>_DB_PASSWORD from docker-compose.yml, and by `make run-compose-local` against
# the embedded server. Safe to run again: existing roles and databases are kept, and
# each role's password is set again from its variable (that is how to rotate one).
set -euo pipefail

# The key vault is no service, but it gets its database and role the same way.
SERVICES="touchpoint profile segmentation campaign customer_view vault"

for service in $SERVICES; do
  variable="$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  password="${!variable:-}"
  if [ -z "$password" ]; then
    echo "init: $variable is not set" >&2
    exit 1
  fi
  psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
       --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
       -v name="$service" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
ALTER ROLE :"name" WITH LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
  echo "init: database and role $service ready"
done
