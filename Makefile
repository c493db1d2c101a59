# Alertwire. `make run` serves the app on SQLite; `make test` runs every test.
# Both install what is missing first (scripts/bootstrap.sh) and are idempotent.

export LEPTOS_OUTPUT_NAME := alertwire
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
export LEPTOS_SITE_ROOT := $(TARGET_DIR)/site

.PHONY: run build test test-rust test-e2e lint bootstrap

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
test-rust:
	cargo test --workspace --locked

test-e2e: build
	@scripts/e2e.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
