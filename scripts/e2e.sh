#!/usr/bin/env bash
# Runs the Playwright suite in Chromium against the built release server on a
# fresh SQLite database, with two local HTTPS receivers (one answering 200,
# one 401) whose CA the server trusts. A second server, on its own database,
# runs auto-disable.spec.ts with a threshold of seconds and one attempt per
# delivery; the first keeps the defaults, so no other spec meets auto-disable,
# except small bulk batches with a pause, so bulk.spec.ts sees a job's progress.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
site="${LEPTOS_SITE_ROOT:-$target_dir/site}"
bin="$target_dir/release/server"
work="$(mktemp -d)"
port="${ALERTWIRE_E2E_PORT:-3100}"
# The receivers sit beside the server's port, so two checkouts can run the suite at once.
rx_ok=$((port + 101))
rx_fail=$((port + 102))
auto_port=$((port + 3))
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # wait_for <test command...>
  for _ in $(seq 1 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "timed out waiting for: $*" >&2; return 1
}

# Receivers share one data directory, hence one CA; the first one makes it.
receiver_env=(env -u DATABASE_URL ALERTWIRE_SECRET_KEY_FILE="$work/data/secret.key")
"${receiver_env[@]}" "$bin" receive --listen 127.0.0.1:$rx_ok --quiet >"$work/rx-ok.log" 2>&1 &
pids+=($!)
wait_for test -f "$work/data/receiver/ca.pem"
"${receiver_env[@]}" "$bin" receive --listen 127.0.0.1:$rx_fail --status 401 --quiet >"$work/rx-401.log" 2>&1 &
pids+=($!)

env -u DATABASE_URL LEPTOS_SITE_ROOT="$site" \
  DATABASE_URL="sqlite://$work/e2e.db" \
  ALERTWIRE_SECRET_KEY_FILE="$work/secret.key" \
  ALERTWIRE_LISTEN="127.0.0.1:$port" \
  ALERTWIRE_PUBLIC_URL="http://127.0.0.1:$port" \
  ALERTWIRE_EXTRA_CA_CERTS="$work/data/receiver/ca.pem" \
  ALERTWIRE_ALLOWED_TARGETS="127.0.0.0/8,::1/128" \
  ALERTWIRE_BULK_BATCH=5 \
  ALERTWIRE_BULK_PAUSE=400ms \
  "$bin" serve >"$work/server.log" 2>&1 &
pids+=($!)
env -u DATABASE_URL LEPTOS_SITE_ROOT="$site" \
  DATABASE_URL="sqlite://$work/e2e-auto-disable.db" \
  ALERTWIRE_SECRET_KEY_FILE="$work/secret-auto-disable.key" \
  ALERTWIRE_LISTEN="127.0.0.1:$auto_port" \
  ALERTWIRE_PUBLIC_URL="http://127.0.0.1:$auto_port" \
  ALERTWIRE_EXTRA_CA_CERTS="$work/data/receiver/ca.pem" \
  ALERTWIRE_ALLOWED_TARGETS="127.0.0.0/8,::1/128" \
  ALERTWIRE_RETRY_SCHEDULE=0s \
  ALERTWIRE_AUTO_DISABLE_AFTER=10s \
  "$bin" serve >"$work/server-auto-disable.log" 2>&1 &
pids+=($!)
wait_for curl -fsS "http://127.0.0.1:$port/healthz"
wait_for curl -fsS "http://127.0.0.1:$auto_port/healthz"
wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$rx_fail"

cd end2end
if ! ALERTWIRE_E2E_URL="http://127.0.0.1:$port" \
  ALERTWIRE_E2E_RECEIVER="https://localhost:$rx_ok/hook" \
  ALERTWIRE_E2E_FAILING_RECEIVER="https://localhost:$rx_fail/hook" \
  ALERTWIRE_E2E_AUTO_DISABLE_URL="http://127.0.0.1:$auto_port" \
  npx playwright test "$@"; then
  echo "---- server log ----"; tail -n 50 "$work/server.log"
  echo "---- auto-disable server log ----"; tail -n 30 "$work/server-auto-disable.log"
  exit 1
fi
