#!/usr/bin/env bash
# Reliability, part 3 (RELIABILITY.md): a private PostgreSQL cluster stopped under
# load for ALERTWIRE_OUTAGE_SECS (default 30) and started again; SQLite with its
# disk full (a small tmpfs filled with ballast; mounting it takes root) as long.
# The same tests `cargo test` runs with a 5 s outage (the smoke run).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/alertwire/target}"
export ALERTWIRE_OUTAGE_SECS="${ALERTWIRE_OUTAGE_SECS:-30}"
export CI=true
exec scripts/reliability/lib/figures.sh outages::
