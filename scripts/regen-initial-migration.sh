#!/usr/bin/env bash
# Until the first release the schema is one migration, regenerated from the models.
# After a release, write append-only migrations with `alembic revision --autogenerate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f models/migrations/versions/0001_initial.py
ZHIBU_DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/alembic revision --autogenerate -m initial --rev-id 0001 >/dev/null
.venv/bin/ruff format -q models/migrations/versions/0001_initial.py
.venv/bin/ruff check -q --fix --select I,F401 models/migrations/versions/0001_initial.py || true
rm -rf "$tmp"
echo "regenerated models/migrations/versions/0001_initial.py"
