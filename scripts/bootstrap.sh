#!/usr/bin/env bash
# Installs what building (and, with --test, testing) Alertwire needs and this
# machine lacks. Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen` pin in Cargo.toml
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf '==> %s\n' "$*"; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} from Debian"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust with rustup (https://rustup.rs) first" >&2
  exit 1
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --quiet
fi

# The splitter of the hydrate bundle (scripts/wasm-split, used by build.sh),
# rebuilt when its sources change.
split_stamp="${CARGO_HOME:-$HOME/.cargo}/alertwire-wasm-split.stamp"
split_sources="$(cat scripts/wasm-split/Cargo.toml scripts/wasm-split/Cargo.lock scripts/wasm-split/src/*.rs | sha256sum | cut -c1-16)"
if ! command -v alertwire-wasm-split >/dev/null 2>&1 || [ "$(cat "$split_stamp" 2>/dev/null)" != "$split_sources" ]; then
  say "installing alertwire-wasm-split (about a minute)"
  cargo install --locked --quiet --force --path scripts/wasm-split
  echo "$split_sources" >"$split_stamp"
fi

# Binaryen's wasm-opt from the npm registry (compiled to WASM, run by Node):
# build.sh optimises the hydrate bundle with it.
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
wasm_opt_dir=scripts/wasm-opt
if [ ! -x "$wasm_opt_dir/node_modules/.bin/wasm-opt" ] || [ "$wasm_opt_dir/package-lock.json" -nt "$wasm_opt_dir/node_modules/.package-lock.json" ]; then
  say "installing wasm-opt (npm ci in $wasm_opt_dir)"
  (cd "$wasm_opt_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

[ "$want_test" = 1 ] || exit 0

apt_install chromium chromium-driver

# Playwright drives Debian's Chromium; it must not try to download its own.
if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing the browser-test packages (npm ci)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# Python packages used by the integration tests' signature and OpenAPI checks, in a
# project-local virtual environment: stock Debian 12 refuses a system-wide `pip install`
# (PEP 668), and the tests find `.venv/bin/python` on their own.
venv=.venv
if [ -f requirements-test.txt ] && ! "$venv/bin/python" -c 'import standardwebhooks, openapi_spec_validator' >/dev/null 2>&1; then
  command -v python3 >/dev/null 2>&1 || apt_install python3
  if [ ! -x "$venv/bin/pip" ]; then
    rm -rf "$venv"
    # Debian's python3 makes venvs only with python3-venv (it ships ensurepip).
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      apt_install python3-venv
      python3 -m venv "$venv"
    fi
  fi
  say "installing Python test packages into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
fi
