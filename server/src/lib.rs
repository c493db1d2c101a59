//! The Alertwire server: configuration, HTTP edge, services, storage.

pub mod cli;
pub mod commands;
pub mod configuration;
pub mod http;
pub mod secret_key;
pub mod services;
pub mod sessions;
pub mod startup;
pub mod store;
pub mod telemetry;
