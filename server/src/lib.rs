//! The Alertwire server: configuration, HTTP edge, services, storage.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod configuration;
pub mod crypto;
pub mod delivery;
pub mod domain;
pub mod http;
pub mod ids;
pub mod receiver;
pub mod secret_key;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;
