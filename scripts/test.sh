#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL (and Redis for the channel between instances).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --tests
bash scripts/browser.sh || echo "test: no Chromium; the browser tests will say so" >&2
if [ "$#" -eq 0 ]; then
  # The whole suite: the packages, the tests and the benches are type-checked strictly first.
  .venv/bin/python -m mypy --strict domain calendar_agent chat_bridge mcp_server prompts tests bench
fi
# PostgreSQL at DATABASE_URL_POSTGRES and Redis at REDIS_URL_TEST when they answer (in CI the machine's PostgreSQL
# cluster is started first), else throwaway servers of this run's own, stopped when pytest ends however it ends.
exec .venv/bin/python -m tests.servers .venv/bin/python -m pytest "$@"
