#!/usr/bin/env bash
# RELIABILITY.md section 5, load shedding: the pages' p99 and sign-in under the
# full delivery load, and what ALERTWIRE_MAX_QUEUED refuses (nothing accepted
# may be dropped), on SQLite and on PostgreSQL.
# (`make test` runs the smoke version: tests/integration/load_shedding.rs.)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/alertwire/target}"
cargo build --locked --release -q -p server --bin server --example bench_shedding
bench="$CARGO_TARGET_DIR/release/examples/bench_shedding"
"$bench" --max-queued "${SHEDDING_MAX_QUEUED:-20000}" --seconds "${SHEDDING_SECONDS:-30}"
"$bench" --max-queued "${SHEDDING_MAX_QUEUED:-20000}" --seconds "${SHEDDING_SECONDS:-30}" --postgres
