//! Server functions: each checks the session and role, calls the backend,
//! and returns its result. Nothing else lives here.

pub mod account;
pub mod api_keys;
pub mod audit;
pub mod deliveries;
pub mod destinations;
pub mod jobs;
pub mod notifications;
pub mod rules;
pub mod users;

#[cfg(feature = "ssr")]
pub(crate) mod context;
