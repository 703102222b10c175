#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL (and Redis for the channel between instances).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export DATABASE_URL_POSTGRES=${DATABASE_URL_POSTGRES:-postgresql+asyncpg://postgres@127.0.0.1:5432/test}
if [ "${CI:-}" = "true" ]; then
  # In CI the PostgreSQL tests must run: start the local server when it is down.
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  # ... and so must the Redis tests (the channel between instances when REDIS_URL is set).
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
bash scripts/browser.sh || echo "test: no Chromium; the browser tests will say so" >&2
if [ "$#" -eq 0 ]; then
  # The whole suite: the packages, the tests and the benches are type-checked strictly first.
  .venv/bin/python -m mypy --strict domain calendar_agent chat_bridge mcp_server prompts tests bench
fi
exec .venv/bin/python -m pytest "$@"
