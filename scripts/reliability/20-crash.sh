#!/usr/bin/env bash
# Reliability, part 2 (RELIABILITY.md): SIGKILL at a random moment under a steady
# workload, restart; ALERTWIRE_CRASH_RUNS runs (default 100) on SQLite, then on
# PostgreSQL. The same test `cargo test` runs twice per engine (the smoke run).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/alertwire/target}"
export ALERTWIRE_CRASH_RUNS="${ALERTWIRE_CRASH_RUNS:-100}"
# A PostgreSQL that cannot be reached is a failure here, not a skip.
export CI=true
exec scripts/reliability/lib/figures.sh crashes::
