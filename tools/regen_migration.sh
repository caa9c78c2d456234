#!/usr/bin/env bash
# Rewrite the initial Alembic migration from src/cognate/storage/schema.py (pre-release:
# the schema has one migration). Run after changing schema.py; commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=src/cognate/storage/migrations/versions
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mv "$versions/0001_initial_schema.py" "$scratch/previous.py"
if ! .venv/bin/alembic -c src/cognate/storage/migrations/alembic.ini \
    -x "db=sqlite:///$scratch/empty.db" revision --autogenerate --rev-id 0001 \
    -m "initial schema" >"$scratch/log" 2>&1; then
  mv "$scratch/previous.py" "$versions/0001_initial_schema.py"
  cat "$scratch/log" >&2
  exit 1
fi
f="$versions/0001_initial_schema.py"
sed -i '/Create Date/d' "$f"
.venv/bin/ruff check --fix -q "$f" >/dev/null 2>&1 || true
.venv/bin/ruff format -q "$f"
.venv/bin/ruff check -q "$f"
echo "rewrote $f"
