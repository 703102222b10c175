#!/usr/bin/env bash
# The main job: migrate the embedded SQLite, seed demo data when empty, run the service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/calendar-agent serve --seed-demo-if-empty "$@"
