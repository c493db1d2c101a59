#![allow(clippy::unwrap_used)]
//! Integration tests: the real application on port 0, against a fresh SQLite
//! file and again against a fresh PostgreSQL database.

mod helpers;

mod accounts;
mod api_keys;
mod cli;
mod destinations;
mod destinations_api;
mod events_api;
mod health;
mod pipeline;
mod processes;
mod receivers;
mod users;
