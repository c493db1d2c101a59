#!/usr/bin/env bash
# Runs the integration tests under FILTER one at a time, showing their output,
# then prints the figures they wrote (lines starting FIGURES) and the command.
# Used by the numbered parts (scripts/reliability.sh runs only reliability/*.sh).
set -uo pipefail
filter="$1"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --locked -p server --test integration "$filter" -- --nocapture --test-threads=1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo
echo "Figures ($(date -u +%FT%TZ), $(nproc) cores; $(uptime | sed 's/.*load average/load average/')):"
env | grep '^ALERTWIRE_' | sed 's/^/  /'
grep -o 'FIGURES .*' "$log" | sed 's/^FIGURES /  /'
exit "$status"
