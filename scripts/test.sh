#!/usr/bin/env bash
# Set up everything, run the linters, then the whole test suite on SQLite and, when a PostgreSQL
# server answers, on PostgreSQL too. Extra arguments go to pytest (e.g. -k roster).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== lint"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache

if [ -z "${ZHIBU_TEST_DATABASE_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
   && pg_isready -q -h 127.0.0.1 -p 5432; then
  export ZHIBU_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
fi
echo "== tests (PostgreSQL: ${ZHIBU_TEST_DATABASE_URL:-not configured, those tests skip})"
.venv/bin/python -m pytest "$@"
