#!/usr/bin/env bash
# Reliability part 1 (RELIABILITY.md "Hostile input"): every fuzz target of
# server/tests/integration/fuzz/ with FUZZ_CASES generated cases (default
# 1,000,000; FUZZ_HTTP_CASES for the live-server target on each engine, default
# the same), then cases and panics per target. The test profile by default
# (what `make test` has built already); FUZZ_RELEASE=1 for the release profile,
# which builds every dependency again first.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/alertwire/target}"
cases="${FUZZ_CASES:-1000000}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

start=$(date +%s)
status=0
profile=()
[ "${FUZZ_RELEASE:-0}" = 1 ] && profile=(--release)
PROPTEST_CASES="$cases" ALERTWIRE_FUZZ_HTTP_CASES="${FUZZ_HTTP_CASES:-$cases}" \
  cargo test --locked "${profile[@]}" -p server --test integration fuzz:: -- --nocapture \
  >"$log" 2>&1 || status=$?

echo "fuzz targets ($cases cases each; $(nproc) cores; $(( $(date +%s) - start )) s with the build):"
grep -E '^fuzz [a-z_ (]' "$log" | grep -v ' failed: ' || true
if [ "$status" -ne 0 ]; then
  grep -E 'panicked|failed:|minimal failing input' "$log" | head -40 >&2 || true
  echo "a fuzz target failed (the whole log: rerun with the same FUZZ_CASES)" >&2
fi
exit "$status"
