#!/usr/bin/env bash
# RELIABILITY.md section 4, hostile receivers: each misbehaving endpoint's
# attempt outcome and time, and a healthy destination's p99 beside it, with
# 1,000 hostile endpoints, on SQLite and on PostgreSQL.
# (`make test` runs the smoke version: tests/integration/hostile_receivers.rs.)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/alertwire/target}"
cargo build --locked --release -q -p server --bin server --example bench_hostile
bench="$CARGO_TARGET_DIR/release/examples/bench_hostile"
# The hostile endpoints stand for other machines: at nice 19 they take only the
# CPU the server, the healthy receiver and the probes leave (RELIABILITY.md).
nice="${HOSTILE_NICE:-19}"
"$bench" --endpoints "${HOSTILE_ENDPOINTS:-1000}" --hostile-nice "$nice"
"$bench" --endpoints "${HOSTILE_ENDPOINTS:-1000}" --hostile-nice "$nice" --postgres
