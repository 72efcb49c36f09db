#!/usr/bin/env bash
# Write the next Alembic revision for the model changes that no revision holds yet:
#   scripts/regen_migration.sh "what the revision does"    (or: make migration MESSAGE="...")
# A scratch SQLite store is upgraded to the current head and the models are compared with it, so
# the new revision holds only the difference. Revisions already written are never regenerated: a
# store at any of them must still upgrade. Review the result before committing: an index on a
# table the application writes goes through closedloop.migrations.online (docs/DEPLOYMENT.md).
set -euo pipefail
message=${1:-${MESSAGE:-}}
if [ -z "$message" ]; then
  echo "usage: $0 \"what the revision does\"   (or: make migration MESSAGE=\"...\")" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
versions=src/closedloop/migrations/versions
last=$(find "$versions" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]_*.py' -printf '%f\n' | sort | tail -1)
next=$(printf '%04d' $((10#${last:0:4} + 1)))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/alembic.ini" <<INI
[alembic]
script_location = $PWD/src/closedloop/migrations
sqlalchemy.url = sqlite:///$tmp/scratch.db
INI
.venv/bin/alembic -c "$tmp/alembic.ini" upgrade head >/dev/null
.venv/bin/alembic -c "$tmp/alembic.ini" revision --autogenerate --rev-id "$next" -m "$message" >/dev/null
.venv/bin/ruff format -q "$versions" || true
.venv/bin/ruff check -q --fix "$versions" >/dev/null || true
echo "wrote $(ls "$versions"/"$next"_*.py)"
