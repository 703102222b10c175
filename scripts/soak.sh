#!/usr/bin/env bash
# The tests of concurrency and crashes (kill -9 mid-turn and mid-send, the durable queue, two instances on
# one PostgreSQL, confirmations and the limits that add up across calls, bursts, notices, the waitlist's races,
# the automatic no-show's sweepers, button presses, sign-in guesses and OAuth codes raced, the agent acting for a
# burst's authors), run N times in a row
# (default 20) beside two CPU-bound processes, as a shared CI machine runs them. Prints one line per run and the count at the end; exits
# non-zero when any run failed. Extra arguments replace the list of tests.
#   bash scripts/soak.sh            # 20 runs
#   bash scripts/soak.sh 5 tests/calendar_agent/test_notice_crash.py
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
shift || true
bash scripts/bootstrap.sh --tests
export CI=true  # the PostgreSQL tests must run, never skip
tests=("$@")
if [ "${#tests[@]}" -eq 0 ]; then
  tests=(tests/calendar_agent/test_crash_recovery.py tests/calendar_agent/test_notice_crash.py
         tests/calendar_agent/test_two_instances.py tests/chat_bridge/test_queue.py tests/chat_bridge/test_instances.py
         tests/chat_bridge/test_notices.py tests/domain/test_jobs.py tests/mcp_server/test_confirmation.py
         tests/acceptance/test_confirming.py tests/acceptance/test_answered_once.py tests/mcp_server/test_effects.py
         tests/acceptance/test_asking.py tests/chat_bridge/test_waitlist_presses.py
         tests/domain/waitlist/test_waitlist_answers.py tests/domain/waitlist/test_waitlist_places.py
         tests/chat_bridge/test_no_shows.py tests/chat_bridge/test_button_replies.py
         tests/domain/staff/test_sign_in_races.py tests/domain/staff/test_oauth_races.py
         tests/chat_bridge/agent/test_acting_for.py)
fi
burners=()
for _ in 1 2; do
  .venv/bin/python -c 'while True: pass' &
  burners+=($!)
done
trap 'kill "${burners[@]}" 2>/dev/null || true' EXIT
logs=$(mktemp -d)
green=0
for run in $(seq 1 "$runs"); do
  started=$(date +%s)
  # The servers as the test command finds or starts them (scripts/test.sh).
  # One model format (Anthropic's): the OpenAI variants of the stories run the same concurrency and crash code, and
  # the whole suite runs them; here they would only double a run's time.
  if .venv/bin/python -m tests.servers .venv/bin/python -m pytest -q -p no:cacheprovider -k "not openai" \
      "${tests[@]}" >"$logs/run-$run.log" 2>&1; then
    green=$((green + 1))
    outcome=green
  else
    outcome="FAILED (see $logs/run-$run.log)"
  fi
  echo "soak: run $run/$runs $outcome in $(( $(date +%s) - started )) s: $(tail -n 1 "$logs/run-$run.log")"
done
echo "soak: $green of $runs runs green beside two CPU-bound processes"
[ "$green" -eq "$runs" ]
