#!/usr/bin/env bash
# Builds the release server and the hydrated site (WASM + JS + CSS) with plain
# cargo and wasm-bindgen: no cargo-leptos needed.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
site="${LEPTOS_SITE_ROOT:-$target_dir/site}"
export LEPTOS_OUTPUT_NAME=alertwire

cargo build --release --locked -p server
cargo build --profile wasm-release --locked -p frontend --target wasm32-unknown-unknown
mkdir -p "$site/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name alertwire \
  "$target_dir/wasm32-unknown-unknown/wasm-release/frontend.wasm"
# With LEPTOS_OUTPUT_NAME set at compile time the page loads <name>.wasm, as
# cargo-leptos names it; wasm-bindgen writes <name>_bg.wasm.
mv -f "$site/pkg/alertwire_bg.wasm" "$site/pkg/alertwire.wasm"
cp style/main.css "$site/pkg/alertwire.css"
if [ -d public ]; then cp -R public/. "$site/"; fi
