#!/usr/bin/env bash
# Regenerate the initial migration from the models (allowed while no store has been released:
# the project is pre-1.0 and revision 0001 is the only one). After the first release, add a new
# revision per change instead: `alembic revision --autogenerate` with the same config.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
cat > "$tmp/alembic.ini" <<INI
[alembic]
script_location = $PWD/src/closedloop/migrations
sqlalchemy.url = sqlite:///$tmp/empty.db
INI
rm -f src/closedloop/migrations/versions/0001_*.py
.venv/bin/alembic -c "$tmp/alembic.ini" revision --autogenerate --rev-id 0001 -m "initial schema" >/dev/null
.venv/bin/ruff format -q src/closedloop/migrations/versions/ || true
.venv/bin/ruff check -q --fix src/closedloop/migrations/versions/ >/dev/null || true
rm -rf "$tmp"
echo "regenerated src/closedloop/migrations/versions/0001_initial_schema.py"
