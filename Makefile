# Alertwire. `make run` serves the app on SQLite; `make test` runs every test.
# Both install what is missing first (scripts/bootstrap.sh) and are idempotent.

export LEPTOS_OUTPUT_NAME := alertwire
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
export LEPTOS_SITE_ROOT := $(TARGET_DIR)/site

.PHONY: run build test test-rust test-e2e lint bootstrap bench bench-page reliability

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@scripts/build.sh

run: build
	$(TARGET_DIR)/release/server serve

test:
	@scripts/bootstrap.sh --test
	@$(MAKE) --no-print-directory test-rust
	@scripts/build.sh
	@scripts/e2e.sh

# Unit and integration tests; the integration suite runs on SQLite and PostgreSQL.
# Not `--workspace`: building `frontend` in the same run would switch on app's
# `hydrate` feature next to `ssr` (feature unification) and change the server.
test-rust:
	cargo test --locked -p app -p server
	cargo test --locked --manifest-path scripts/wasm-split/Cargo.toml

test-e2e: build
	@scripts/e2e.sh

# The delivery engine benchmark (BENCHMARKS.md). `make bench ARGS=--postgres` for PostgreSQL.
bench:
	cargo build --locked --release -p server --bin server --example bench_deliveries
	$(TARGET_DIR)/release/examples/bench_deliveries $(ARGS)

# Bytes on the wire for a first and a second visit of a page (BENCHMARKS.md).
bench-page: build
	cargo build --locked --release -p server --example bench_page_weight
	$(TARGET_DIR)/release/examples/bench_page_weight

# The long reliability suite (RELIABILITY.md); `make test` runs a smoke run of each part.
# One part: `make reliability PARTS=crash`.
reliability:
	@scripts/reliability.sh $(PARTS)

lint:
	cargo fmt --all -- --check
	cargo clippy --locked -p app -p server --all-targets -- -D warnings
	cargo clippy --locked -p frontend --target wasm32-unknown-unknown -- -D warnings
	cd scripts/wasm-split && cargo fmt -- --check && cargo clippy --locked --all-targets -- -D warnings
