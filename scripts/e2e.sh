#!/usr/bin/env bash
# Runs the Playwright suite in Chromium against the built release server on a
# fresh SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
site="${LEPTOS_SITE_ROOT:-$target_dir/site}"
work="$(mktemp -d)"
port="${ALERTWIRE_E2E_PORT:-3100}"
log="$work/server.log"

cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

env -u DATABASE_URL LEPTOS_SITE_ROOT="$site" \
  DATABASE_URL="sqlite://$work/e2e.db" \
  ALERTWIRE_SECRET_KEY_FILE="$work/secret.key" \
  ALERTWIRE_LISTEN="127.0.0.1:$port" \
  ALERTWIRE_PUBLIC_URL="http://127.0.0.1:$port" \
  "$target_dir/release/server" serve >"$log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$log"; exit 1; fi
  sleep 0.1
done

cd end2end
if ! ALERTWIRE_E2E_URL="http://127.0.0.1:$port" npx playwright test; then
  echo "---- server log ----"; tail -n 50 "$log"
  exit 1
fi
