#!/usr/bin/env bash
# Set up everything, then start the demo: the local DingTalk/WeCom emulator, the bot on a fresh
# SQLite file, and a seeded demo organisation. Open the URL it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/zhibu demo "$@"
