// Test support code: a panic is how a test fails (the library denies both).
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests: the real application on port 0, against a fresh SQLite
//! file and again against a fresh PostgreSQL database.

mod helpers;

mod accounts;
mod alerts_api;
mod api_errors;
mod api_keys;
mod audit_log;
mod auto_disable;
mod bulk_redelivery;
mod cli;
mod config_cache;
mod crashes;
mod credentials;
mod delivery_filters;
mod destination_health;
mod destinations;
mod destinations_api;
mod events_api;
mod file_modes;
mod fuzz;
mod health;
mod hostile_receivers;
mod key_roles;
mod live;
mod load_shedding;
mod logs;
mod loopback_names;
mod metrics_token;
mod openapi;
mod outages;
mod outbound_proxy;
mod page_renders;
mod page_weight;
mod pipeline;
mod private_pg;
mod processes;
mod receivers;
mod retention;
mod rotation_grace;
mod security_headers;
mod sign_in_limits;
mod small_fs;
mod users;
mod workload;
