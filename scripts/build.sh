#!/usr/bin/env bash
# Builds the release server and the hydrated site (WASM + JS + CSS) with plain
# cargo and wasm-bindgen: no cargo-leptos needed.
#
# The site's files are named by their content (alertwire.<hash>.wasm), so the
# server lets browsers cache them for good; <site>/hash.txt tells the pages
# the names. Each gets a brotli and a gzip copy, sent as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
site="${LEPTOS_SITE_ROOT:-$target_dir/site}"
pkg="$site/pkg"
export LEPTOS_OUTPUT_NAME=alertwire

cargo build --release --locked -p server --bins
cargo build --profile wasm-release --locked -p frontend --target wasm32-unknown-unknown

# The site is made again only when what it is made from changed: the steps
# below take minutes (wasm-opt over every chunk) and give the same files.
wasm_in="$target_dir/wasm32-unknown-unknown/wasm-release/frontend.wasm"
inputs() {
  sha256sum "$wasm_in" style/main.css scripts/build.sh scripts/wasm-opt/package-lock.json \
    server/src/bin/precompress.rs "$(command -v alertwire-wasm-split)"
  wasm-bindgen --version
  if [ -d public ]; then find public -type f -print0 | sort -z | xargs -0 -r sha256sum; fi
}
stamp="$(inputs | sha256sum | cut -c1-16)"
if [ -f "$site/hash.txt" ] && [ "$(cat "$site/.inputs" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
# The module is split at each page's `#[lazy]` view (app/src/routes.rs): the
# main module and one chunk per set of code only some pages use, loaded by
# __wasm_split.*.js (scripts/wasm-split; installed by bootstrap.sh).
alertwire-wasm-split split "$wasm_in" "$staging"
# The name section only serves debuggers: most of the module's bytes.
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --keep-lld-exports --out-dir "$staging" --out-name alertwire "$staging/alertwire_split.wasm"
rm "$staging/alertwire_split.wasm"
# Binaryen (installed by bootstrap.sh) at -O2 with inlining off: 3 to 5 % less
# on the wire after brotli. -Oz and any inlining make the files smaller but less
# compressible (BENCHMARKS.md, "wasm-opt"). The chunks lost their
# target-features section in the split, so the features rustc emits are named.
wasm_opt=scripts/wasm-opt/node_modules/.bin/wasm-opt
opt_flags=(-O2 -ocimfs=0 -aimfs=0 -fimfs=0
  --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int
  --enable-sign-ext --enable-mutable-globals --enable-multivalue
  --enable-reference-types --enable-call-indirect-overlong)
find "$staging" -maxdepth 1 -name '*.wasm' -print0 |
  xargs -0 -P "$(nproc)" -I{} "$wasm_opt" "${opt_flags[@]}" {} -o {}
# Each group's chunks in one file, compressed together (about a quarter less).
alertwire-wasm-split pack "$staging"
# Names the JS, the loader, the packs and the split manifest by content.
split_hashes="$(alertwire-wasm-split name "$staging")"

hash_of() { sha256sum "$1" | cut -c1-16; }
wasm=$(hash_of "$staging/alertwire_bg.wasm")
css=$(hash_of style/main.css)

rm -rf "$pkg" "$site/.inputs"
mkdir -p "$pkg"
mv "$staging/alertwire_bg.wasm" "$pkg/alertwire.$wasm.wasm"
mv "$staging"/*.js "$staging"/*.wasm "$staging"/*.json "$pkg/"
if [ -d "$staging/snippets" ]; then mv "$staging/snippets" "$pkg/"; fi
cp style/main.css "$pkg/alertwire.$css.css"
# Unhashed, for the bare error page served when the database is down.
cp style/main.css "$pkg/alertwire.css"
if [ -d public ]; then cp -R public/. "$site/"; fi
printf '%s\nwasm: %s\ncss: %s\n' "$split_hashes" "$wasm" "$css" >"$site/hash.txt"

"$target_dir/release/precompress" "$pkg"
echo "$stamp" >"$site/.inputs"
