#!/usr/bin/env bash
# The long reliability suite (RELIABILITY.md): every part under scripts/reliability/,
# in name order, each printing its figures. `make test` runs only a short smoke run of
# each part (inside `cargo test`). Run one part: scripts/reliability.sh crash
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/alertwire/target}"
scripts/bootstrap.sh --test

status=0
for part in scripts/reliability/*.sh; do
  name="$(basename "$part" .sh)"
  if [ $# -gt 0 ] && [[ " $* " != *" ${name#*-} "* ]] && [[ " $* " != *" $name "* ]]; then
    continue
  fi
  printf '\n==== %s ====\n' "$name"
  if ! "$part"; then
    echo "==== $name FAILED ====" >&2
    status=1
  fi
done
exit $status
